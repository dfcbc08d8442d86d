"""A reader that lists the log while another process commits may see a gap in it; it retries."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa

from schemas.table_spec import TableSpec, string
from storage.lake import Lake

NOTES = TableSpec("notes", "bronze", "A table.", (string("id", "Key."),), key=("id",))


def append(lake: Lake, key: str) -> None:
    lake.append(NOTES, pa.Table.from_pylist([{"id": key}], schema=NOTES.arrow_schema))


def test_a_gap_that_closes_while_the_log_is_read_is_retried(tmp_path: Path) -> None:
    reader = Lake(str(tmp_path))
    append(reader, "a")
    writer = Lake(str(tmp_path))
    for key in ("b", "c", "d"):
        append(writer, key)
    # Commit 2 is not listed yet, commit 3 is: as a listing taken mid-commit can show.
    commit = tmp_path / "bronze" / "notes" / "_delta_log" / f"{2:020d}.json"
    hidden = commit.with_name("hidden")
    commit.rename(hidden)
    threading.Timer(0.03, hidden.rename, args=(commit,)).start()

    table = reader.table(NOTES)

    assert table.version() == 4
    assert sorted(reader.scan(NOTES).collect()["id"].to_list()) == ["a", "b", "c", "d"]
