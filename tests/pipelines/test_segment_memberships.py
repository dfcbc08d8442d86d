"""The segment_memberships asset on gold tables written for the test and real saved definitions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets.segments.memberships import segment_memberships
from pipelines.resources import resources_from_settings
from schemas.gold_tables import SEGMENT_MEMBERSHIPS
from schemas.segment_definitions import SegmentDefinition
from storage.db import session_scope
from storage.lake import Lake
from storage.models import Contact, Segment, utcnow
from storage.segments import delete_segment, get_segment, save_segment
from storage.settings import EngageSettings
from tests.support.gold import ONGOING_JACKETS, example_gold

IDS = [str(uuid.UUID(int=n)) for n in range(1, 6)]
ONGOING: dict[str, Any] = {"name": "ongoing", "criteria": {"order": {"ongoing": True}}}
EMPTY: dict[str, Any] = {"name": "nobody", "criteria": {"contact": {"countryCode": "NO"}}}


def save(settings: EngageSettings, written: dict[str, Any]) -> str:
    with session_scope(settings.resolved_database_url) as session:
        saved = save_segment(session, SegmentDefinition.model_validate(written), written)
        return saved.segment.revision


def materialize(
    settings: EngageSettings, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [segment_memberships],
        resources=resources_from_settings(settings),
        instance=instance or dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def run_log(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every message of the run, as the Dagster UI shows them."""
    return "\n".join(record.user_message for record in instance.all_logs(result.run_id))


def memberships(settings: EngageSettings) -> dict[str, list[str]]:
    frame = Lake(settings.resolved_lake_uri).scan(SEGMENT_MEMBERSHIPS).collect()
    return {
        name: sorted(group["contact_id"])
        for (name,), group in frame.group_by("segment_name", maintain_order=True)
    }


@pytest.fixture
def gold(settings: EngageSettings) -> Lake:
    lake = Lake(settings.resolved_lake_uri)
    example_gold(IDS).write(lake)
    return lake


def test_memberships_hold_every_saved_segment_with_its_revision_and_sizes_in_metadata(
    settings: EngageSettings, gold: Lake
) -> None:
    jackets_revision = save(settings, ONGOING_JACKETS)
    save(settings, ONGOING)
    save(settings, EMPTY)

    result = materialize(settings)

    assert memberships(settings) == {
        "ongoing": [IDS[0], IDS[1], IDS[3]],
        "ongoing-jackets": [IDS[0]],
    }
    frame = gold.scan(SEGMENT_MEMBERSHIPS).collect()
    assert frame.schema == pl.Schema(SEGMENT_MEMBERSHIPS.arrow_schema)
    jackets = frame.filter(pl.col("segment_name") == "ongoing-jackets").row(0, named=True)
    assert jackets["revision"] == jackets_revision
    assert jackets["contact_key"] == 1

    metadata = result.asset_materializations_for_node("segment_memberships")[0].metadata
    assert metadata["dagster/row_count"].value == 4
    assert metadata["segments"].value == 3
    assert metadata["size/ongoing"].value == 3
    assert metadata["size/ongoing-jackets"].value == 1
    assert metadata["size/nobody"].value == 0
    assert "| nobody | 0 |" in metadata["sizes"].value
    rendered = json.dumps({key: str(value) for key, value in metadata.items()})
    assert not any(contact_id in rendered for contact_id in IDS), "no contact ids in metadata"

    with session_scope(settings.resolved_database_url) as session:
        segment = get_segment(session, "ongoing-jackets")
        assert segment is not None
        assert segment.materialized_revision == jackets_revision
        assert segment.materialized_at == jackets["materialized_at"]


def test_soft_deleted_contacts_are_left_out_even_while_gold_still_holds_them(
    settings: EngageSettings, gold: Lake
) -> None:
    with session_scope(settings.resolved_database_url) as session:
        session.add(Contact(id=IDS[0], deleted_at=utcnow()))
    save(settings, ONGOING)

    materialize(settings)

    assert memberships(settings) == {"ongoing": [IDS[1], IDS[3]]}


def test_deleted_segments_disappear_and_changed_ones_get_their_new_revision(
    settings: EngageSettings, gold: Lake
) -> None:
    save(settings, ONGOING)
    save(settings, ONGOING_JACKETS)
    materialize(settings)
    with session_scope(settings.resolved_database_url) as session:
        delete_segment(session, "ongoing")
    changed = {**ONGOING_JACKETS, "criteria": {"order": {"ongoing": False}}}
    new_revision = save(settings, changed)

    materialize(settings)

    assert memberships(settings) == {"ongoing-jackets": [IDS[2]]}
    revisions = gold.scan(SEGMENT_MEMBERSHIPS).select("revision").unique().collect()
    assert revisions["revision"].to_list() == [new_revision]


def test_a_stored_definition_that_no_longer_validates_is_skipped_with_a_warning(
    settings: EngageSettings, gold: Lake
) -> None:
    save(settings, ONGOING)
    broken = {"name": "broken", "criteria": {"order": {"colour": "red"}}}
    with session_scope(settings.resolved_database_url) as session:
        session.add(Segment(name="broken", definition=json.dumps(broken), revision="0" * 16))

    instance = dg.DagsterInstance.ephemeral()
    result = materialize(settings, instance)

    assert memberships(settings) == {"ongoing": [IDS[0], IDS[1], IDS[3]]}
    metadata = result.asset_materializations_for_node("segment_memberships")[0].metadata
    assert metadata["skipped_segments"].value == 1
    assert "size/broken" not in metadata
    logs = run_log(instance, result)
    assert "'broken' skipped" in logs
    assert "/criteria/order/colour" in logs
    with session_scope(settings.resolved_database_url) as session:
        assert get_segment(session, "broken").materialized_at is None  # type: ignore[union-attr]


def test_no_segments_leave_an_empty_table(settings: EngageSettings, gold: Lake) -> None:
    save(settings, ONGOING)
    materialize(settings)
    with session_scope(settings.resolved_database_url) as session:
        delete_segment(session, "ongoing")

    result = materialize(settings)

    assert memberships(settings) == {}
    metadata = result.asset_materializations_for_node("segment_memberships")[0].metadata
    assert metadata["dagster/row_count"].value == 0
    assert metadata["segments"].value == 0
