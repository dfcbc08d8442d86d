"""Reading and validating JSON request bodies.

Bodies are read as bytes and validated with pydantic's JSON parser directly: it is strict about
types in a way FastAPI's own body handling is not, it is fast, and the raw bytes are what we land.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from ingest_api.duplicate_members import repeated_member
from ingest_api.errors import ProblemError, body_validation_error, format_error
from schemas.problems import FieldError

ModelT = TypeVar("ModelT", bound=BaseModel)

JSON_MEDIA_TYPES = ("application/json",)


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in JSON_MEDIA_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it grows past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int) -> bytes:
    if not is_json_media_type(request.headers.get("content-type")):
        raise not_json()
    return await read_body(request, max_bytes)


def not_json() -> ProblemError:
    """415 for a body declared as something other than JSON."""
    return ProblemError(
        415,
        "Unsupported Media Type",
        "Send the body as JSON with 'Content-Type: application/json'.",
        code="UnsupportedMediaType",
    )


def parse_json(model: type[ModelT], body: bytes, context: dict[str, Any] | None = None) -> ModelT:
    """The validated body; a body that names a member twice is refused (400) as well."""
    try:
        parsed = model.model_validate_json(body, context=context)
    except ValidationError as error:
        raise body_validation_error(error) from None
    refuse_repeated_members(body, format_error)
    return parsed


def refuse_repeated_members(
    body: bytes, problem: Callable[[list[FieldError]], ProblemError]
) -> None:
    """Raise `problem` naming the first repeated member of `body`, if any
    (ingest_api/duplicate_members.py says why)."""
    path = repeated_member(body)
    if path is not None:
        raise problem([duplicate_member_error(path)])


def duplicate_member_error(path: str) -> FieldError:
    return FieldError(
        path=path,
        code="DuplicateMember",
        message="This name appears twice in its object; send each member once.",
    )


def too_large(max_bytes: int) -> ProblemError:
    """413 for a body over `max_bytes`."""
    return ProblemError(
        413,
        "Content Too Large",
        f"The body is larger than {max_bytes} bytes.",
        code="PayloadTooLarge",
    )
