"""Access log and request metrics without personal data.

Uvicorn's own access log prints query strings, and `GET /contacts/id?email=...` would put an
e-mail address in the log. This one logs method, route, status and duration only: the route as
declared (`/api/v3/orders/{orderId}`), since an order or contact id in a path would outlive the
erasure of its contact in every log archive.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.metrics import IntakeMetrics

log = logging.getLogger("engage.access")


class AccessLogMiddleware:
    """Logs each request and counts it in the intake's metrics, by route template."""

    def __init__(self, app: ASGIApp, metrics: IntakeMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            log.info("%s %s %d %.1fms", scope["method"], route, status, elapsed * 1000)
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], route, status, elapsed)


def _route(scope: Scope) -> str:
    """The path with each path parameter replaced by its name, e.g. `/api/v3/orders/{orderId}`.

    Built from the matched parameters rather than the route object, whose path may lack the
    prefix it was included under; an unmatched request logs no path at all.
    """
    if "route" not in scope:
        return "(no route)"
    names = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = scope["path"].split("/")
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in segments)
