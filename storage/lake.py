"""Delta Lake access shared by the intake and the pipeline: table URIs, appends, merges, scans.

Every write goes through here so that tables are always created with the catalogue's properties
(statistics kept off personal columns), local commits are fsynced before we acknowledge anything,
and commit conflicts between concurrent writers are retried in one place.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
from deltalake import (
    ColumnProperties,
    CommitProperties,
    DeltaTable,
    Transaction,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.schema import Field
from deltalake.table import TableMerger

from schemas.tables import Column, TableSpec

log = logging.getLogger(__name__)

MERGE_RETRIES = 5
LOG_GAP_RETRIES = 5


ERASURE_KEY = "engage.operation"
ERASURE_VALUE = "erasure"
ERASURE_COMMIT = {ERASURE_KEY: ERASURE_VALUE}
"""Commit metadata marking the deletes of GDPR erasure, so that change readers skip them."""


STREAMED_MERGE_ROWS = 10_000
"""Sources larger than this are streamed through a MERGE instead of held in memory first.

A held source gives delta-rs its key range to skip target files with (worth it for the small
batches of a steady flow, when ids are roughly ordered); streaming a large one saves its copy:
at 100k order changes into 500k orders the `orders` MERGE peaked at 2.6 GB instead of 3.4 GB and
took 3.2 s instead of 4.6 s."""


THREAD_LAKES_KEPT = 4
"""Lakes (roots) each thread keeps open in `lake_for_thread`."""

_thread_lakes = threading.local()


def lake_for_thread(root_uri: str, storage_options: dict[str, str] | None = None) -> Lake:
    """The calling thread's `Lake` for this root, kept open between calls.

    Opening a table reads its log from the last checkpoint: on object storage a listing and
    a request per commit, for every table a run or a sensor tick touches. A kept `Lake` brings
    its tables up to date with one listing each instead: the Dagster runs of one
    `engage-orders process` and the sensor ticks of one daemon thread share their handles.
    Per thread, because a `Lake` is not meant to be shared by threads that read and write at
    once; a thread's runs and ticks follow each other.
    """
    kept: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], Lake] | None = getattr(
        _thread_lakes, "kept", None
    )
    if kept is None:
        kept = _thread_lakes.kept = OrderedDict()
    key = (root_uri.rstrip("/"), tuple(sorted((storage_options or {}).items())))
    lake = kept.pop(key, None) or Lake(root_uri, storage_options)
    kept[key] = lake
    while len(kept) > THREAD_LAKES_KEPT:
        kept.popitem(last=False)
    return lake


class Lake:
    """The Delta tables under one root URI (a local folder or object storage)."""

    def __init__(self, root_uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.root_uri = root_uri.rstrip("/")
        self.storage_options = storage_options or None
        self._tables: dict[str, DeltaTable] = {}

    @property
    def is_local(self) -> bool:
        return "://" not in self.root_uri or self.root_uri.startswith("file://")

    def uri(self, spec: TableSpec) -> str:
        return f"{self.root_uri}/{spec.path}"

    def ensure(self, spec: TableSpec) -> DeltaTable:
        """Open the table, creating it with the catalogue's schema and properties if missing."""
        table = self._tables.get(spec.path)
        if table is not None:
            return table
        try:
            # Opening reads the log once, where `create(mode="ignore")` of an existing table
            # reads it twice: on object storage, 4 requests instead of 9 per table a process opens.
            table = DeltaTable(self.uri(spec), storage_options=self.storage_options)
        except TableNotFoundError:
            table = self._create(spec)
        _add_missing_columns(table, spec)
        # The catalogue changed a property (e.g. which columns are personal): files and
        # checkpoints written from now on follow.
        _set_changed_properties(table, spec)
        self._tables[spec.path] = table
        return table

    def _create(self, spec: TableSpec) -> DeltaTable:
        """Create the table; `mode="ignore"` keeps one that another process created meanwhile."""
        if self.is_local:
            Path(self.uri(spec)).mkdir(parents=True, exist_ok=True)
        return DeltaTable.create(
            self.uri(spec),
            spec.arrow_schema,
            mode="ignore",
            partition_by=list(spec.partition_by) or None,
            name=spec.name,
            description=spec.description,
            configuration=spec.configuration(),
            storage_options=self.storage_options,
        )

    def table(self, spec: TableSpec) -> DeltaTable:
        """The table at its newest version.

        Listing the log while other processes commit can see commit N+1 but not N yet (a
        directory listing is not a snapshot): delta-rs then reports a gap in the log. The soak
        saw it about once an hour in a sensor; the next listing is whole, so it is retried.
        """
        table = self.ensure(spec)
        for attempt in range(1, LOG_GAP_RETRIES + 1):
            try:
                table.update_incremental()
                return table
            except DeltaError as error:
                if "found gap" not in str(error) or attempt == LOG_GAP_RETRIES:
                    raise
                time.sleep(0.02 * attempt)
        raise AssertionError("unreachable")

    def exists(self, spec: TableSpec) -> bool:
        try:
            DeltaTable(self.uri(spec), storage_options=self.storage_options)
        except TableNotFoundError:
            return False
        return True

    def version(self, spec: TableSpec) -> int:
        return self.table(spec).version()

    def app_version(self, spec: TableSpec, app_id: str) -> int | None:
        """The last source version an application committed into this table (Delta `txn`)."""
        return self.table(spec).transaction_version(app_id)

    def append(
        self, spec: TableSpec, data: pa.Table, app_transaction: tuple[str, int] | None = None
    ) -> int:
        """Append rows in one commit; return the table version after it. Durable on return.

        The table is refreshed first, though delta-rs would commit a blind append at the next
        free version anyway: erasure cuts the log at a checkpoint (storage.lake_erasure), and a
        handle that still holds the removed log entries fails to commit."""
        table = self.table(spec)
        write_deltalake(
            table,
            data.select(spec.column_names).cast(spec.arrow_schema),
            mode="append",
            writer_properties=self.writer_properties(spec),
            commit_properties=_commit_properties(app_transaction),
        )
        # The handle now stands at the version this append committed (after any commits by
        # other writers it had to retry past); refreshing again cost 4-8 ms per group commit.
        committed = table.version()
        if self.is_local:
            _fsync_commits(Path(self.uri(spec)), committed, committed)
        return committed

    def overwrite(self, spec: TableSpec, data: pa.Table) -> int:
        """Replace the table's rows in one commit (for fully rebuilt tables); returns the version.

        Earlier versions stay readable by time travel until vacuum removes their files.
        """
        table = self.table(spec)
        write_deltalake(
            table,
            data.select(spec.column_names).cast(spec.arrow_schema),
            mode="overwrite",
            writer_properties=self.writer_properties(spec),
        )
        table.update_incremental()
        return table.version()

    def merge(
        self,
        spec: TableSpec,
        source: pa.Table,
        predicate: str,
        clauses: Callable[[TableMerger], TableMerger],
        app_transaction: tuple[str, int] | None = None,
        commit_metadata: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """MERGE `source` (alias `s`) into the table (alias `t`), retrying commit conflicts.

        The source may carry extra columns for the clauses (e.g. a deletion flag).

        Callers make their clauses idempotent, so a retry after a conflict, or a re-run after a
        crash, converges to the same table.
        """
        for attempt in range(1, MERGE_RETRIES + 1):
            table = self.table(spec)
            merger = table.merge(
                source,
                predicate=predicate,
                source_alias="s",
                target_alias="t",
                writer_properties=self.writer_properties(spec),
                commit_properties=_commit_properties(app_transaction, commit_metadata),
                streamed_exec=source.num_rows > STREAMED_MERGE_ROWS,
            )
            try:
                metrics = clauses(merger).execute()
            except CommitFailedError:
                if attempt == MERGE_RETRIES:
                    raise
                log.warning("commit conflict on %s, retry %d", spec.path, attempt)
                time.sleep(0.05 * attempt)
                continue
            return {key: value for key, value in metrics.items() if isinstance(value, int)}
        raise AssertionError("unreachable")

    def scan(self, spec: TableSpec) -> pl.LazyFrame:
        """A lazy polars scan of the table's newest version (the table is created if missing)."""
        table = self.table(spec)
        return pl.scan_delta(table, storage_options=self.storage_options)

    def read_changes(
        self, spec: TableSpec, after_version: int, through_version: int
    ) -> pl.DataFrame:
        """Rows appended by the commits in (after_version, through_version] (change data feed).

        Erasure commits are skipped: they only delete, and their change files, which held the
        erased rows, are removed right after them (`storage.lake_erasure`).
        """
        frames = [
            self._inserted(spec, first, last)
            for first, last in _ranges_between(
                after_version, through_version, self.erasure_versions(spec, after_version)
            )
        ]
        if not frames:
            return pl.DataFrame(schema=pl.Schema(spec.arrow_schema)).with_columns(
                pl.lit(0, pl.Int64).alias("_commit_version")
            )
        return pl.concat(frames)

    def _inserted(self, spec: TableSpec, first: int, last: int) -> pl.DataFrame:
        reader = self.table(spec).load_cdf(starting_version=first, ending_version=last)
        frame = pl.DataFrame(reader.read_all())
        return frame.filter(pl.col("_change_type") == "insert").select(
            *spec.column_names, pl.col("_commit_version").cast(pl.Int64)
        )

    def batch_end(self, spec: TableSpec, after_version: int, max_rows: int) -> int:
        """The last version of the commits after `after_version` that together append at most
        `max_rows` rows (at least one commit, however large), read from the commits' metrics."""
        table = self.table(spec)
        newer = table.version() - after_version
        if newer <= 0:
            return table.version()
        end, rows = after_version, 0
        for commit in sorted(table.history(newer), key=lambda commit: commit["version"]):
            rows += commit.get("operationMetrics", {}).get("num_added_rows", 0)
            if rows > max_rows and end > after_version:
                break
            end = commit["version"]
        return end

    def erasure_versions(self, spec: TableSpec, after_version: int) -> set[int]:
        """Versions after `after_version` written by erasure (their commit carries ERASURE)."""
        table = self.table(spec)
        newer = table.version() - after_version
        if newer <= 0:
            return set()
        return {
            commit["version"]
            for commit in table.history(newer)
            if commit.get(ERASURE_KEY) == ERASURE_VALUE
        }

    def writer_properties(self, spec: TableSpec) -> WriterProperties:
        """Parquet footers get no min/max statistics for personal columns either."""
        no_stats = ColumnProperties(statistics_enabled="NONE")
        return WriterProperties(
            compression="ZSTD",
            column_properties={name: no_stats for name in spec.personal_columns},
        )


def _ranges_between(after: int, through: int, skipped: set[int]) -> list[tuple[int, int]]:
    """The runs of versions in (after, through] that are not in `skipped`."""
    ranges: list[tuple[int, int]] = []
    first = after + 1
    for version in sorted(v for v in skipped if after < v <= through):
        if first < version:
            ranges.append((first, version - 1))
        first = version + 1
    if first <= through:
        ranges.append((first, through))
    return ranges


def _add_missing_columns(table: DeltaTable, spec: TableSpec) -> None:
    """Additive schema evolution: give a table created by an older release the catalogue's new
    columns, so lakes keep working across upgrades. Rows written before read null there, which is
    why only nullable columns can be added this way; anything else needs a migration.

    The statistics property is rewritten too, so a new column gets statistics unless personal.
    """
    missing = _missing_columns(table, spec)
    if not missing:
        return
    required = [column.name for column in missing if not column.nullable]
    if required:
        raise ValueError(
            f"{spec.path} lacks non-nullable columns {required}; only nullable columns are added "
            "to existing tables"
        )
    try:
        table.alter.add_columns([Field.from_arrow(column.arrow_field()) for column in missing])
    except DeltaError:
        # Another process evolved the table at the same moment; fine if the columns are there.
        table.update_incremental()
        if _missing_columns(table, spec):
            raise
    log.info("added columns %s to %s", [column.name for column in missing], spec.path)
    _set_changed_properties(table, spec)


def _set_changed_properties(table: DeltaTable, spec: TableSpec) -> None:
    """Give the table the catalogue's properties where they differ; statistics, for instance,
    on every non-personal column of the catalogue, the new ones included."""
    changed = _changed_properties(table, spec)
    if not changed:
        return
    try:
        table.alter.set_table_properties(changed)
    except DeltaError:
        # A concurrent writer set them first (to the same values: they come from the catalogue).
        table.update_incremental()
        if _changed_properties(table, spec):
            raise


def _changed_properties(table: DeltaTable, spec: TableSpec) -> dict[str, str]:
    current = table.metadata().configuration
    return {key: value for key, value in spec.configuration().items() if current.get(key) != value}


def _missing_columns(table: DeltaTable, spec: TableSpec) -> list[Column]:
    present = {field.name for field in table.schema().fields}
    return [column for column in spec.columns if column.name not in present]


def _commit_properties(
    app_transaction: tuple[str, int] | None, metadata: dict[str, str] | None = None
) -> CommitProperties | None:
    if app_transaction is None and metadata is None:
        return None
    transactions = [Transaction(*app_transaction)] if app_transaction else None
    return CommitProperties(app_transactions=transactions, custom_metadata=metadata)


def log_lines(entry: bytes) -> list[bytes]:
    """The actions of a Delta log entry, one JSON document per line.

    Split on newlines only: `str.splitlines` also splits at U+2028, U+0085 and the like, which
    JSON leaves unescaped inside strings, e.g. in a column's min/max statistics (an SKU sent with
    one failed its landing)."""
    return [line for line in entry.split(b"\n") if line.strip()]


def _fsync_commits(table_path: Path, first: int, last: int) -> None:
    """fsync the data files and log entries of commits first..last, then their directories.

    delta-rs writes local files without fsync; a 202 promises the change survives a crash, so the
    commit must be on disk, not only in the page cache.
    """
    log_dir = table_path / "_delta_log"
    directories = {log_dir, table_path}
    for version in range(first, last + 1):
        entry = log_dir / f"{version:020d}.json"
        for line in log_lines(entry.read_bytes()):
            add = json.loads(line).get("add")
            if add:
                data_file = table_path / add["path"]
                _fsync_path(data_file)
                directories.add(data_file.parent)
        _fsync_path(entry)
    for directory in directories:
        _fsync_path(directory)


def _fsync_path(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
