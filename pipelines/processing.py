"""Run all pending pipeline work once, synchronously (`engage-orders process`).

The same jobs the sensors launch run here in-process against the instance in DAGSTER_HOME, so the
run and its materialisations show in the Dagster UI like any other.
"""

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.jobs import ALL_JOBS
from storage.settings import EngageSettings


def process_pending(
    settings: EngageSettings | None = None, instance: dg.DagsterInstance | None = None
) -> bool:
    """Run every processing job once, then build gold from what they produced; True when all
    runs succeeded (a failed run stops the rest: gold is not built from a half-processed batch)."""
    settings = settings or EngageSettings()
    if instance is None:
        from pipelines.dagster_home import ensure_dagster_home

        ensure_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    definitions = build_definitions(settings)
    for job in ALL_JOBS:
        result = definitions.resolve_job_def(job.name).execute_in_process(
            instance=instance, tags={"engage/trigger": "process"}, raise_on_error=False
        )
        if not result.success:
            return False
    return True
