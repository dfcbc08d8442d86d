"""Lake maintenance on real Delta tables: compaction, vacuum, checkpoints and the log cut leave
every row readable once, keep what the pipeline has yet to read and the time-travel window, put
no personal data into file statistics, and run safely beside a writer in another process."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from schemas.tables import ORDER_CHANGES
from storage.lake import Lake
from storage.lake_erasure import purge_history
from storage.lake_maintenance import Retention, maintain_table
from tests.unit.test_lake_batches import change_table, land

NO_HISTORY = timedelta(0)


def bronze(processed_version: int) -> Retention:
    """Bronze retention with no floor, so a test sees what the floor would only delay."""
    return Retention(NO_HISTORY, processed_version=processed_version, min_history=NO_HISTORY)


def landed(tmp_path: Path, commits: int, rows: int = 2) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    lake.ensure(ORDER_CHANGES)
    for _ in range(commits):
        land(lake, rows)
    return lake


def log_files(lake: Lake) -> list[str]:
    return sorted(path.name for path in (Path(lake.uri(ORDER_CHANGES)) / "_delta_log").iterdir())


def job_ids(lake: Lake, after: int, through: int) -> list[str]:
    return sorted(lake.read_changes(ORDER_CHANGES, after, through)["job_id"].to_list())


def test_a_processed_bronze_table_is_left_with_one_file_and_a_short_log(tmp_path: Path) -> None:
    lake = landed(tmp_path, commits=30)
    rows_before = lake.scan(ORDER_CHANGES).collect().sort("job_id")

    result = maintain_table(lake, ORDER_CHANGES, bronze(lake.version(ORDER_CHANGES)))

    assert (result.files_before, result.files_after) == (30, 1)
    assert result.files_compacted == 30
    assert result.files_vacuumed == 30
    data_files = list(Path(lake.uri(ORDER_CHANGES)).glob("*.parquet"))
    assert len(data_files) == 1
    commits = [name for name in log_files(lake) if name.endswith(".json")]
    assert len(commits) == 1, log_files(lake)
    assert result.log_entries_removed >= 30
    assert lake.scan(ORDER_CHANGES).collect().sort("job_id").equals(rows_before)
    # The intake appends on, and the pipeline reads the new commit as before.
    version = lake.append(ORDER_CHANGES, change_table(["after-maintenance"]))
    assert job_ids(lake, version - 1, version) == ["after-maintenance"]


def test_unprocessed_commits_stay_readable_after_compaction(tmp_path: Path) -> None:
    lake = landed(tmp_path, commits=10)
    processed = 6
    unprocessed = job_ids(lake, processed, 10)
    assert len(unprocessed) == 8

    result = maintain_table(lake, ORDER_CHANGES, bronze(processed))

    assert result.files_compacted == 10
    assert result.files_vacuumed == 6  # only files of processed commits
    current = lake.version(ORDER_CHANGES)
    assert job_ids(lake, processed, current) == unprocessed
    # Once the pipeline has caught up, the next maintenance removes the rest.
    again = maintain_table(lake, ORDER_CHANGES, bronze(current))
    assert again.files_vacuumed == 4
    assert len(list(Path(lake.uri(ORDER_CHANGES)).glob("*.parquet"))) == 1
    assert lake.scan(ORDER_CHANGES).collect().height == 20


def test_versions_within_the_history_window_stay_readable(tmp_path: Path) -> None:
    lake = landed(tmp_path, commits=5)

    kept = maintain_table(lake, ORDER_CHANGES, Retention(history=timedelta(hours=2)))

    assert kept.files_compacted == 5
    assert (kept.files_vacuumed, kept.log_entries_removed) == (0, 0)
    assert DeltaTable(lake.uri(ORDER_CHANGES), version=2).to_pyarrow_table().num_rows == 4

    gone = maintain_table(
        lake, ORDER_CHANGES, Retention(history=NO_HISTORY, min_history=NO_HISTORY)
    )

    assert gone.files_vacuumed == 5
    assert gone.log_entries_removed > 0
    with pytest.raises(Exception, match=r"(?i)no files in log segment"):
        DeltaTable(lake.uri(ORDER_CHANGES), version=2)
    assert lake.scan(ORDER_CHANGES).collect().height == 10


def test_a_table_rebuilt_by_overwrite_is_not_compacted(tmp_path: Path) -> None:
    lake = landed(tmp_path, commits=3)

    result = maintain_table(
        lake, ORDER_CHANGES, Retention(history=timedelta(hours=2)), compact=False
    )

    assert (result.files_compacted, result.files_after) == (0, 3)
    assert lake.table(ORDER_CHANGES).history(1)[0]["operation"] != "OPTIMIZE"


def test_compacted_files_keep_personal_columns_out_of_statistics(tmp_path: Path) -> None:
    lake = landed(tmp_path, commits=4)

    maintain_table(lake, ORDER_CHANGES, bronze(lake.version(ORDER_CHANGES)))

    table = lake.table(ORDER_CHANGES)
    stats_columns = pa.table(table.get_add_actions(flatten=True)).column_names
    assert "min.job_id" in stats_columns  # statistics are kept where they are allowed
    for personal in ORDER_CHANGES.personal_columns:
        assert f"min.{personal}" not in stats_columns
    (data_file,) = Path(lake.uri(ORDER_CHANGES)).glob("*.parquet")
    footer = pq.ParquetFile(data_file).metadata
    for index in range(footer.num_columns):
        column = footer.row_group(0).column(index)
        if column.path_in_schema in ORDER_CHANGES.personal_columns:
            assert column.statistics is None or not column.statistics.has_min_max


def test_erasure_keeps_the_files_of_unprocessed_commits(tmp_path: Path) -> None:
    """Erasure vacuums bronze at once; files compaction replaced but the pipeline has yet to read
    stay, and only those."""
    lake = landed(tmp_path, commits=6)
    processed = 3
    unprocessed = job_ids(lake, processed, 6)
    maintain_table(lake, ORDER_CHANGES, Retention(history=timedelta(hours=2)))

    purge = purge_history(lake, ORDER_CHANGES, processed_version=processed)

    assert purge.data_files == 3
    assert job_ids(lake, processed, lake.version(ORDER_CHANGES)) == unprocessed


def append_commits(lake_root: str, commits: int) -> None:
    """An intake in another process: one commit per call, as group commits are."""
    lake = Lake(lake_root)
    for number in range(commits):
        lake.append(ORDER_CHANGES, change_table([f"concurrent-{number}-{n}" for n in range(3)]))


def test_maintenance_beside_an_appending_intake_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    """Each round the pipeline has processed what was there before it; maintenance compacts,
    vacuums and cuts the log while another process keeps committing."""
    lake = landed(tmp_path, commits=1)
    writer = multiprocessing.get_context("spawn").Process(
        target=append_commits, args=(str(tmp_path / "lake"), 150)
    )
    writer.start()
    read: list[str] = []
    processed, rounds, cut = 0, 0, 0
    while writer.is_alive() or rounds < 2:
        current = lake.version(ORDER_CHANGES)
        read += job_ids(lake, processed, current)  # the pipeline's run
        processed = current
        cut += maintain_table(lake, ORDER_CHANGES, bronze(processed)).log_entries_removed
        rounds += 1
    writer.join()
    assert writer.exitcode == 0
    assert cut > 0
    read += job_ids(lake, processed, lake.version(ORDER_CHANGES))

    expected = sorted(
        ["job-0-0", "job-0-1"] + [f"concurrent-{c}-{n}" for c in range(150) for n in range(3)]
    )
    assert sorted(lake.scan(ORDER_CHANGES).collect()["job_id"].to_list()) == expected
    assert sorted(read) == expected  # the pipeline read every row, each once
