"""Run tags that say what a processing run took: data ops find a run by its batch in the UI.

The sensor that launches a run only knows the newest bronze version; how far the run reads
(ENGAGE_MAX_CHANGES_PER_RUN) is decided when it starts. So the run tags itself once it has read
its batch: which bronze versions, how many landed rows and how many jobs they belong to. Counts
and versions only, never an id.
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from schemas.table_spec import TableSpec

Landed = tuple[int, int]
"""Rows read, and the jobs they belong to."""


def batch_tags(spec: TableSpec, after: int, through: int, rows: int, jobs: int) -> dict[str, str]:
    """`engage/<bronze table>_batch` (versions), `_rows` and `_jobs`."""
    return {
        f"engage/{spec.name}_batch": f"{after + 1}-{through}" if through > after else "none",
        f"engage/{spec.name}_rows": str(rows),
        f"engage/{spec.name}_jobs": str(jobs),
    }


def tag_run_with_batch(
    context: dg.AssetExecutionContext, spec: TableSpec, after: int, through: int, landed: Landed
) -> None:
    """Tag the run with what it read of `spec`: bronze versions (after, through], `landed`."""
    rows, jobs = landed
    context.instance.add_run_tags(context.run_id, batch_tags(spec, after, through, rows, jobs))


def landed_counts(landed: pl.DataFrame) -> Landed:
    """Rows and distinct jobs of landed bronze rows."""
    return landed.height, landed["job_id"].n_unique() if landed.height else 0
