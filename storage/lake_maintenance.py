"""Lake maintenance: compaction, checkpoints, log cleanup and vacuum, so commits stay cheap.

delta-rs lists the log and materialises the table's active files at every commit, so a table that
is only appended to gets slower with each commit. On the bench machine an append took 10 ms on a
new table, 250 ms at 2,000 files, and still 42 ms at 3,000 log entries once compacted to one file
(docs/performance.md). Compaction brings the files down, a checkpoint and cutting the log before
it bring the log down, and vacuum deletes the files compaction replaced.

What may be removed is bounded by what someone may still read:

- the pipeline reads a bronze table's unprocessed commits through the change data feed, which
  needs their log entries and the very files they added, even once compaction replaced them;
- a scan holds the snapshot it started on: nothing newer than `MIN_HISTORY` is removed;
- analysts may time-travel silver and gold tables over the configured history.

Pending actions keep the document of the order version they are pinned to (storage.actions), so
no action needs an old table version. Bronze is append-only: its newest version holds every row,
so it keeps no history beyond what the pipeline has yet to read.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError
from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import FileInfo, FileSelector, FileType, PyFileSystem

from schemas.table_spec import TableSpec
from storage.lake import Lake, log_lines

log = logging.getLogger(__name__)

MIN_HISTORY = timedelta(hours=1)
"""Nothing younger is vacuumed or cut from the log: a scan or a commit in flight may need it."""

LOG_ENTRY = re.compile(r"^(\d{20})\.")
"""A versioned file of `_delta_log`: commit JSON, checkpoint part or checksum."""

CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.")


@dataclass(frozen=True)
class Retention:
    """How much of a table's past stays readable.

    `history`: versions committed within it stay readable (time travel), and so do the files
    they reference. `processed_version`: for a bronze table the pipeline reads, the version
    through which it has processed; every later version stays readable with the files it added.
    `min_history` bounds `history` from below, for scans and commits in flight.
    """

    history: timedelta
    processed_version: int | None = None
    min_history: timedelta = MIN_HISTORY

    @property
    def window(self) -> timedelta:
        return max(self.history, self.min_history)


@dataclass(frozen=True)
class TableMaintenance:
    """What maintaining one table did (counts only: safe for logs and run metadata)."""

    table: str
    files_before: int
    files_after: int
    files_compacted: int
    files_vacuumed: int
    log_entries_removed: int
    compaction_conflict: bool


@dataclass(frozen=True)
class _LogEntry:
    version: int
    path: str
    modified: datetime
    is_commit: bool
    is_checkpoint: bool


def maintain_table(
    lake: Lake, spec: TableSpec, retention: Retention, *, compact: bool = True
) -> TableMaintenance:
    """Compact (unless `compact` is false), vacuum, checkpoint and cut the log of one table,
    within `retention`.

    Safe beside the intake's appends and the pipeline's merges: a compaction that loses a commit
    race is skipped until the next run (the writer's commit wins), and nothing a writer or a
    reader may still need is removed. Tables rebuilt by an overwrite are not compacted: they have
    no small files, and an overwrite that lost a race against a compaction would fail its run.
    """
    files_before = len(lake.table(spec).file_uris())
    compacted, conflict = _compact(lake, spec) if compact else (0, False)
    if retention.processed_version is None:
        vacuumed = _vacuum(lake.table(spec), retention.window)
    else:
        vacuumed = vacuum_unneeded(lake, spec, retention.processed_version, retention.window)
    lake.table(spec).create_checkpoint()
    entries = _log_entries(lake, spec)
    removed = _cut_log(lake, spec, entries, _first_kept_version(lake, spec, entries, retention))
    return TableMaintenance(
        table=spec.path,
        files_before=files_before,
        files_after=len(lake.table(spec).file_uris()),
        files_compacted=compacted,
        files_vacuumed=vacuumed,
        log_entries_removed=removed,
        compaction_conflict=conflict,
    )


def _compact(lake: Lake, spec: TableSpec) -> tuple[int, bool]:
    """Bin-pack small files; with the catalogue's writer properties, so personal columns get no
    statistics in the rewritten files either."""
    table = lake.table(spec)
    try:
        metrics = table.optimize.compact(writer_properties=lake.writer_properties(spec))
    except CommitFailedError:
        log.info("compaction of %s lost a commit race; the next run retries", spec.path)
        return 0, True
    return int(metrics.get("numFilesRemoved", 0)), False


def _first_unprocessed(lake: Lake, spec: TableSpec, retention: Retention) -> int | None:
    processed = retention.processed_version
    if processed is None or processed >= lake.version(spec):
        return None
    return processed + 1


def _vacuum(table: DeltaTable, keep: timedelta) -> int:
    """Delete the files removed from the table longer than `keep` ago (whole hours, rounded up)."""
    removed = table.vacuum(
        retention_hours=_hours(keep), enforce_retention_duration=False, dry_run=False
    )
    return len(removed)


def vacuum_unneeded(lake: Lake, spec: TableSpec, processed_version: int, keep: timedelta) -> int:
    """Delete the files removed from a bronze table longer than `keep` ago, except those that
    commits after `processed_version` added: the pipeline still reads them through the change
    data feed, even once compaction (or an erasure's rewrite) replaced them."""
    table = lake.table(spec)
    candidates = table.vacuum(
        retention_hours=_hours(keep),
        enforce_retention_duration=False,
        dry_run=True,
        # Listing the folder also finds files the log has forgotten (bronze tables keep removed
        # files for an hour only); safe from an hour on, since a writer's uncommitted file is
        # younger than that.
        full=keep >= MIN_HISTORY,
    )
    if not candidates:
        return 0
    needed = _files_added_after(lake, spec, processed_version)
    storage = table_storage(lake, spec)
    return sum(
        _delete_if_present(storage, path) for path in candidates if unquote(path) not in needed
    )


def _delete_if_present(storage: PyFileSystem, path: str) -> bool:
    """Delete a file another maintenance (or an earlier vacuum) may have deleted already."""
    try:
        storage.delete_file(path)
    except FileNotFoundError:
        return False
    return True


def _hours(keep: timedelta) -> int:
    return math.ceil(keep / timedelta(hours=1))


def _first_kept_version(
    lake: Lake, spec: TableSpec, entries: list[_LogEntry], retention: Retention
) -> int:
    """The oldest version that must stay readable: committed within the window, and no later
    than the first unprocessed version."""
    oldest = datetime.now(UTC) - retention.window
    commits = [e for e in entries if e.is_commit]
    recent = [e.version for e in commits if e.modified >= oldest]
    first = min(recent, default=lake.version(spec))
    unprocessed = _first_unprocessed(lake, spec, retention)
    return first if unprocessed is None else min(first, unprocessed)


def _cut_log(lake: Lake, spec: TableSpec, entries: list[_LogEntry], first_kept: int) -> int:
    """Delete the log before the newest checkpoint at or below `first_kept`.

    Reading version v needs a checkpoint at or below v and every commit after it, so versions
    from that checkpoint on stay readable. Returns how many log files were deleted.
    """
    checkpoints = [e.version for e in entries if e.is_checkpoint and e.version <= first_kept]
    if not checkpoints:
        return 0
    return delete_log_before(lake, spec, max(checkpoints), [e.path for e in entries])


def delete_log_before(
    lake: Lake, spec: TableSpec, checkpoint: int, paths: list[str] | None = None
) -> int:
    """Delete every log file of a version before `checkpoint` (a checkpoint's version), among
    `paths` if the caller has listed the log already; returns how many were deleted (another
    maintenance may have deleted some already)."""
    storage = table_storage(lake, spec)
    if paths is None:
        paths = [info.path for info in storage.get_file_info(FileSelector("_delta_log"))]
    stale = [path for path in paths if _log_version(path) < checkpoint]
    return sum(_delete_if_present(storage, path) for path in stale)


def _log_entries(lake: Lake, spec: TableSpec) -> list[_LogEntry]:
    infos = table_storage(lake, spec).get_file_info(FileSelector("_delta_log"))
    return [entry for info in infos if (entry := _log_entry(info)) is not None]


def _log_entry(info: FileInfo) -> _LogEntry | None:
    name = info.path.rsplit("/", 1)[-1]
    match = LOG_ENTRY.match(name)
    if info.type != FileType.File or match is None or info.mtime is None:
        return None
    modified = info.mtime if info.mtime.tzinfo else info.mtime.replace(tzinfo=UTC)
    return _LogEntry(
        version=int(match.group(1)),
        path=info.path,
        modified=modified,
        is_commit=name.endswith(".json"),
        is_checkpoint=CHECKPOINT.match(name) is not None,
    )


def _log_version(path: str) -> float:
    """The version a log file belongs to; infinity for `_last_checkpoint` and the like."""
    match = LOG_ENTRY.match(path.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else float("inf")


def _files_added_after(lake: Lake, spec: TableSpec, version: int) -> set[str]:
    """The data files (paths relative to the table) added by the commits after `version`."""
    storage = table_storage(lake, spec)
    added: set[str] = set()
    for later in range(version + 1, lake.version(spec) + 1):
        with storage.open_input_stream(f"_delta_log/{later:020d}.json") as stream:
            lines = log_lines(stream.read())
        added |= {unquote(add["path"]) for line in lines if (add := json.loads(line).get("add"))}
    return added


def table_storage(lake: Lake, spec: TableSpec) -> PyFileSystem:
    """The table's folder, local or on object storage, as a file system."""
    return PyFileSystem(DeltaStorageHandler(lake.uri(spec), lake.storage_options))
