"""Problem-document examples, built with the constructors the API answers with.

Errors every operation shares (no key, a missing scope, the rate limit, a database outage, a body
too large or not JSON) are rendered from the very functions that raise them, so their examples
cannot drift from the answers. Per-operation examples (a 400 naming fields, a 404) are written
out in the resource modules and checked against real answers by the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest_api.accepted import landing_failed
from ingest_api.api_docs.model import Example, Replay
from ingest_api.body import not_json, too_large
from ingest_api.deps import (
    contact_not_found,
    invalid_api_key,
    missing_api_key,
    missing_scope,
    rate_limited,
)
from ingest_api.errors import DATABASE_DOWN, ProblemError, format_error, invalid_parameters
from ingest_api.routes.registers import invalid_body
from schemas.paging import MAX_COUNT
from schemas.problems import FieldError, Problem
from storage.apikeys import Scope
from storage.settings import EngageSettings

Error = tuple[str, str, str]
"""(JSON pointer, code, message) of one field error."""

OFFSET_REQUIRED = "Date must carry a UTC offset, e.g. 2025-12-03T15:15:19+01:00."
UNKNOWN_FIELD = "Unknown field: the Engage v3 format does not define it."
UNKNOWN_STATUS = "Unknown status 'Shipped'; one of: InProgress, Completed, Cancelled."
"""With the default statuses: the examples send `Shipped`, a common external status."""


def _value(problem: Problem | ProblemError) -> dict[str, Any]:
    """The problem document exactly as the API sends it."""
    if isinstance(problem, ProblemError):
        problem = problem.problem
    return problem.model_dump(exclude_none=True)


def _errors(errors: Sequence[Error]) -> list[FieldError]:
    return [FieldError(path=path, code=code, message=message) for path, code, message in errors]


def format_problem(*errors: Error) -> dict[str, Any]:
    """A 400 `FormatError` of a JSON body (ingest_api/errors.py `format_error`)."""
    return _value(format_error(_errors(errors)))


def register_problem(what: str, *errors: Error) -> dict[str, Any]:
    """A 400 of an article or store register call, `what` naming its items."""
    return _value(invalid_body(_errors(errors), what))


def parameter_problem(*errors: Error) -> dict[str, Any]:
    """A 400 for query or path parameters FastAPI refused."""
    return _value(invalid_parameters(_errors(errors)))


def problem(
    status: int, title: str, code: str, detail: str, *errors: Error, **extra: Any
) -> dict[str, Any]:
    """Any other problem document; `extra` adds members (a failed job's `jobId`)."""
    error = ProblemError(status, title, detail, _errors(errors), code=code)
    return {**_value(error), **extra}


def not_found(code: str, detail: str, replay: Replay, summary: str) -> Example:
    """The 404 for an id that names nothing, with the request that asks for it."""
    return Example(summary, problem(404, "Not Found", code, detail), replay=replay)


def unknown_contact(replay: Replay, summary: str = "No live contact has this id") -> Example:
    """The 404 of every operation that names a contact no live contact has: the routes' own
    `contact_not_found`, so the example cannot drift from the answer."""
    return Example(summary, _value(contact_not_found()), replay=replay)


def count_too_large(**query: str) -> Example:
    """Every paged list refuses a page size over the maximum the same way; `query` holds the
    list's required parameters, if any."""
    value = parameter_problem(
        ("/query/count", "InvalidParameter", f"Input should be less than or equal to {MAX_COUNT}")
    )
    return Example(
        f"Page size over {MAX_COUNT}",
        value,
        f"`count` is at most {MAX_COUNT}; page with `offset` and the `next` link.",
        Replay(query={**query, "count": "500"}),
    )


def since_without_offset() -> Example:
    """`since` without an offset is refused, as a body date without one is."""
    return Example(
        "`since` without an offset",
        parameter_problem(("/query/since", "InvalidParameter", "Input should have timezone info")),
        "Give `since` as ISO 8601 with an offset, e.g. 2025-11-20T00:00:00+01:00.",
        Replay(query={"since": "2025-11-20T00:00:00"}),
    )


def unauthorized() -> dict[str, Example]:
    return {
        "MissingApiKey": Example(
            "No API key", _value(missing_api_key()), "Send the key in the `apikey` header."
        ),
        "InvalidApiKey": Example(
            "Unknown or revoked key", _value(invalid_api_key()), "Ask for a new key."
        ),
    }


def forbidden(scopes: tuple[Scope, ...]) -> dict[str, Example]:
    description = "The key is valid but holds neither this scope nor `admin`."
    return {"MissingScope": Example("Scope missing", _value(missing_scope(scopes)), description)}


def settings_default(name: str) -> Any:
    """The shipped default of a setting, as the documented examples assume it."""
    return EngageSettings.model_fields[name].default


def too_many_requests() -> dict[str, Example]:
    """With the default limits; `Retry-After` says when to try again."""
    error = rate_limited(
        settings_default("rate_limit_per_s"), settings_default("rate_limit_burst"), "1"
    )
    description = "Back off for `Retry-After` seconds; limits are per API key (and process)."
    return {"RateLimited": Example("Rate limit used up", _value(error), description)}


def unavailable(*, lands: bool) -> dict[str, Example]:
    """A database outage, and for writes landed in bronze a failed landing: nothing stored."""
    examples = {
        "DatabaseUnavailable": Example(
            "Operational database unavailable", _value(DATABASE_DOWN), "Retry later."
        )
    }
    if lands:
        examples["LandingFailed"] = Example(
            "The lake could not store the body", _value(landing_failed()), "Retry later."
        )
    return examples


def body_too_large(max_bytes: int) -> dict[str, Example]:
    return {"PayloadTooLarge": Example("Body too large", _value(too_large(max_bytes)))}


def not_json_body() -> dict[str, Example]:
    example = Example(
        "Not JSON",
        _value(not_json()),
        "The `Content-Type` is not JSON.",
        Replay(body="orderId=WEB-2025-000481", content_type="application/x-www-form-urlencoded"),
    )
    return {"UnsupportedMediaType": example}
