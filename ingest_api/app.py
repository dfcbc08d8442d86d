"""The intake: `create_app(settings)` builds the FastAPI application."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from ingest_api.access_log import AccessLogMiddleware
from ingest_api.api_key_cache import ApiKeyCache
from ingest_api.body_timeout import BodyTimeoutMiddleware
from ingest_api.errors import install_error_handlers
from ingest_api.idempotency import IdempotencyMiddleware, purge_idempotency_keys
from ingest_api.landing import GroupCommitter
from ingest_api.metrics import IntakeMetrics
from ingest_api.openapi import PROBLEM_RESPONSES, install_openapi
from ingest_api.rate_limit import RateLimiter
from ingest_api.routes import (
    actions,
    articles,
    communications,
    contacts,
    gdpr,
    health,
    integration_log,
    loyalty,
    order_jobs,
    orders,
    receipts,
    segments,
    stores,
)
from schemas.automations import load_automations
from schemas.tables import BRONZE_TABLES
from storage.apikeys import ensure_bootstrap_key
from storage.db import migrate, session_scope
from storage.lake import Lake
from storage.settings import EngageSettings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3"


def prepare_storage(settings: EngageSettings) -> None:
    """Migrate the operational database and create the bootstrap key, if configured."""
    migrate(settings.resolved_database_url)
    if settings.bootstrap_api_key is not None:
        with session_scope(settings.resolved_database_url) as session:
            ensure_bootstrap_key(session, settings.bootstrap_api_key.get_secret_value())


def _freeze_startup_objects() -> None:
    """Exempt everything that exists once the intake has started from garbage collection.

    The modules, the app and its routes are a few hundred thousand objects that live as long as
    the process. Each full collection walked all of them, and under load (requests holding
    objects across their group-commit wait get promoted) full collections came often: the
    intake spent a third of its time in the collector. Frozen, they are never scanned again.
    Only for a process that serves one app until it exits: frozen objects that later become
    garbage in a cycle are never collected.
    """
    gc.collect()
    gc.freeze()


def served_app() -> FastAPI:
    """The intake as `engage-orders serve` runs it: a process of its own, so it freezes its
    start-up objects (see `_freeze_startup_objects`); tests build many apps with `create_app`."""
    return create_app(freeze_after_start=True)


def create_app(
    settings: EngageSettings | None = None, *, freeze_after_start: bool = False
) -> FastAPI:
    """The intake application.

    The automations configuration is loaded here, before anything is served: an invalid file
    raises `AutomationsError` listing every problem, so a broken configuration stops the intake
    at start instead of refusing actions one by one later.
    """
    settings = settings or EngageSettings()
    automations = load_automations(settings.automations_path)
    automations.require_channels(
        {"smtp": settings.smtp_host is not None, "webhook": settings.webhook_url is not None},
        str(settings.automations_path or "the default automations"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_storage(settings)
        lake = Lake(settings.resolved_lake_uri)
        committers = {
            spec.name: GroupCommitter(
                lake,
                settings.resolved_database_url,
                spec,
                max_rows=settings.group_commit_max_rows,
                max_wait_seconds=settings.group_commit_max_wait_ms / 1000,
                metrics=app.state.metrics,
            )
            for spec in BRONZE_TABLES
        }
        for committer in committers.values():
            await committer.start()
        app.state.committers = committers
        purging = asyncio.create_task(purge_idempotency_keys(settings.resolved_database_url))
        if freeze_after_start:
            _freeze_startup_objects()
        try:
            yield
        finally:
            purging.cancel()
            for committer in committers.values():
                await committer.stop()

    # /docs and /redoc with Swagger UI and ReDoc served from the package, not from a CDN: they
    # render on a machine without internet access (tests/browser/ opens /docs offline).
    app = FastAPIOffline(
        title="engage-orders",
        version="3",
        summary="Orders and transactions intake, compatible with the Engage Orders v3 API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.api_keys = ApiKeyCache(settings.api_key_cache_seconds)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.automations = automations
    app.state.metrics = IntakeMetrics()
    app.add_middleware(
        IdempotencyMiddleware,
        database_url=settings.resolved_database_url,
        max_body_bytes=max(settings.max_body_bytes, settings.import_max_body_bytes),
    )
    app.add_middleware(BodyTimeoutMiddleware, seconds=settings.body_timeout_seconds)
    app.add_middleware(AccessLogMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    # The jobs router goes first so that /orders/jobs is not read as an order called "jobs".
    for router in (
        order_jobs.router,
        orders.router,
        actions.router,
        communications.router,
        integration_log.router,
        contacts.router,
        gdpr.router,
        articles.router,
        stores.router,
        receipts.router,
        loyalty.router,
        segments.router,
    ):
        app.include_router(router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    app.include_router(health.router)
    install_openapi(app)
    return app
