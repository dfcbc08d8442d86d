"""The OpenAPI document served at `/openapi.json` (and browsable at `/docs`).

FastAPI derives paths, parameters and response models from the routes; ingest_api/api_docs adds
what it cannot: request bodies the handlers read themselves, examples of every request and answer,
the scope each operation needs, and the errors all operations share.

Errors are RFC 9457 problem documents (`application/problem+json`) everywhere, including
request validation, which FastAPI would otherwise document as a 422 `application/json`
`HTTPValidationError` it never sends here. Clients and fuzzers (tests/api/test_fuzzing.py) read
the statuses and media types from this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ingest_api.api_docs import TAGS
from ingest_api.api_docs.render import document_operations
from schemas.problems import Problem

API_PREFIX = "/api/v3"
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_STATUSES = {
    400: "Format error: nothing was stored; `errors[].path` names each field (JSON pointer).",
    401: "No API key, or an unknown or revoked one.",
    403: "The API key lacks the scope this operation needs.",
    404: "No such resource.",
    409: "Conflict, e.g. a request with the same Idempotency-Key is being answered.",
    413: "The body is larger than the limit.",
    415: "The Content-Type does not match the body's kind.",
    422: "Well-formed but refused, e.g. a failed job or a reused Idempotency-Key.",
    429: "The API key's rate limit is used up; retry after `Retry-After` seconds.",
    503: "The operational database is unavailable; nothing was stored.",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in PROBLEM_STATUSES.items()
}
"""Declared on every router (app.include_router(..., responses=PROBLEM_RESPONSES))."""
DESCRIPTION = """\
Send your API key in the `apikey` header (**Authorize** above). Writes of orders, receipts and
registers are asynchronous: `202 Accepted` means the body is durably stored, and `Location` names
the job to poll. Errors are RFC 9457 problem documents whose `errors[].path` are JSON pointers
into the request. Every example below belongs to one story: Lena Berg's web order
WEB-2025-000481, from creation to her receipts.
"""


def install_openapi(app: FastAPI) -> None:
    """Serve the document `_build` makes, built once, when it is first asked for (rendering
    every example is work the start of an intake worker need not do)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _build(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, errors as problem documents, completed by ingest_api/api_docs."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
        tags=TAGS,
    )
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(API_PREFIX):
            for operation in operations.values():
                _problems_as_problem_json(operation.get("responses", {}))
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    document_operations(schema, app.routes)
    return schema


def _problems_as_problem_json(responses: dict[str, Any]) -> None:
    """Error answers are problem documents; a description the route gave is kept."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for status, response in responses.items():
        if status.isdigit() and int(status) in PROBLEM_STATUSES:
            response["content"] = {PROBLEM_MEDIA_TYPE: problem}
            response.setdefault("description", PROBLEM_STATUSES[int(status)])
