"""Idempotent appends of a processing run's results, shared by every domain's pipeline.

A run processes the bronze commits after its watermark and appends what it derived to silver
tables. Each append records, in the same Delta commit, through which bronze version the table holds
the pipeline's rows (a Delta `txn` action under the pipeline's application id). A run that died
half-way is simply run again: it derives the same rows and appends only those of later changes, so
nothing is written twice. Rows carry their landing order as `change_seq`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # the landing-order helpers stay importable from storage-free code
    from schemas.table_spec import TableSpec
    from storage.lake import Lake

CHANGE_SEQ_BITS = 20
"""A landed row's order is its bronze commit version, then its position in that commit."""


def change_seq(bronze_version: int, position: int) -> int:
    return (bronze_version << CHANGE_SEQ_BITS) | position


def first_seq_after(bronze_version: int) -> int:
    """The smallest change_seq a commit newer than `bronze_version` can have."""
    return (bronze_version + 1) << CHANGE_SEQ_BITS


def written_through(lake: Lake, spec: TableSpec, watermark: int, app_id: str) -> int:
    """Bronze version through which `spec` already holds `app_id`'s rows (at least the watermark):
    rows of later changes are still to be written."""
    return max(lake.app_version(spec, app_id) or 0, watermark)


def append_new(
    lake: Lake, spec: TableSpec, table: pa.Table, watermark: int, through: int, app_id: str
) -> int:
    """Append the rows of `table` (results of bronze commits up to `through`) that a previous
    attempt at this batch did not already write; returns how many were appended.

    A batch without rows still commits its progress (a commit holding only the txn): bronze
    commits with nothing to process, such as lake maintenance's compaction, must move the
    watermark past them, or the pipeline would never be caught up."""
    done = written_through(lake, spec, watermark, app_id)
    if through <= done:
        return 0
    fresh = table.filter(pc.greater_equal(table["change_seq"], first_seq_after(done)))
    lake.append(spec, fresh, app_transaction=(app_id, through))
    return fresh.num_rows
