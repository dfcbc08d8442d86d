"""What the Segment API answers: stored segments, previews and materialised members.

The request bodies are the definitions of `schemas.segment_definitions`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, JsonValue, field_serializer

from schemas.common import ResponseModel, utc_iso
from schemas.paging import Link
from schemas.problems import FieldError
from schemas.segment_definitions import AllOf, AnyOf, Criterion, NotCriterion

MAX_CRITERIA = 200
"""Most criteria (leaves and combinators) one definition may hold.

Each criterion adds joins to the evaluation plan; a body of 1 MiB could otherwise hold tens of
thousands and keep a preview busy for many seconds. Real segments need a few dozen at most.
"""


def criteria_count(criterion: Criterion) -> int:
    """How many criteria `criterion` holds, itself included."""
    match criterion:
        case AllOf():
            return 1 + sum(criteria_count(child) for child in criterion.all)
        case AnyOf():
            return 1 + sum(criteria_count(child) for child in criterion.any)
        case NotCriterion():
            return 1 + criteria_count(criterion.not_)
    return 1


def size_errors(criterion: Criterion) -> list[FieldError]:
    """A field error when the criteria are too many to evaluate promptly, else none."""
    count = criteria_count(criterion)
    if count <= MAX_CRITERIA:
        return []
    return [
        FieldError(
            path="/criteria",
            code="TooManyCriteria",
            message=f"{count} criteria; a definition may hold at most {MAX_CRITERIA}.",
        )
    ]


class SegmentOut(ResponseModel):
    """A saved segment, with its criteria exactly as written."""

    name: str
    description: str | None = None
    criteria: JsonValue = Field(description="The criteria as they were saved.")
    revision: str = Field(description="Changes whenever the criteria change.")
    created_at: datetime
    updated_at: datetime
    materialized_at: datetime | None = Field(
        default=None, description="When the memberships were last computed; null if never."
    )
    member_count: int | None = Field(
        default=None, description="Members as of materializedAt; null if never materialised."
    )
    current: bool = Field(
        default=False,
        description="The materialised memberships were computed from the criteria as they are.",
    )

    @field_serializer("created_at", "updated_at", "materialized_at")
    def _timestamp(self, value: datetime | None) -> str | None:
        return None if value is None else utc_iso(value)


class SegmentPreviewOut(ResponseModel):
    """Who the criteria select in the current gold tables."""

    count: int
    sample: list[str] = Field(description="Up to 20 member contact ids, for spot checks.")


class SegmentMember(ResponseModel):
    contact_id: str


class SegmentMembersPage(ResponseModel):
    """A page of a segment's materialised members, ordered by contact id."""

    items: list[SegmentMember]
    total_count: int
    offset: int
    count: int
    links: list[Link]
    revision: str | None = Field(description="Revision the memberships were computed from.")
    materialized_at: datetime | None
    current: bool = Field(description="revision is the segment's current revision.")

    @field_serializer("materialized_at")
    def _timestamp(self, value: datetime | None) -> str | None:
        return None if value is None else utc_iso(value)
