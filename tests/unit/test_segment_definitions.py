"""Segment definitions: the accepted shapes, the errors (code at a JSON pointer) and time bounds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from pydantic import ValidationError

from schemas.problems import field_errors_from_validation
from schemas.segment_definitions import (
    AllOf,
    NotCriterion,
    OrderCriterion,
    SegmentCriteria,
    SegmentDefinition,
    TimeRange,
    parse_duration,
    resolve_bound,
    resolve_since,
)
from tests.support.gold import ONGOING_JACKETS

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        SegmentDefinition.model_validate(body)
    return [(error.path, error.code) for error in field_errors_from_validation(caught.value)]


def definition(criteria: Any) -> dict[str, Any]:
    return {"name": "test", "criteria": criteria}


# Accepted shapes --------------------------------------------------------------------------------


def test_the_issue_example_validates() -> None:
    parsed = SegmentDefinition.model_validate_json(json.dumps(ONGOING_JACKETS))
    assert isinstance(parsed.criteria, AllOf)
    order, absent = parsed.criteria.all
    assert isinstance(order, OrderCriterion)
    assert isinstance(absent, NotCriterion)
    assert order.order.ongoing is True
    assert order.order.line is not None
    assert order.order.line.type == ["Purchase"]  # one value reads as a list of one
    assert order.order.line.article == {"main_category": ["Jackets"]}  # the dim_article column


def test_a_dumped_definition_validates_to_the_same_definition() -> None:
    parsed = SegmentDefinition.model_validate(ONGOING_JACKETS)
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["criteria"]["all"][1] == {"not": {"receipt": {"since": "P30D"}}}
    assert SegmentDefinition.model_validate_json(json.dumps(dumped)) == parsed


def test_an_already_validated_criterion_is_accepted() -> None:
    parsed = SegmentDefinition.model_validate(ONGOING_JACKETS)
    again = SegmentCriteria.model_validate({"criteria": parsed.criteria})
    assert again.criteria == parsed.criteria
    assert again.name is None


@pytest.mark.parametrize(
    "criteria",
    [
        {"order": {}},
        {"contact": {}},
        {"not": {"not": {"receipt": {}}}},
        {"order": {"status": ["InProgress", "Completed"], "externalStatus": "Packed"}},
        {"order": {"deliveryDate": {"from": "PT0S", "to": "P7D"}, "count": {"min": 2}}},
        {"order": {"createdAt": {"from": "2026-01-01", "to": "2026-01-01"}}},  # one whole day
        {"order": {"line": {"article": {"awardsbonus": True, "datespare2": {"to": "-P1Y"}}}}},
        {"receipt": {"since": "2026-11-01T00:00:00+01:00", "spend": {"min": 0, "max": 1000}}},
        {"receipt": {"period": "P1Y2M", "type": ["Purchase", "Return"], "count": {"max": 3}}},
        {"contact": {"birthYear": {"min": 1980, "max": 1989.5}, "lastPurchaseAt": "P90D"}},
        {"any": [{"contact": {"countryCode": "SE"}}, {"all": [{"order": {"ongoing": False}}]}]},
    ],
)
def test_accepted_shapes(criteria: dict[str, Any]) -> None:
    SegmentDefinition.model_validate_json(json.dumps(definition(criteria)))


# Errors: code at the JSON pointer of the offending field ---------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"criteria": {"order": {}}}, ("/name", "Required")),
        ({"name": "bad name", "criteria": {"order": {}}}, ("/name", "InvalidFormat")),
        ({"name": "x"}, ("/criteria", "Required")),
        (definition({"orders": {}}), ("/criteria", "InvalidCriterion")),
        (definition({"order": {}, "receipt": {}}), ("/criteria", "InvalidCriterion")),
        (definition([{"order": {}}]), ("/criteria", "InvalidCriterion")),
        (definition({"all": []}), ("/criteria/all", "TooShort")),
        (definition({"not": [{"order": {}}]}), ("/criteria/not", "InvalidCriterion")),
        (
            definition({"all": [{"order": {"ongoin": True}}]}),
            ("/criteria/all/0/order/ongoin", "UnknownField"),
        ),
        (definition({"order": {"ongoing": "yes"}}), ("/criteria/order/ongoing", "InvalidType")),
        (definition({"order": {"ongoing": 1}}), ("/criteria/order/ongoing", "InvalidType")),
        (definition({"order": {"status": ""}}), ("/criteria/order/status/0", "TooShort")),
        (definition({"order": {"status": []}}), ("/criteria/order/status", "TooShort")),
        (definition({"order": {"store": 1001}}), ("/criteria/order/store/0", "InvalidType")),
        (definition({"order": {"store": {"id": "S1"}}}), ("/criteria/order/store", "InvalidType")),
        (definition({"order": {"type": "Exchange"}}), ("/criteria/order/type/0", "InvalidValue")),
        (
            definition({"order": {"createdAt": "30 days"}}),
            ("/criteria/order/createdAt", "InvalidDuration"),
        ),
        (definition({"order": {"createdAt": True}}), ("/criteria/order/createdAt", "InvalidType")),
        (definition({"order": {"createdAt": {}}}), ("/criteria/order/createdAt", "EmptyRange")),
        (
            definition({"order": {"createdAt": {"from": "2026-01-01T00:00:00"}}}),
            ("/criteria/order/createdAt/from", "OffsetRequired"),
        ),
        (
            definition({"order": {"createdAt": {"from": "2026-13-01"}}}),
            ("/criteria/order/createdAt/from", "InvalidTimeBound"),
        ),
        (
            definition({"order": {"deliveryDate": {"from": "2026-02-01", "to": "2026-01-31"}}}),
            ("/criteria/order/deliveryDate", "InvalidRange"),
        ),
        (
            definition({"order": {"value": {"min": "5"}}}),
            ("/criteria/order/value/min", "InvalidType"),
        ),
        (
            definition({"order": {"value": {"min": 5, "max": 1}}}),
            ("/criteria/order/value", "InvalidRange"),
        ),
        (definition({"order": {"value": {}}}), ("/criteria/order/value", "EmptyRange")),
        (definition({"order": {"count": {"min": 0}}}), ("/criteria/order/count/min", "OutOfRange")),
        (
            definition({"order": {"line": {"type": "Mixed"}}}),
            ("/criteria/order/line/type/0", "InvalidValue"),
        ),
        (
            definition({"order": {"line": {"article": {"colour": "Red"}}}}),
            ("/criteria/order/line/article/colour", "UnknownArticleAttribute"),
        ),
        (
            definition({"order": {"line": {"article": {"awardsbonus": "yes"}}}}),
            ("/criteria/order/line/article/awardsbonus", "InvalidType"),
        ),
        (
            definition({"order": {"line": {"article": {"maincategory": {"from": "P1D"}}}}}),
            ("/criteria/order/line/article/maincategory", "InvalidType"),
        ),
        (
            definition({"order": {"line": {"article": {"datespare1": "2026-01-01"}}}}),
            ("/criteria/order/line/article/datespare1", "InvalidType"),
        ),
        (
            definition(
                {"order": {"line": {"article": {"maincategory": "A", "mainCategory": "B"}}}}
            ),
            ("/criteria/order/line/article/mainCategory", "DuplicateArticleAttribute"),
        ),
        (
            definition({"order": {"line": {"article": {}}}}),
            ("/criteria/order/line/article", "TooShort"),
        ),
        (
            definition({"receipt": {"since": "yesterday"}}),
            ("/criteria/receipt/since", "InvalidTimeBound"),
        ),
        (definition({"receipt": {"since": 2026}}), ("/criteria/receipt/since", "InvalidType")),
        (
            definition({"receipt": {"type": "PURCHASE"}}),
            ("/criteria/receipt/type/0", "InvalidValue"),
        ),
        (
            definition({"receipt": {"spend": {"min": True}}}),
            ("/criteria/receipt/spend/min", "InvalidType"),
        ),
        (
            definition({"receipt": {"count": {"max": 0.5}}}),
            ("/criteria/receipt/count/max", "OutOfRange"),
        ),
        (
            definition({"contact": {"birthYear": 1980}}),
            ("/criteria/contact/birthYear", "InvalidType"),
        ),
        (definition({"contact": {"type": ""}}), ("/criteria/contact/type/0", "TooShort")),
        (
            definition({"contact": {"contactType": "Member"}}),
            ("/criteria/contact/contactType", "UnknownField"),
        ),
        (
            definition({"all": [{"any": [{"not": {"order": {"status": 5}}}]}]}),
            ("/criteria/all/0/any/0/not/order/status/0", "InvalidType"),
        ),
    ],
)
def test_errors_point_at_the_field(body: dict[str, Any], expected: tuple[str, str]) -> None:
    assert errors(body) == [expected]


def test_every_bad_attribute_is_reported_at_its_own_key() -> None:
    article = {"colour": "Red", "maincategory": "Jackets", "awardsbonus": "yes"}
    found = errors(definition({"receipt": {"article": article}}))
    assert found == [
        ("/criteria/receipt/article/colour", "UnknownArticleAttribute"),
        ("/criteria/receipt/article/awardsbonus", "InvalidType"),
    ]


def test_relative_bounds_are_not_ordered_at_validation() -> None:
    """-P1M and -P30D swap places depending on the month; they are evaluated, not rejected."""
    parsed = TimeRange.model_validate({"from": "-P30D", "to": "-P1M"})
    assert parsed.from_ == "-P30D"


# YAML -------------------------------------------------------------------------------------------

ONGOING_JACKETS_YAML = """
name: ongoing-jackets
description: Ongoing order with a jacket, no purchase in 30 days
criteria:
  all:
    - order:
        ongoing: true
        line: {type: Purchase, article: {maincategory: Jackets}}
    - not:
        receipt: {since: P30D}
