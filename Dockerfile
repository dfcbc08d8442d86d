# syntax=docker/dockerfile:1.7
# The engage-orders image. The intake, the migration job, the Dagster code location (gRPC
# server) and every run worker pod start from it, so all of them run the same code. It is built
# from uv.lock: it holds exactly the versions CI tested. Build from the repository root:
#   docker build -t engage-orders:$(git rev-parse --short HEAD) .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first: this layer is reused until the lock file changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra kubernetes --no-install-project
# The product (tests/, bench/ and docs/ stay out). tests/deploy/test_image.py installs these same
# paths the same way, so a package missing here fails CI.
COPY README.md workspace.yaml ./
COPY ingest_api ingest_api
COPY schemas schemas
COPY storage storage
COPY assets assets
COPY pipelines pipelines
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra kubernetes \
    && python -m compileall -q ingest_api schemas storage assets pipelines

FROM ${PYTHON_IMAGE}
# A fixed, unprivileged user: the Kubernetes manifests run as 10001 with a read-only root file
# system, so the only writable places are the volumes mounted at /tmp and ENGAGE_HOME.
RUN useradd --system --uid 10001 --gid 0 --home-dir /var/lib/engage --create-home engage
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENGAGE_HOME=/var/lib/engage
WORKDIR /app
USER 10001
EXPOSE 8000 3000 3030
# No ENTRYPOINT: Dagster's Helm chart starts the code location with `args` alone.
CMD ["engage-orders", "serve", "--host", "0.0.0.0", "--port", "8000"]
