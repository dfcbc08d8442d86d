"""Examples of the segment operations: definitions, previews and members."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import page
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.problems import UNKNOWN_FIELD, count_too_large, format_problem, not_found
from schemas.examples import example_json
from schemas.segment_definitions import SegmentCriteria, SegmentDefinition

SEGMENTS = "/api/v3/segments"
SEGMENT = f"{SEGMENTS}/{{name}}"
ON_SEGMENT = {"name": story.SEGMENT_NAME}
REVISION = "db572730a1351b6e"
MATERIALIZED_AT = "2025-11-24T08:30:04.499648+00:00"


def segment(**changes: Any) -> dict[str, Any]:
    """The definition example as saved and materialised, with one member."""
    definition = example_json("segment-definition.json")
    return {
        **definition,
        "revision": REVISION,
        "createdAt": "2025-11-24T08:12:31.332841+00:00",
        "updatedAt": "2025-11-24T08:12:31.332841+00:00",
        "materializedAt": MATERIALIZED_AT,
        "memberCount": 1,
        "current": True,
        **changes,
    }


def _unknown() -> Example:
    return not_found(
        "SegmentNotFound",
        "No such segment.",
        Replay(path={"name": "lapsed-members"}),
        "No segment has this name",
    )


def _save() -> OperationDoc:
    request = Example(
        "Members in Sweden with an ongoing jacket order",
        example_json("segment-definition.json"),
        "Criteria combine with `all`, `any` and `not`; each leaf selects contacts by their "
        "orders, receipts or contact fields.",
    )
    created = segment(materializedAt=None, memberCount=None, current=False)
    bad_definition = {"name": "lapsed members", "criteria": {"receipt": {"since": "30 days"}}}
    bad = Example(
        "A name with a space and a time bound that is not one",
        format_problem(
            (
                "/name",
                "InvalidFormat",
                "String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'",
            ),
            (
                "/criteria/receipt/since",
                "InvalidTimeBound",
                "Use a timestamp with an offset (2026-01-31T00:00:00+01:00), a date (2026-01-31) "
                "or an ISO 8601 duration from now (-P30D is 30 days ago).",
            ),
        ),
        "Names are slugs (they appear in URLs); `since` takes a timestamp, a date or a duration.",
        Replay(body=dumps(bad_definition)),
    )
    return OperationDoc(
        {
            201: Answer(
                {"Created": Example("Saved; materialised with the next gold build", created)}
            ),
            200: Answer({"Replaced": Example("An existing definition replaced", segment())}),
            400: Answer({"FormatError": bad}),
        },
        Body(SegmentDefinition, {"ongoing-jackets": request}),
    )


def _list() -> OperationDoc:
    return OperationDoc(
        {
            200: Answer({"page": Example("One segment", page([segment()]))}),
            400: Answer({"count": count_too_large()}),
        }
    )


def _preview() -> OperationDoc:
    request = Example(
        "Big Nordvik spenders with no ongoing order",
        example_json("segment-preview.json"),
        "Receipts of the last 90 days with Nordvik articles worth at least 1000 in group "
        "currency, and no ongoing order.",
    )
    answer = {"count": 2, "sample": [story.CONTACT_ID, "1b5d7e2a-6c4f-4a39-8e0b-9f2d3c4a5b61"]}
    bad = Example(
        "A field the criteria do not define",
        format_problem(
            (
                "/criteria/order/colour",
                "UnknownField",
                UNKNOWN_FIELD,
            )
        ),
        "A typo is an error, never a silently empty segment.",
        Replay(body=dumps({"criteria": {"order": {"colour": "red"}}})),
    )
    return OperationDoc(
        {
            200: Answer({"preview": Example("Two contacts match today", answer)}),
            400: Answer({"UnknownField": bad}),
        },
        Body(SegmentCriteria, {"spenders": request}),
    )


def _read() -> OperationDoc:
    return OperationDoc(
        {
            200: Answer({"segment": Example("Materialised", segment())}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_SEGMENT,
    )


def _delete() -> OperationDoc:
    return OperationDoc(
        {204: Answer(description="Deleted."), 404: Answer({"NotFound": _unknown()})},
        parameters=ON_SEGMENT,
    )


def _members() -> OperationDoc:
    members = page([{"contactId": story.CONTACT_ID}]) | {
        "revision": REVISION,
        "materializedAt": MATERIALIZED_AT,
        "current": True,
    }
    return OperationDoc(
        {
            200: Answer({"page": Example("Lena is a member", members)}),
            400: Answer({"count": count_too_large()}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_SEGMENT,
    )


def operations() -> Operations:
    return {
        ("POST", SEGMENTS): _save(),
        ("GET", SEGMENTS): _list(),
        ("POST", f"{SEGMENTS}/preview"): _preview(),
        ("GET", SEGMENT): _read(),
        ("DELETE", SEGMENT): _delete(),
        ("GET", f"{SEGMENT}/members"): _members(),
    }
