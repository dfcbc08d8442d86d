"""How much of a bronze backlog one processing run takes (`Lake.batch_end`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from schemas.tables import ORDER_CHANGES
from storage.lake import Lake

LANDED_AT = datetime(2026, 11, 27, tzinfo=UTC)


def change_table(job_ids: list[str], change_type: str = "delete") -> pa.Table:
    """Bronze order changes with these job ids (one order, no bodies)."""
    return pa.Table.from_pylist(
        [
            {
                "job_id": job_id,
                "order_id": "O-1",
                "change_type": change_type,
                "landed_at": LANDED_AT,
                "batch_position": n,
                "api_key_id": "key",
            }
            for n, job_id in enumerate(job_ids)
        ],
        schema=ORDER_CHANGES.arrow_schema,
    )


def land(lake: Lake, rows: int) -> None:
    version = lake.version(ORDER_CHANGES)
    lake.append(ORDER_CHANGES, change_table([f"job-{version}-{n}" for n in range(rows)]))


def test_a_batch_takes_whole_commits_up_to_the_row_limit(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    lake.ensure(ORDER_CHANGES)
    start = lake.version(ORDER_CHANGES)
    for rows in (3, 2, 4, 6, 1):
        land(lake, rows)
    assert lake.batch_end(ORDER_CHANGES, start, max_rows=5) == start + 2  # 3 + 2
    assert lake.batch_end(ORDER_CHANGES, start + 2, max_rows=5) == start + 3  # 4
    # A commit larger than the limit is taken alone rather than never.
    assert lake.batch_end(ORDER_CHANGES, start + 3, max_rows=5) == start + 4
    assert lake.batch_end(ORDER_CHANGES, start + 4, max_rows=5) == start + 5
    assert lake.batch_end(ORDER_CHANGES, start + 5, max_rows=5) == start + 5  # nothing newer
    assert lake.batch_end(ORDER_CHANGES, start, max_rows=100) == start + 5
