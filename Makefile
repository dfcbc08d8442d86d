# Developer entry points. A fresh machine needs only python3 (with venv and pip), make, git, Node.js
# with npm (the benchmarks' load generator, the tests' Azure storage emulator), network access to
# PyPI and the npm registry, and for `make test` a Debian (or Ubuntu) system with apt-get, as root
# or with sudo, and access to its package archive: the browser tests' Chromium is Debian's
# `chromium` package, which `make test` installs when it is missing. uv is bootstrapped into
# .tools/ when it is not on PATH.

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

# The benchmarks' HTTP load generator (autocannon, pinned in bench/package-lock.json); the test
# suite runs the benchmark harness at tiny sizes, so `make test` installs it too.
BENCH_TOOLS := bench/node_modules/.installed
# Azurite, Microsoft's Azure Blob Storage emulator (pinned in tests/emulators/package-lock.json),
# for the tests of a lake on az://.
TEST_EMULATORS := tests/emulators/node_modules/.installed
# The browser tests (tests/browser/) drive Debian's Chromium through Playwright's Python package,
# whose wheel ships its driver: never `playwright install`, which downloads a browser build. Set
# CHROMIUM to use another Chromium binary (the tests read it too).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: help venv bytecode browser run test lint format lock clean bench bench-quick bench-setup soak

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## Create or update .venv from uv.lock (fast when up to date)

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as in containers and on
# CI machines), every process would otherwise compile Dagster, polars and the rest from source
# on each start: 9.5 s instead of 4 s to load the Dagster definitions, paid by every run worker.
$(VENV_STAMP): uv.lock pyproject.toml | $(UV_PREREQ)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --all-extras --compile-bytecode
	touch $@

# The product's own packages are installed editable, so the sync above does not compile them;
# compileall rewrites only what changed (a fraction of a second when nothing did).
PACKAGES := ingest_api schemas assets pipelines storage bench

bytecode: venv ## Compile the product's modules (fast when up to date)
	@$(VENV)/bin/python -m compileall -q -j 0 $(PACKAGES)

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

run: bytecode ## Run intake (:8000), Dagster UI (:3000) and daemon; Ctrl-C stops all (RUN_ARGS=...)
	$(VENV)/bin/engage-orders run $(RUN_ARGS)

# Most tests wait on servers, subprocesses and databases, so more workers than cores pays off.
# Work stealing: a worker that runs out of tests takes pending ones from the others, instead of
# waiting while one worker finishes a long queue of slow end-to-end tests (4 minutes at the end
# of a 22-minute run).
TEST_WORKERS ?= 4

test: lint bytecode $(BENCH_TOOLS) $(TEST_EMULATORS) $(CHROMIUM) ## Lint, check formatting, run the suite in TEST_WORKERS processes (PYTEST_ARGS=...)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

$(BENCH_TOOLS): bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund --loglevel=error
	touch $@

$(TEST_EMULATORS): tests/emulators/package-lock.json
	npm ci --prefix tests/emulators --no-audit --no-fund --loglevel=error
	touch $@

browser: $(CHROMIUM) ## Install Debian's chromium for the browser tests (apt-get; nothing when present)

# A file target: nothing to do (no apt-get at all) once the binary is there. The package lists are
# updated only when they do not know chromium, or when the install fails on stale lists.
$(CHROMIUM):
	install="$(APT_GET) install -y -qq --no-install-recommends chromium"; \
	if apt-cache show chromium >/dev/null 2>&1; then \
		$$install || { $(APT_GET) update -qq && $$install; }; \
	else \
		$(APT_GET) update -qq && $$install; \
	fi
	@test -x $@ || { echo "$@ is still missing after installing chromium" >&2; exit 1; }

bench-setup: bytecode $(BENCH_TOOLS) ## Install the benchmarks' load generator (Node.js's npm needed)

bench: bench-setup ## Full benchmark run (about 45 minutes): bench/out/report.json and report.md
	$(VENV)/bin/python -m bench --mode full

bench-quick: bench-setup ## Quick benchmark run (a few minutes), 10x smaller
	$(VENV)/bin/python -m bench --mode quick

soak: bench-setup ## 30-minute soak at a steady rate: bench/out/soak/report.json and report.md
	$(VENV)/bin/python -m bench --mode full --only soak --out bench/out/soak

lint: venv ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## Format the code and apply safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: | $(UV_PREREQ) ## Re-resolve uv.lock after changing dependencies in pyproject.toml
	$(UV) lock

clean: ## Remove the venv, bootstrap tools and caches (keeps the data in .engage/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache bench/out bench/node_modules \
		tests/emulators/node_modules *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
