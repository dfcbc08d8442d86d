"""Deleting rows from Delta tables so that nothing of them is left (SPEC 2.4).

A Delta DELETE alone leaves the rows in the rewritten files (time travel), in change-data files,
in the transaction log's file statistics and in its commit info (the predicate). Here:

- rows are deleted with a MERGE against a source of their keys, so no value ever appears in a
  predicate, and the commit is marked as an erasure (`ERASURE_COMMIT`) for change readers;
- bronze tables, append-only and read by the pipeline through the change data feed, keep their
  log: their identifying columns have no statistics, the rewritten files are vacuumed and the
  erasure commit's change files deleted (change readers skip erasure commits); files that
  unprocessed commits added stay, even if compaction replaced them, since the pipeline still
  reads them (an erasure waits while its contact has unprocessed data, so they hold none of it);
- every other table, written only by the pipeline (which never runs beside an erasure), is
  vacuumed in full and its log is cut at a fresh checkpoint, so no old file statistics remain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
from deltalake import DeltaTable
from pyarrow.fs import FileSelector, FileType

from schemas.table_spec import TableSpec
from storage.lake import ERASURE_COMMIT, Lake
from storage.lake_maintenance import delete_log_before, table_storage, vacuum_unneeded

log = logging.getLogger(__name__)

PRUNING_COLUMN = "landed_at"
"""Bronze rows are bounded by landing time too, so a delete reads (and conflicts with) only the
files that can hold them, never the intake's concurrent appends."""


@dataclass(frozen=True)
class Purge:
    """What cleaning a table's history removed: data and change files, and log entries."""

    data_files: int
    log_entries: int


def delete_rows(lake: Lake, spec: TableSpec, keys: pl.DataFrame) -> int:
    """Delete the rows whose key (`spec.key`) is in `keys`; returns how many were deleted.

    `keys` may carry the pruning column (bronze); its range then bounds the delete.
    """
    if keys.is_empty():
        return 0
    source = keys.select(spec.key).unique()
    predicate = " AND ".join(f"t.{column} = s.{column}" for column in spec.key)
    predicate += _landing_bounds(keys)
    metrics = lake.merge(
        spec,
        source.to_arrow(),
        predicate,
        lambda merger: merger.when_matched_delete(),
        commit_metadata=ERASURE_COMMIT,
    )
    return metrics.get("num_target_rows_deleted", 0)


def _landing_bounds(keys: pl.DataFrame) -> str:
    if PRUNING_COLUMN not in keys.columns:
        return ""
    first, last = keys[PRUNING_COLUMN].min(), keys[PRUNING_COLUMN].max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    return (
        f" AND t.{PRUNING_COLUMN} >= '{first.isoformat()}'"
        f" AND t.{PRUNING_COLUMN} <= '{last.isoformat()}'"
    )


def purge_history(lake: Lake, spec: TableSpec, processed_version: int | None = None) -> Purge:
    """Physically remove whatever earlier versions of the table still hold.

    `processed_version`: for a bronze table the pipeline reads, the version through which it has
    processed; the files of later commits are kept for it.
    """
    if spec.layer == "bronze":
        return _purge_appended(lake, spec, processed_version)
    return _purge_rewritten(lake, spec)


def _purge_appended(lake: Lake, spec: TableSpec, processed_version: int | None) -> Purge:
    """Delete the files removed by a commit (never a concurrent append's uncommitted file) except
    those unprocessed commits added, then the change files: in bronze only erasure writes them,
    and change readers skip erasure."""
    if processed_version is None:
        vacuumed = _vacuum_removed(lake.table(spec))
    else:
        vacuumed = vacuum_unneeded(lake, spec, processed_version, keep=timedelta(0))
    storage = table_storage(lake, spec)
    change_files = [
        info.path
        for info in storage.get_file_info(FileSelector("_change_data", allow_not_found=True))
        if info.type == FileType.File
    ]
    for path in change_files:
        storage.delete_file(path)
    return Purge(data_files=vacuumed + len(change_files), log_entries=0)


def _purge_rewritten(lake: Lake, spec: TableSpec) -> Purge:
    """Vacuum every unreferenced file, checkpoint, and delete the log before the checkpoint."""
    table = lake.table(spec)
    removed = _vacuum_all(table)
    table.update_incremental()
    table.create_checkpoint()
    log_entries = delete_log_before(lake, spec, table.version())
    return Purge(data_files=removed, log_entries=log_entries)


def _vacuum_removed(table: DeltaTable) -> int:
    """Every file a commit removed, however recently."""
    return len(table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False))


def _vacuum_all(table: DeltaTable) -> int:
    """Every file the current version does not reference, however young."""
    removed = table.vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True
    )
    table.update_incremental()
    return len(removed)