"""


def test_yaml_and_json_give_the_same_definition() -> None:
    from_yaml = SegmentDefinition.model_validate(yaml.safe_load(ONGOING_JACKETS_YAML))
    assert from_yaml == SegmentDefinition.model_validate_json(json.dumps(ONGOING_JACKETS))


def test_yaml_native_dates_and_timestamps_validate_like_json_strings() -> None:
    written = """
    name: autumn
    criteria:
      all:
        - order: {createdAt: {from: 2026-09-01, to: 2026-11-30}}
        - receipt: {since: 2026-09-01T00:00:00+02:00}
        - order: {line: {article: {datespare1: {from: 2026-01-01}}}}
    """
    loaded = yaml.safe_load(written)
    assert isinstance(loaded["criteria"]["all"][0]["order"]["createdAt"]["from"], date)
    json_body = definition(
        {
            "all": [
                {"order": {"createdAt": {"from": "2026-09-01", "to": "2026-11-30"}}},
                {"receipt": {"since": "2026-09-01T00:00:00+02:00"}},
                {"order": {"line": {"article": {"datespare1": {"from": "2026-01-01"}}}}},
            ]
        }
    ) | {"name": "autumn"}
    from_yaml = SegmentDefinition.model_validate(loaded)
    assert from_yaml == SegmentDefinition.model_validate_json(json.dumps(json_body))


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "order: {createdAt: {from: 2026-09-01 10:00:00}}",
            ("/criteria/order/createdAt/from", "OffsetRequired"),
        ),
        ("order: {store: 1001}", ("/criteria/order/store/0", "InvalidType")),
        (
            "order: {createdAt: {from: 2026-09-02, to: 2026-09-01}}",
            ("/criteria/order/createdAt", "InvalidRange"),
        ),
        ("receipt: {spend: {min: '100'}}", ("/criteria/receipt/spend/min", "InvalidType")),
    ],
)
def test_yaml_errors_are_the_json_errors(written: str, expected: tuple[str, str]) -> None:
    assert errors(definition(yaml.safe_load(written))) == [expected]


# Durations and bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("P30D", relativedelta(days=30)),
        ("-P30D", relativedelta(days=-30)),
        ("+P7D", relativedelta(days=7)),
        ("P1Y2M", relativedelta(years=1, months=2)),
        ("P2W", relativedelta(weeks=2)),
        ("PT12H", relativedelta(hours=12)),
        ("P1DT1H30M", relativedelta(days=1, hours=1, minutes=30)),
        ("PT0S", relativedelta()),
    ],
)
def test_durations(text: str, delta: relativedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["P", "PT", "30D", "P1.5D", "p30d", "P1DT", "P30D ", "-"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


def test_months_are_calendar_months() -> None:
    end_of_march = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert end_of_march + parse_duration("P1M") == datetime(2026, 4, 30, 12, tzinfo=UTC)
    assert resolve_bound("-P1M", end_of_march) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert resolve_bound("-P1M", NOW) == NOW - timedelta(days=31)  # October has 31 days


def test_resolve_bound() -> None:
    day = date(2026, 1, 31)
    assert resolve_bound(day, NOW) == datetime(2026, 1, 31, tzinfo=UTC)
    assert resolve_bound(day, NOW, end=True) == datetime(2026, 2, 1, tzinfo=UTC)
    stockholm = datetime(2026, 1, 31, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert resolve_bound(stockholm, NOW) == datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    assert resolve_bound(stockholm, NOW, end=True) == datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    assert resolve_bound("P7D", NOW) == NOW + timedelta(days=7)
    assert resolve_bound("PT0S", NOW, end=True) == NOW


def test_since_reads_a_duration_as_that_long_ago() -> None:
    assert resolve_since("P30D", NOW) == resolve_since("-P30D", NOW) == NOW - timedelta(days=30)
    assert resolve_since(date(2026, 11, 1), NOW) == datetime(2026, 11, 1, tzinfo=UTC)
