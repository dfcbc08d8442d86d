"""Saved segment definitions in the operational database.

A definition is stored as the analyst wrote it (so it reads back the same, key order and spelling
included) together with a *revision*: a short hash of its criteria in canonical form. The revision
is what materialised memberships are stamped with, so a reader can tell whether the memberships it
sees were computed from the definition as it is now. Only the criteria count: rewording the
description, or writing `"Jackets"` instead of `["Jackets"]`, keeps the revision and the
memberships current.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.segment_definitions import SegmentDefinition
from storage.models import Contact, Segment, utcnow
from storage.paging import fetch_page

log = logging.getLogger(__name__)

REVISION_LENGTH = 16
"""Hex digits of SHA-256 kept: 64 bits tell revisions of one segment apart with room to spare."""


@dataclass(frozen=True)
class SavedSegment:
    """The outcome of a save: the stored row, and whether it was new."""

    segment: Segment
    created: bool


def revision_of(definition: SegmentDefinition) -> str:
    """Short SHA-256 of the criteria as validated and normalised, keys sorted.

    Hashing the validated form, not the text, means formatting, key order and equivalent spellings
    (a single value or a list of one, `mainCategory` or `maincategory`) give the same revision.
    """
    criteria = definition.model_dump(mode="json", by_alias=True, exclude_none=True)["criteria"]
    return _short_hash(json.dumps(criteria, sort_keys=True, separators=(",", ":")))


def save_segment(
    session: Session,
    definition: SegmentDefinition,
    written: Mapping[str, Any],
    key_id: str | None = None,
) -> SavedSegment:
    """Create the segment, or replace the one with the same name; commits.

    `written` is the definition as the analyst sent it (parsed JSON), stored verbatim; the caller
    has validated it into `definition`. Two concurrent first saves of one name cannot both insert:
    the loser of the primary-key race replaces the winner's row instead.
    """
    text = json.dumps(written, ensure_ascii=False, separators=(",", ":"))
    revision = revision_of(definition)
    try:
        return _upsert(session, definition, text, revision, key_id)
    except IntegrityError:
        session.rollback()
        return _upsert(session, definition, text, revision, key_id)


def _upsert(
    session: Session, definition: SegmentDefinition, text: str, revision: str, key_id: str | None
) -> SavedSegment:
    now = utcnow()
    segment = session.get(Segment, definition.name, populate_existing=True)
    created = segment is None
    if segment is None:
        segment = Segment(name=definition.name, created_at=now, created_by_key_id=key_id)
        session.add(segment)
    segment.description = definition.description
    segment.definition = text
    segment.revision = revision
    segment.updated_at = now
    session.commit()
    return SavedSegment(segment, created)


def get_segment(session: Session, name: str) -> Segment | None:
    return session.get(Segment, name)


def list_segments(session: Session) -> list[Segment]:
    """Every saved segment, by name."""
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def page_segments(session: Session, offset: int, count: int) -> tuple[list[Segment], int]:
    """One page of the segments by name, and how many there are."""
    return fetch_page(session, select(Segment), (Segment.name,), offset, count)


def delete_segment(session: Session, name: str) -> bool:
    """Delete the segment; commits. False if there was none by that name."""
    deleted = session.execute(delete(Segment).where(Segment.name == name)).rowcount
    session.commit()
    return bool(deleted)


def written_definition(segment: Segment) -> dict[str, Any]:
    """The definition exactly as it was saved (parsed JSON)."""
    return json.loads(segment.definition)


def load_definition(segment: Segment) -> SegmentDefinition:
    """The stored definition, validated again; raises pydantic's ValidationError.

    Validating on every load means a definition saved under older rules is reported as invalid
    rather than evaluated with a meaning it was not written for.
    """
    return SegmentDefinition.model_validate_json(segment.definition)


def definitions_fingerprint(session: Session) -> str:
    """A short hash of every segment's name and revision.

    It changes when a segment is created or deleted or its criteria change, and only then, so a
    sensor comparing it with its cursor re-materialises memberships exactly when they may differ.
    """
    rows = session.execute(select(Segment.name, Segment.revision).order_by(Segment.name))
    return _short_hash("\n".join(f"{name}\t{revision}" for name, revision in rows))


def record_materialization(
    session: Session, revisions: Mapping[str, str], at: datetime, skipped: Iterable[str] = ()
) -> None:
    """Note which revision of each segment the memberships written `at` hold; commits.

    Segments created while the memberships were computed are left alone (not materialised yet);
    one replaced meanwhile keeps its new revision, so it reads as not current. Skipped segments
    (their definition no longer validates) have no memberships any more.
    """
    for name, revision in revisions.items():
        session.execute(
            update(Segment)
            .where(Segment.name == name)
            .values(materialized_revision=revision, materialized_at=at)
        )
    for name in skipped:
        session.execute(
            update(Segment)
            .where(Segment.name == name)
            .values(materialized_revision=None, materialized_at=None)
        )
    session.commit()


def hidden_contact_ids(session: Session) -> set[str]:
    """Ids of soft-deleted contacts: they must never appear in a segment's members or samples.

    The gold tables leave them out too, but only from their next rebuild on; this closes the gap.
    """
    return set(session.scalars(select(Contact.id).where(Contact.deleted_at.is_not(None))))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:REVISION_LENGTH]
