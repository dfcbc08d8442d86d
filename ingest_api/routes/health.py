"""Probes and metrics for operators: `GET /healthz`, `GET /readyz`, `GET /metrics`.

Outside `/api/v3` and without an API key, as load balancers, Kubernetes probes and Prometheus
call them. They reveal no data: a status per dependency, and counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from schemas.tables import ORDER_CHANGES
from storage.db import engine_for
from storage.lake import Lake
from storage.settings import EngageSettings

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_S = 5.0


@router.get("/healthz", summary="Liveness: the intake process answers")
async def healthz() -> JSONResponse:
    """200 while the process serves requests; says nothing about its dependencies (that is
    `/readyz`), so a database outage does not get the intake restarted."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    summary="Readiness: the operational database and the lake are reachable",
    responses={503: {"description": "A dependency is unreachable; `checks` says which."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the intake can land payloads: the operational database answers a query and the
    bronze order table can be read. 503 otherwise, naming the failing checks."""
    settings: EngageSettings = request.app.state.settings
    checks = {
        "database": await _check(_database_answers, settings),
        "lake": await _check(_lake_readable, settings),
    }
    ready = all(outcome == "ok" for outcome in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    """Requests by route template and status, their latency, landed rows, group-commit batch
    sizes and landing failures (ingest_api/metrics.py)."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


async def _check(probe: Callable[[EngageSettings], None], settings: EngageSettings) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(probe, settings), CHECK_TIMEOUT_S)
    except TimeoutError:
        return "timeout"
    except Exception as error:  # any failure means not ready; the message may hold a URL
        log.warning("readiness check failed: %s", type(error).__name__)
        return "unreachable"
    return "ok"


def _database_answers(settings: EngageSettings) -> None:
    with engine_for(settings.resolved_database_url).connect() as connection:
        connection.execute(text("SELECT 1 FROM alembic_version")).scalar_one()


def _lake_readable(settings: EngageSettings) -> None:
    """Loads the bronze order table without creating anything (`Lake.table` would create it)."""
    if not Lake(settings.resolved_lake_uri).exists(ORDER_CHANGES):
        raise LookupError("the bronze order table is missing")
