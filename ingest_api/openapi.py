"""The OpenAPI document: every operation lists the problem documents it may answer with.

Errors are RFC 9457 problem documents (`application/problem+json`) everywhere, including
request validation, which FastAPI would otherwise document as a 422 `application/json`
`HTTPValidationError` it never sends here. Clients and fuzzers (tests/api/test_fuzzing.py) read
the statuses and media types from this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from schemas.problems import Problem

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


def install_openapi(app: FastAPI) -> None:
    """Serve the schema with the problem documents under their own media type."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    _problems_as_problem_json(operation.get("responses", {}))
            schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
            schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problems_as_problem_json(responses: dict[str, Any]) -> None:
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for status, response in responses.items():
        if status.isdigit() and int(status) in PROBLEM_STATUSES:
            response["content"] = {PROBLEM_MEDIA_TYPE: problem}
            response["description"] = PROBLEM_STATUSES[int(status)]
