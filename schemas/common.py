"""Building blocks shared by every payload model.

Engage v3 is a strict camelCase JSON format: unknown fields are rejected, dates must carry an
offset, and numbers must be real numbers (no NaN/Infinity, no numeric strings).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


def _number_not_text(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError("NumberExpected", "Must be a JSON number, not a string.")
    return value


def _finite_json(value: Any) -> Any:
    """Reject NaN and Infinity anywhere inside free-form JSON (the parser lets them through)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("InvalidNumber", "NaN and Infinity are not JSON numbers.")
    if isinstance(value, dict):
        for item in value.values():
            _finite_json(item)
    elif isinstance(value, list):
        for item in value:
            _finite_json(item)
    return value


def _decimal_as_number(value: Decimal) -> float:
    return float(value)


Number = Annotated[
    Decimal,
    BeforeValidator(_number_not_text),
    Field(strict=False, allow_inf_nan=False),
    PlainSerializer(_decimal_as_number, return_type=float, when_used="json"),
]
"""A JSON number, parsed exactly (Decimal) and written back as a JSON number."""
Money = Annotated[Number, Field(max_digits=18, decimal_places=4)]
"""An amount of money: a JSON number with at most 4 decimals, kept exact as a Decimal."""

Percent = Annotated[Number, Field(ge=0, le=100, max_digits=9, decimal_places=4)]
JsonObject = Annotated[dict[str, JsonValue], AfterValidator(_finite_json), Field(max_length=100)]
"""Free-form data (`extraData`, action `data`): any JSON object with finite numbers."""
OffsetDatetime = Annotated[AwareDatetime, Field(examples=["2025-12-03T15:15:19+01:00"])]
"""ISO 8601 timestamp that must carry a UTC offset; a local time without one is a format error."""

ShortText = Annotated[str, Field(max_length=255)]
LongText = Annotated[str, Field(max_length=4000)]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s/?#][^/?#]*$")]
"""An id chosen by the integrator; it appears in URLs, so no slashes, '?' or '#'."""


class EngageModel(BaseModel):
    """Strict request model: camelCase on the wire, snake_case in Python, no unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        str_strip_whitespace=False,
        frozen=True,
    )


class ResponseModel(BaseModel):
    """Response model: camelCase on the wire; clients must ignore fields they do not know."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )


def utc_iso(value: datetime) -> str:
    """Render a timestamp the way the API always answers: ISO 8601 with an offset."""
    return value.isoformat()
