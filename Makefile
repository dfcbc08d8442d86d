# Developer entry points. A fresh machine needs only python3 (with venv and pip), make, git and
# network access to PyPI: uv is bootstrapped into .tools/ when it is not on PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
# The stamp lives inside the venv so that deleting .venv also forces a fresh sync.
VENV_STAMP := $(VENV)/.engage-synced
TOOLS := .tools
PYTEST_ARGS ?=
RUN_ARGS ?=

# Prefer a uv on PATH; otherwise use (and, if needed, install) the pinned one in .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
UV_PREREQ := $(if $(filter $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/bin/uv)

.PHONY: help venv run test lint format lock clean bench

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## Create or update .venv from uv.lock (fast when up to date)

$(VENV_STAMP): uv.lock pyproject.toml | $(UV_PREREQ)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen
	touch $@

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

run: venv ## Run intake (:8000), Dagster UI (:3000) and daemon; Ctrl-C stops all (RUN_ARGS=...)
	$(VENV)/bin/engage-orders run $(RUN_ARGS)

# Most tests wait on servers, subprocesses and databases, so more workers than cores pays off.
TEST_WORKERS ?= 4

test: lint ## Lint, check formatting, run the suite in TEST_WORKERS processes (PYTEST_ARGS=...)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: venv ## Gold rebuild and segment previews at 1M orders / 5M lines (bench/README.md)
	$(VENV)/bin/python -m bench.gold_rebuild

lint: venv ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## Format the code and apply safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: | $(UV_PREREQ) ## Re-resolve uv.lock after changing dependencies in pyproject.toml
	$(UV) lock

clean: ## Remove the venv, bootstrap tools and caches (keeps the data in .engage/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache bench/out *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
