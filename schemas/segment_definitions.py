"""Segment definitions: the criteria analysts write, as JSON (or the same structure in YAML).

A definition names a set of contacts. Criteria of kind `order`, `receipt` and `contact` each select
contacts; `all`, `any` and `not` combine them. The shape is validated strictly so that a typo is a
clear error pointing at the criterion (JSON pointer), never a silently empty segment.

Time filters are absolute ranges or ISO 8601 durations relative to now (see `TimeBound`), so a
saved segment such as "no purchase in the last 30 days" keeps meaning the same thing every day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.common import EngageModel

SEGMENT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""Names appear in URLs (`/segments/{name}/members`), so they are plain slugs."""

_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> relativedelta:
    """An ISO 8601 duration such as P30D, P3M, P1Y2M, PT12H or -P7D, as calendar arithmetic.

    Months and years are calendar months and years (P1M from 31 March is 30 April), which is what
    an analyst means by "the last 3 months"; a timedelta would turn P3M into 90 days.
    """
    match = _DURATION.match(text)
    if match is None:
        raise PydanticCustomError(
            "InvalidDuration",
            "Not an ISO 8601 duration such as P30D, P3M, P1Y or PT12H (a leading - means ago).",
        )
    parts = {key: int(value) for key, value in match.groupdict().items() if value and key != "sign"}
    delta = relativedelta(**parts)
    return -delta if match["sign"] == "-" else delta


def _duration_text(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[str, AfterValidator(_duration_text)]
"""An ISO 8601 duration, kept as written: definitions are shown as analysts wrote them."""


def _time_bound(value: Any) -> datetime | date | str:
    """One validator for the three spellings, so that a bad bound is one clear error."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("OffsetRequired", "A timestamp must carry a UTC offset.")
        return value
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("InvalidType", "A time bound is a string.")
    if value.lstrip("+-").startswith("P"):
        return _duration_text(value)
    try:
        parsed = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "InvalidTimeBound",
            "Use a timestamp with an offset (2026-01-31T00:00:00+01:00), a date (2026-01-31) "
            "or an ISO 8601 duration from now (-P30D is 30 days ago).",
        ) from None
    return _time_bound(parsed)  # a timestamp without offset is OffsetRequired, as from YAML


TimeBound = Annotated[datetime | date | str, PlainValidator(_time_bound)]
"""A range bound: a timestamp with an offset, a date (midnight UTC), or a signed duration from now
(`-P30D` is 30 days ago, `P7D` is 7 days ahead, `PT0S` is now)."""


def resolve_bound(bound: TimeBound, now: datetime, *, end: bool = False) -> datetime:
    """The instant a bound stands for. A date as an `end` bound covers that whole day."""
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    if isinstance(bound, date):
        day = bound + timedelta(days=1) if end else bound
        return datetime.combine(day, time(), tzinfo=UTC)
    return now + parse_duration(bound)


def resolve_since(bound: TimeBound, now: datetime) -> datetime:
    """`since` reads a duration as "that long ago", whatever its sign: `P30D` is 30 days ago."""
    if isinstance(bound, str):
        delta = parse_duration(bound)
        return min(now + delta, now - delta)
    return resolve_bound(bound, now)


class Criteria(EngageModel):
    """Base of every definition model: camelCase keys and unknown keys rejected like the rest of
    the API, but lax types, so that a definition read from YAML (native dates) validates too."""

    model_config = ConfigDict(strict=False)


class TimeRange(Criteria):
    """`from` (inclusive) and/or `to` (exclusive; a date includes that whole day)."""

    from_: TimeBound | None = Field(default=None, alias="from")
    to: TimeBound | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> TimeRange:
        if self.from_ is None and self.to is None:
            raise PydanticCustomError("EmptyRange", "Give `from`, `to` or both.")
        if _absolute(self.from_) and _absolute(self.to):
            # Relative bounds move with the clock (P1M is 28 to 31 days), so only absolute
            # ranges can be checked here; an empty one would be a silently empty segment.
            start, end = (
                resolve_bound(self.from_, _NO_CLOCK),
                resolve_bound(self.to, _NO_CLOCK, end=True),
            )
            if start >= end:
                raise PydanticCustomError("InvalidRange", "`from` is not before `to`.")
        return self


_NO_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)
"""Stands in for "now" where only absolute bounds are resolved (they do not read it)."""


def _absolute(bound: TimeBound | None) -> bool:
    return isinstance(bound, date)


def _by_json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "[boolean]"
    if isinstance(value, dict | Criteria):
        return "[object]"
    return "[text]"


TimeFilter = Annotated[
    Annotated[Duration, Tag("[text]")] | Annotated[TimeRange, Tag("[object]")],
    Discriminator(
        _by_json_type,
        custom_error_type="InvalidType",
        custom_error_message="A time filter is a duration such as P30D or an object with from/to.",
    ),
]
"""A bare duration `P30D` means "within the last 30 days" (from 30 days ago until now)."""


class ValueRange(Criteria):
    """Inclusive numeric bounds."""

    min: float | None = Field(default=None, strict=True)
    max: float | None = Field(default=None, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.min is None and self.max is None:
            raise PydanticCustomError("EmptyRange", "Give `min`, `max` or both.")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("InvalidRange", "`min` is greater than `max`.")
        return self


class CountRange(ValueRange):
    """How many matching orders or receipts a contact must have (at least one, always).

    Absence ("no receipt in 30 days") is written with `not`, so `min` starts at 1.
    """

    min: float | None = Field(default=None, ge=1, strict=True)
    max: float | None = Field(default=None, ge=1, strict=True)


def _listed(value: Any) -> Any:
    """A lone value is a list of one; a number (YAML `store: 1001`) then fails as an item ("a
    valid string") rather than as "not a list"."""
    return [value] if isinstance(value, str | int | float) else value


Values = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=255)]],
    Field(min_length=1, max_length=1000),
    BeforeValidator(_listed),
]
"""One value, or a list meaning any of them (read as a list). Values match exactly."""

