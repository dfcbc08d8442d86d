"""RFC 9457 problem responses for every error the intake answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from schemas.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    Problem,
    field_errors_from_validation,
    json_pointer,
)

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(title)
        self.problem = Problem(title=title, status=status, detail=detail, errors=list(errors))
        if code is not None:
            self.problem.type = f"urn:engage-orders:problem:{code}"
        self.headers = headers or {}


def format_error(errors: Sequence[FieldError]) -> ProblemError:
    return ProblemError(
        400,
        "Bad Request",
        "The request body does not follow the Engage v3 format; nothing was stored.",
        errors,
        code="FormatError",
    )


def body_validation_error(error: ValidationError) -> ProblemError:
    return format_error(field_errors_from_validation(error))


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def send_problem(error: ProblemError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with `error` from an ASGI middleware, outside the app's exception handlers."""
    await problem_response(error.problem, error.headers)(scope, receive, send)


async def _problem_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(error.problem, error.headers)


async def _request_validation(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        FieldError(
            path=json_pointer(item["loc"]),
            code="InvalidParameter",
            message=str(item.get("msg", "invalid")),
        )
        for item in error.errors()
    ]
    return problem_response(invalid_parameters(errors))


def invalid_parameters(errors: Sequence[FieldError]) -> Problem:
    """400 for path, query or header parameters FastAPI refused (`/query/count`)."""
    return Problem(title="Bad Request", status=400, errors=list(errors))


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    problem = Problem(
        title=_title(error.status_code), status=error.status_code, detail=error.detail
    )
    return problem_response(problem, dict(error.headers or {}))


async def _database_down(_request: Request, error: Exception) -> JSONResponse:
    log.error("operational database unavailable: %s", type(error).__name__)
    return problem_response(DATABASE_DOWN, {"Retry-After": "10"})


DATABASE_DOWN = Problem(
    type="urn:engage-orders:problem:DatabaseUnavailable",
    title="Service Unavailable",
    status=503,
    detail="The operational database is unavailable; nothing was stored. Retry later.",
)
"""The answer while the operational database cannot be reached (also the OpenAPI example)."""


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    # The message is not logged: it may quote a payload.
    log.error("unhandled %s", type(error).__name__, exc_info=False)
    problem = Problem(title="Internal Server Error", status=500, detail="Unexpected error.")
    return problem_response(problem)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(Exception, _unexpected)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
