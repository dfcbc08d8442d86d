"""Segments as read from the lake: previews on the current gold tables and materialised members.

The intake and the command line read through here, so both answer the same: soft-deleted contacts
are removed from every answer (the gold tables drop them only at their next rebuild), and a lake
whose gold tables were never built answers "no one" rather than creating empty tables from a
read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime

import polars as pl

from schemas.gold_tables import ANALYST_TABLES, SEGMENT_MEMBERSHIPS
from schemas.segment_definitions import Criterion
from schemas.table_spec import TableSpec
from storage.lake import Lake
from storage.segment_evaluation import GoldTables, SegmentPreview, preview


@dataclass(frozen=True)
class MemberPage:
    """One page of a segment's materialised members, by contact id."""

    contact_ids: list[str]
    total: int


def gold_specs() -> list[TableSpec]:
    """The tables segment evaluation reads: those named by the fields of `GoldTables`."""
    names = {field.name for field in fields(GoldTables)}
    return [spec for spec in ANALYST_TABLES if spec.name in names]


def gold_is_built(lake: Lake) -> bool:
    return all(lake.exists(spec) for spec in gold_specs())


def preview_current(
    lake: Lake,
    criteria: Criterion,
    now: datetime,
    hidden_contact_ids: Collection[str],
    sample_size: int = 20,
) -> SegmentPreview:
    """Who the criteria select in the current gold tables; nobody before they are first built."""
    if not gold_is_built(lake):
        return SegmentPreview(count=0, sample=[])
    gold = GoldTables.from_lake(lake)
    return preview(criteria, gold, now, hidden_contact_ids, sample_size=sample_size)


def member_counts(
    lake: Lake, names: Collection[str], hidden_contact_ids: Collection[str]
) -> dict[str, int]:
    """Materialised members per segment in `names` (segments without members are left out)."""
    if not names or not lake.exists(SEGMENT_MEMBERSHIPS):
        return {}
    counts = (
        _visible_members(lake, hidden_contact_ids)
        .filter(pl.col("segment_name").is_in(list(names)))
        .group_by("segment_name")
        .len()
        .collect()
    )
    return dict(zip(counts["segment_name"], counts["len"], strict=True))


def member_page(
    lake: Lake, name: str, hidden_contact_ids: Collection[str], offset: int, count: int
) -> MemberPage:
    """Members of one segment ordered by contact id, so pages are stable between requests."""
    if not lake.exists(SEGMENT_MEMBERSHIPS):
        return MemberPage(contact_ids=[], total=0)
    members = _visible_members(lake, hidden_contact_ids).filter(pl.col("segment_name") == name)
    total, page = pl.collect_all(
        [
            members.select(pl.len()),
            members.select("contact_id").sort("contact_id").slice(offset, count),
        ]
    )
    return MemberPage(contact_ids=page["contact_id"].to_list(), total=int(total.item()))


def _visible_members(lake: Lake, hidden_contact_ids: Collection[str]) -> pl.LazyFrame:
    members = lake.scan(SEGMENT_MEMBERSHIPS)
    if not hidden_contact_ids:
        return members
    return members.filter(~pl.col("contact_id").is_in(list(hidden_contact_ids)))