ARTICLE_ATTRIBUTES: dict[str, str] = {
    **{
        name: name
        for name in (
            "sku",
            "number",
            "name",
            "brand",
            "color",
            "description",
            "season",
            "size",
            "gender",
            "gtin",
        )
    },
    "maincategory": "main_category",
    "itemnumber": "item_number",
    "awardsbonus": "awards_bonus",
    "productcategory": "product_category",
    "subcategory": "sub_category",
    "agegroup": "age_group",
    **{f"spare{n}": f"spare{n}" for n in range(1, 11)},
    **{f"datespare{n}": f"date_spare{n}" for n in range(1, 6)},
}
"""Article attribute as written in a definition (the register's XML names; camelCase and
snake_case spellings work too) → `dim_article` column."""

DATE_ARTICLE_ATTRIBUTES = frozenset(f"date_spare{n}" for n in range(1, 6))


def article_column(attribute: str) -> str:
    """The `dim_article` column of an attribute name such as `maincategory` or `mainCategory`."""
    column = ARTICLE_ATTRIBUTES.get(attribute.replace("_", "").lower())
    if column is None:
        known = ", ".join(sorted(ARTICLE_ATTRIBUTES))
        raise PydanticCustomError(
            "UnknownArticleAttribute",
            "Unknown article attribute; known: {known}.",
            {"known": known},
        )
    return column


ArticleValue = Annotated[
    Annotated[Values, Tag("[text]")]
    | Annotated[bool, Tag("[boolean]")]
    | Annotated[TimeRange, Tag("[object]")],
    Discriminator(
        _by_json_type,
        custom_error_type="InvalidType",
        custom_error_message="An article attribute takes text, a boolean or a time range.",
    ),
]
"""Text attributes take values; `awardsbonus` a boolean; `datespare1..5` a time range."""


def _check_article_value(column: str, value: ArticleValue) -> None:
    expected_bool = column == "awards_bonus"
    expected_range = column in DATE_ARTICLE_ATTRIBUTES
    if isinstance(value, bool) != expected_bool or isinstance(value, TimeRange) != expected_range:
        kind = "a boolean" if expected_bool else "a time range" if expected_range else "text"
        raise PydanticCustomError(
            "InvalidType", "{column} takes {kind}.", {"column": column, "kind": kind}
        )


def _article_filter(filters: dict[str, ArticleValue]) -> dict[str, ArticleValue]:
    """Keys become `dim_article` columns. Problems are reported at the key as the analyst wrote it
    (`/.../article/awardsbonus`), which is lost once keys are normalised, hence one validator for
    keys and values; two spellings of one attribute would otherwise silently keep the last."""
    columns: dict[str, ArticleValue] = {}
    errors: list[InitErrorDetails] = []
    for attribute, value in filters.items():
        try:
            column = article_column(attribute)
            _check_article_value(column, value)
            if column in columns:
                raise PydanticCustomError(
                    "DuplicateArticleAttribute",
                    "{column} is given twice (in two spellings).",
                    {"column": column},
                )
        except PydanticCustomError as error:
            errors.append(InitErrorDetails(type=error, loc=(attribute,), input=value))
            continue
        columns[column] = value
    if errors:
        raise ValidationError.from_exception_data("ArticleFilter", errors)
    return columns


