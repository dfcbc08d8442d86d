"""Saved segment definitions in the operational database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.segment_definitions import SegmentDefinition
from storage.db import migrate, session_factory, session_scope
from storage.models import Contact, Segment, utcnow
from storage.segments import (
    SavedSegment,
    definitions_fingerprint,
    delete_segment,
    get_segment,
    hidden_contact_ids,
    list_segments,
    load_definition,
    record_materialization,
    save_segment,
    written_definition,
)

JACKETS: dict[str, Any] = {
    "name": "jackets",
    "criteria": {"order": {"line": {"article": {"maincategory": "Jackets"}}}},
}


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def save(url: str, written: dict[str, Any], key_id: str | None = None) -> SavedSegment:
    with session_scope(url) as session:
        return save_segment(session, SegmentDefinition.model_validate(written), written, key_id)


def fingerprint(url: str) -> str:
    with session_scope(url) as session:
        return definitions_fingerprint(session)


def test_save_creates_then_replaces_keeping_who_created_it_and_when(url: str) -> None:
    first = save(url, JACKETS, key_id="key-1")
    second = save(url, {**JACKETS, "description": "Jackets"}, key_id="key-2")

    assert first.created is True
    assert second.created is False
    with session_scope(url) as session:
        stored = get_segment(session, "jackets")
        assert stored is not None
        assert stored.created_by_key_id == "key-1"
        assert stored.created_at == first.segment.created_at
        assert stored.updated_at > stored.created_at
        assert stored.description == "Jackets"
        assert [segment.name for segment in list_segments(session)] == ["jackets"]


def test_the_definition_reads_back_as_written_and_validates_again(url: str) -> None:
    written = {"criteria": {"order": {"ongoing": True}}, "name": "first-criteria-then-name"}
    save(url, written)

    with session_scope(url) as session:
        stored = get_segment(session, "first-criteria-then-name")
        assert stored is not None
        assert list(written_definition(stored)) == ["criteria", "name"]
        assert load_definition(stored).name == "first-criteria-then-name"
        stored.definition = '{"name": "x", "criteria": {"order": {"colour": "red"}}}'
        with pytest.raises(ValidationError):
            load_definition(stored)
        session.rollback()


def test_the_fingerprint_changes_with_the_set_of_definitions_and_their_criteria(url: str) -> None:
    empty = fingerprint(url)
    save(url, JACKETS)
    one = fingerprint(url)
    save(url, {**JACKETS, "description": "only the description"})
    reworded = fingerprint(url)
    save(url, {**JACKETS, "criteria": {"order": {"ongoing": True}}})
    changed = fingerprint(url)
    with session_scope(url) as session:
        assert delete_segment(session, "jackets") is True
        assert delete_segment(session, "jackets") is False

    assert len({empty, one, changed}) == 3
    assert reworded == one, "a new description does not change who is in the segment"
    assert fingerprint(url) == empty


def test_concurrent_first_saves_of_one_name_all_succeed_and_leave_one_segment(url: str) -> None:
    barrier = threading.Barrier(6)

    def save_after_barrier(number: int) -> bool:
        written = {**JACKETS, "description": f"writer {number}"}
        session = session_factory(url)()
        try:
            barrier.wait()
            definition = SegmentDefinition.model_validate(written)
            return save_segment(session, definition, written).created
        finally:
            session.close()

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(save_after_barrier, range(6)))

    assert created.count(True) == 1
    with session_scope(url) as session:
        assert len(list_segments(session)) == 1


def test_hidden_contacts_are_the_soft_deleted_ones(url: str) -> None:
    with session_scope(url) as session:
        session.add_all(
            [
                Contact(id="00000000-0000-0000-0000-000000000001"),
                Contact(id="00000000-0000-0000-0000-000000000002", deleted_at=utcnow()),
            ]
        )
    with session_scope(url) as session:
        assert hidden_contact_ids(session) == {"00000000-0000-0000-0000-000000000002"}


def test_materialisation_is_recorded_per_segment(url: str) -> None:
    saved = save(url, JACKETS)
    save(url, {"name": "skipped", "criteria": {"contact": {}}})
    at = utcnow()

    with session_scope(url) as session:
        record_materialization(
            session, {"jackets": saved.segment.revision, "gone": "0" * 16}, at, skipped=["skipped"]
        )
    with session_scope(url) as session:
        jackets = session.get(Segment, "jackets")
        skipped = session.get(Segment, "skipped")
        assert jackets is not None
        assert skipped is not None
        assert (jackets.materialized_revision, jackets.materialized_at) == (
            saved.segment.revision,
            at,
        )
        assert skipped.materialized_at is None
        assert session.get(Segment, "gone") is None
