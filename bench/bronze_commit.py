"""Figure `bronze_commit`: what an intake commit costs as bronze fills up, and after maintenance.

delta-rs lists the log and materialises the active files at every commit, so each group commit
of the intake makes the next one dearer until lake maintenance (storage.lake_maintenance)
compacts the table and cuts its log. Appends go through the product's `Lake.append` (fsync
included) with intake-sized batches. The floor, measured in the same run: bare `write_deltalake`
appends of the same batches to a new table.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from bench.harness import BenchContext
from schemas.tables import ORDER_CHANGES
from storage.lake import Lake
from storage.lake_maintenance import Retention, maintain_table

ROWS_PER_COMMIT = 32
SAMPLED_APPENDS = 30
BODY = "x" * 3_000
ZERO = timedelta(0)


def batch(number: int) -> pa.Table:
    """One group commit of order creates (bodies of about 3 KB)."""
    landed_at = datetime.now(UTC)
    rows = [
        {
            "job_id": f"job-{number}-{n}",
            "order_id": f"O-{number}-{n}",
            "change_type": "create",
            "landed_at": landed_at,
            "batch_position": n,
            "api_key_id": "bench",
            "body": BODY,
        }
        for n in range(ROWS_PER_COMMIT)
    ]
    return pa.Table.from_pylist(rows, schema=ORDER_CHANGES.arrow_schema)


def median_append_ms(append: Any, first: int) -> float:
    timings = []
    for number in range(first, first + SAMPLED_APPENDS):
        started = time.perf_counter()
        append(batch(number))
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def floor_append_ms(path: Path) -> float:
    write_deltalake(str(path), batch(-1))
    return median_append_ms(lambda data: write_deltalake(str(path), data, mode="append"), 0)


def run(context: BenchContext) -> dict[str, Any]:
    commits = context.size(2_000, 200, 2 * SAMPLED_APPENDS)
    lake = Lake(str(context.work_dir / "lake"))
    lake.ensure(ORDER_CHANGES)

    def append(data: pa.Table) -> None:
        lake.append(ORDER_CHANGES, data)

    floor_ms = floor_append_ms(context.work_dir / "floor")
    new_ms = median_append_ms(append, 0)
    for number in range(SAMPLED_APPENDS, commits - SAMPLED_APPENDS):
        append(batch(number))
    crowded_ms = median_append_ms(append, commits - SAMPLED_APPENDS)
    files = len(lake.table(ORDER_CHANGES).file_uris())
    started = time.perf_counter()
    # As the sensor runs it once the pipeline has caught up; no history floor, so that this run
    # shows what the hourly floor only delays.
    retention = Retention(
        history=ZERO, processed_version=lake.version(ORDER_CHANGES), min_history=ZERO
    )
    result = maintain_table(lake, ORDER_CHANGES, retention)
    maintenance_seconds = time.perf_counter() - started
    maintained_ms = median_append_ms(append, commits)
    return {
        "commits": commits,
        "rows_per_commit": ROWS_PER_COMMIT,
        "files_before_maintenance": files,
        "files_after_maintenance": result.files_after,
        "log_entries_removed": result.log_entries_removed,
        "maintenance_seconds": round(maintenance_seconds, 2),
        "floor_append_ms": floor_ms,
        "new_append_ms": new_ms,
        "crowded_append_ms": crowded_ms,
        "maintained_append_ms": maintained_ms,
        "ratio": round(maintained_ms / floor_ms, 2),
        "crowded_ratio": round(crowded_ms / floor_ms, 2),
    }
