"""Run tags that say what a processing run took: data ops find a run by its batch in the UI.

The sensor that launches a run only knows the newest bronze version; how far the run reads
(ENGAGE_MAX_CHANGES_PER_RUN) is decided when it starts. So the run tags itself once it has read
its batch: which bronze versions, how many landed rows and how many jobs they belong to. Counts
and versions only, never an id.
"""

from __future__ import annotations

import dagster as dg

from schemas.table_spec import TableSpec


def tag_run_with_batch(
    context: dg.AssetExecutionContext,
    spec: TableSpec,
    after: int,
    through: int,
    rows: int,
    jobs: int,
) -> None:
    """Tag the run with what it read of `spec`: bronze versions (after, through], as
    `engage/<bronze table>_batch`, and the rows and jobs they hold (`_rows`, `_jobs`)."""
    versions = f"{after + 1}-{through}" if through > after else "none"
    tags = {
        f"engage/{spec.name}_batch": versions,
        f"engage/{spec.name}_rows": str(rows),
        f"engage/{spec.name}_jobs": str(jobs),
    }
    context.instance.add_run_tags(context.run_id, tags)
