"""Examples of the operator endpoints (probes, metrics) and the integration log."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import page
from ingest_api.api_docs.model import Answer, Example, OperationDoc, Operations
from ingest_api.api_docs.problems import count_too_large, since_without_offset
from ingest_api.api_docs.shapes import IntegrationLogEntry, Liveness, Readiness
from schemas.paging import Page

METRICS = """\
# HELP engage_http_requests_total HTTP requests answered, by method, route template and status.
# TYPE engage_http_requests_total counter
engage_http_requests_total{method="POST",route="/api/v3/orders",status="202"} 48213.0
engage_http_requests_total{method="GET",route="/api/v3/orders/jobs/{jobId}",status="200"} 9120.0
# TYPE engage_landed_rows_total counter
engage_landed_rows_total{table="bronze/order_changes"} 48213.0
"""


def _integration_log() -> OperationDoc:
    warning = {
        "id": 1,
        "type": "Receipts",
        "severity": "Warning",
        "code": "LineSumMismatch",
        "message": "/totalGrossPrice: 1306.0 differs from the lines' grossPaidPrice, returns "
        "negative, which add up to 1257.0.",
        "jobId": story.PURCHASE_JOB_ID,
        "orderId": None,
        "createdAt": "2025-11-22T17:06:56.564839+00:00",
    }
    missing = {
        "id": 2,
        "type": "Orders",
        "severity": "Warning",
        "code": "ArticleMissing",
        "message": "Article is missing",
        "jobId": "3c9a1f72-8e4d-4b05-a6c2-d17e9f0b8a43",
        "orderId": "WEB-2025-000502",
        "createdAt": "2025-11-23T10:14:09.213577+00:00",
    }
    return OperationDoc(
        {
            200: Answer(
                {"page": Example("Warnings, newest first", page([missing, warning]))},
                Page[IntegrationLogEntry],
            ),
            400: Answer({"since": since_without_offset(), "count": count_too_large()}),
        },
        parameters={"type": "Orders", "severity": "Warning"},
    )


def _readyz() -> OperationDoc:
    ready = {"status": "ready", "checks": {"database": "ok", "lake": "ok"}}
    down = {"status": "unavailable", "checks": {"database": "ok", "lake": "unreachable"}}
    return OperationDoc(
        {
            200: Answer({"ready": Example("Ready", ready)}, Readiness),
            503: Answer({"unavailable": Example("The lake is unreachable", down)}, Readiness),
        }
    )


def operations() -> Operations:
    return {
        ("GET", "/api/v3/integration-log"): _integration_log(),
        ("GET", "/healthz"): OperationDoc(
            {200: Answer({"ok": Example("Serving", {"status": "ok"})}, Liveness)}
        ),
        ("GET", "/readyz"): _readyz(),
        ("GET", "/metrics"): OperationDoc(
            {200: Answer({"metrics": Example("Excerpt", METRICS)}, media_type=CONTENT_TYPE_LATEST)}
        ),
    }