ArticleFilter = Annotated[
    dict[str, ArticleValue],
    Field(min_length=1, max_length=50),
    AfterValidator(_article_filter),
]
"""Article attributes every one of which must match (keys normalised to `dim_article` columns)."""

LineType = Annotated[list[Literal["Purchase", "Return"]], BeforeValidator(_listed)]
OrderType = Annotated[list[Literal["Purchase", "Return", "Mixed"]], BeforeValidator(_listed)]


class LineFilter(Criteria):
    """Which lines count: at least one line of the order (or receipt) must match all of these."""

    type: LineType | None = None
    sku: Values | None = None
    article: ArticleFilter | None = None


class OrderFilter(Criteria):
    """Contacts with at least one current order matching every given field (`count` of them)."""

    ongoing: Annotated[bool, Field(strict=True)] | None = None
    status: Values | None = None
    external_status: Values | None = None
    channel: Values | None = None
    store: Values | None = Field(default=None, description="External store id(s).")
    type: OrderType | None = None
    created_at: TimeFilter | None = None
    last_changed_at: TimeFilter | None = None
    delivery_date: TimeFilter | None = None
    value: ValueRange | None = Field(default=None, description="The order's subTotal.")
    line: LineFilter | None = None
    count: CountRange | None = None


class ReceiptFilter(Criteria):
    """Contacts whose receipt lines matching every given field add up as asked.

    Without `spend` or `count`, one matching line is enough. `spend` is the net amount (returns
    subtract) in group currency; `count` the number of distinct receipts.
    """

    since: TimeBound | None = None
    period: TimeFilter | None = None
    store: Values | None = None
    type: LineType | None = None
    sku: Values | None = None
    article: ArticleFilter | None = None
    spend: ValueRange | None = None
    count: CountRange | None = None


class ContactFilter(Criteria):
    """Contact attributes and the segmentation model's measures (`contact_segmentation`)."""

    type: Values | None = Field(default=None, description="contactType, e.g. Member.")
    country_code: Values | None = None
    gender: Values | None = None
    birth_year: ValueRange | None = None
    created_at: TimeFilter | None = None
    ongoing_order_count: ValueRange | None = None
    order_count: ValueRange | None = None
    return_count: ValueRange | None = None
    receipt_count: ValueRange | None = None
    recency_days: ValueRange | None = None
    frequency: ValueRange | None = None
    monetary: ValueRange | None = None
    first_order_at: TimeFilter | None = None
    last_order_at: TimeFilter | None = None
    first_purchase_at: TimeFilter | None = None
    last_purchase_at: TimeFilter | None = None


class OrderCriterion(Criteria):
    order: OrderFilter


class ReceiptCriterion(Criteria):
    receipt: ReceiptFilter


class ContactCriterion(Criteria):
    contact: ContactFilter


class AllOf(Criteria):
    all: list[Criterion] = Field(min_length=1, max_length=100)


class AnyOf(Criteria):
    any: list[Criterion] = Field(min_length=1, max_length=100)


class NotCriterion(Criteria):
    not_: Criterion = Field(alias="not")


CRITERION_KINDS = ("all", "any", "not", "order", "receipt", "contact")


def _criterion_kind(value: Any) -> str | None:
    """The tag of a criterion object: its one key. Tags are bracketed so that error locations
    (which include the tag) turn into JSON pointers without them."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in CRITERION_KINDS:
            return f"[{key}]"
    if isinstance(value, Criteria):
        return f"[{next(iter(value.model_fields_set))}]".replace("not_", "not")
    return None


Criterion = Annotated[
    Annotated[AllOf, Tag("[all]")]
    | Annotated[AnyOf, Tag("[any]")]
    | Annotated[NotCriterion, Tag("[not]")]
    | Annotated[OrderCriterion, Tag("[order]")]
    | Annotated[ReceiptCriterion, Tag("[receipt]")]
    | Annotated[ContactCriterion, Tag("[contact]")],
    Discriminator(
        _criterion_kind,
        custom_error_type="InvalidCriterion",
        custom_error_message=(
            "A criterion is an object with exactly one of: all, any, not, order, receipt, contact."
        ),
    ),
]


class SegmentDefinition(Criteria):
    """A named segment: which contacts belong, as criteria."""

    name: Annotated[str, Field(pattern=SEGMENT_NAME_PATTERN, examples=["ongoing-jackets"])]
    description: Annotated[str, Field(max_length=1000)] | None = None
    criteria: Criterion


class SegmentCriteria(Criteria):
    """A definition without a name, for previews of criteria not saved yet."""

    name: Annotated[str, Field(pattern=SEGMENT_NAME_PATTERN)] | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    criteria: Criterion


AllOf.model_rebuild()
AnyOf.model_rebuild()
NotCriterion.model_rebuild()
