"""RFC 9457 problem documents and the field errors they carry.

Every error the API answers has this shape, whether it comes from the intake (format errors, 400) or
from processing (a failed job, 422), so an integrator parses one format only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROBLEM_MEDIA_TYPE = "application/problem+json"

# pydantic's error types, renamed to the codes an Engage integrator reads.
_CODES = {
    "missing": "Required",
    "extra_forbidden": "UnknownField",
    "json_invalid": "MalformedJson",
    "json_type": "MalformedJson",
    "timezone_aware": "OffsetRequired",
    "datetime_type": "InvalidDateTime",
    "datetime_parsing": "InvalidDateTime",
    "datetime_from_date_parsing": "InvalidDateTime",
    "string_type": "InvalidType",
    "int_type": "InvalidType",
    "float_type": "InvalidType",
    "bool_type": "InvalidType",
    "decimal_type": "InvalidType",
    "dict_type": "InvalidType",
    "list_type": "InvalidType",
    "model_type": "InvalidType",
    "model_attributes_type": "InvalidType",
    "finite_number": "InvalidNumber",
    "decimal_max_digits": "NumberOutOfRange",
    "decimal_max_places": "TooManyDecimals",
    "decimal_whole_digits": "NumberOutOfRange",
    "string_too_long": "TooLong",
    "string_too_short": "TooShort",
    "too_long": "TooManyItems",
    "string_pattern_mismatch": "InvalidFormat",
    "enum": "InvalidValue",
    "literal_error": "InvalidValue",
    "greater_than_equal": "OutOfRange",
    "less_than_equal": "OutOfRange",
    "greater_than": "OutOfRange",
    "less_than": "OutOfRange",
}


class FieldError(BaseModel):
    """One problem with one field, located by a JSON pointer into the request body."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="JSON pointer (RFC 6901) to the offending field; '' is the body.")
    code: str
    message: str


@dataclass(frozen=True)
class ProcessingWarning:
    """Something processing noticed but that does not stop a change (integration-log Warning)."""

    code: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


def json_pointer(location: Iterable[str | int]) -> str:
    """Turn a pydantic error location into a JSON pointer, escaping '~' and '/' per RFC 6901."""
    parts = (str(part).replace("~", "~0").replace("/", "~1") for part in location)
    return "".join(f"/{part}" for part in parts)


def field_errors_from_validation(error: ValidationError) -> list[FieldError]:
    """Flatten a pydantic ValidationError into JSON-pointer field errors."""
    return [
        FieldError(
            path=json_pointer(_location(item)),
            code=_CODES.get(item["type"], _pascal(item["type"])),
            message=_message(item),
        )
        for item in error.errors(include_url=False, include_input=False)
    ]


def _location(item: Any) -> Sequence[str | int]:
    # Tagged unions and function validators add non-field steps such as "function-after[...]".
    return [part for part in item["loc"] if not (isinstance(part, str) and "[" in part)]


def _message(item: Any) -> str:
    if item["type"] == "extra_forbidden":
        return "Unknown field: the Engage v3 format does not define it."
    if item["type"] == "timezone_aware":
        return "Date must carry a UTC offset, e.g. 2025-12-03T15:15:19+01:00."
    return str(item["msg"])


def _pascal(snake: str) -> str:
    if snake[:1].isupper():
        return snake  # already one of our own codes (PydanticCustomError)
    return "".join(part.capitalize() for part in snake.split("_"))
