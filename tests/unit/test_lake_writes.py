"""Writes to Delta tables: appends from several writers of one table (two intake processes, each
with its own handle), and MERGEs of small (held) and large (streamed) sources."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from schemas.tables import ORDER_CHANGES
from storage.lake import STREAMED_MERGE_ROWS, Lake
from tests.unit.test_lake_batches import change_table, land

UNICODE_LINE_BREAKS = ["\u2028", "\u2029", "\x85", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]
"""Characters Python's str.splitlines breaks at; JSON leaves the first three unescaped."""


def test_appends_through_handles_that_missed_each_others_commits_all_land(tmp_path: Path) -> None:
    first, second = Lake(str(tmp_path / "lake")), Lake(str(tmp_path / "lake"))
    first.ensure(ORDER_CHANGES)
    second.ensure(ORDER_CHANGES)
    for _ in range(3):
        land(first, 2)
        land(second, 3)
    assert first.version(ORDER_CHANGES) == second.version(ORDER_CHANGES) == 6
    landed = first.scan(ORDER_CHANGES).select("job_id").collect()
    assert landed.height == 15
    assert landed["job_id"].n_unique() == 15


def test_an_append_returns_the_version_that_holds_its_rows(tmp_path: Path) -> None:
    """The version an append returns is where a batch's rows are (change_seq derives from it),
    also when another writer committed after this handle last looked."""
    first, second = Lake(str(tmp_path / "lake")), Lake(str(tmp_path / "lake"))
    first.ensure(ORDER_CHANGES)
    second.ensure(ORDER_CHANGES)
    versions = []
    for writer, job_id in [(first, "a"), (second, "b"), (second, "c"), (first, "d")]:
        versions.append(writer.append(ORDER_CHANGES, change_table([job_id])))
    assert versions == [1, 2, 3, 4]
    for version, job_id in zip(versions, "abcd", strict=True):
        rows = first.read_changes(ORDER_CHANGES, version - 1, version)
        assert rows["job_id"].to_list() == [job_id]


@pytest.mark.parametrize("source_rows", [50, STREAMED_MERGE_ROWS + 1])
def test_a_merge_updates_matches_and_inserts_the_rest(tmp_path: Path, source_rows: int) -> None:
    lake = Lake(str(tmp_path / "lake"))
    lake.ensure(ORDER_CHANGES)
    land(lake, 5)  # job-0-0 .. job-0-4
    source = change_table([f"job-0-{n}" for n in range(source_rows)], change_type="create")
    metrics = lake.merge(
        ORDER_CHANGES,
        source,
        predicate="t.job_id = s.job_id",
        clauses=lambda merge: merge.when_matched_update_all().when_not_matched_insert_all(),
    )
    assert metrics["num_target_rows_updated"] == 5
    assert metrics["num_target_rows_inserted"] == source_rows - 5
    merged = lake.scan(ORDER_CHANGES).collect()
    assert merged.height == source_rows
    assert set(merged["change_type"]) == {"create"}


@pytest.mark.parametrize("character", UNICODE_LINE_BREAKS, ids=repr)
def test_an_id_with_a_unicode_line_break_lands(tmp_path: Path, character: str) -> None:
    """Its min/max statistics carry the character into the log entry: the entry is still one
    action per line, so the append (which reads it back to fsync its files) succeeds."""
    lake = Lake(str(tmp_path / "lake"))
    lake.ensure(ORDER_CHANGES)
    rows = change_table([f"job{character}1"])
    lake.append(ORDER_CHANGES, rows)
    landed = lake.scan(ORDER_CHANGES).select("job_id").collect()
    assert landed.equals(pl.DataFrame({"job_id": [f"job{character}1"]}))
