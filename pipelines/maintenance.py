"""Lake maintenance: the job, the hourly schedule for every table, and the sensor that maintains
a bronze table the processing runs have not kept tidy (assets.maintenance.bronze)."""

from __future__ import annotations

import dagster as dg

from assets.maintenance.ops import maintain_lake_tables
from assets.resources import LakeMaintenancePolicy, LakeResource
from pipelines.sensors import launch_unless_in_flight
from schemas.tables import BRONZE_TABLES
from storage.lake import Lake

MAINTAIN_LAKE = "maintain_lake"

BRONZE_CHECK_SECONDS = 30

FALLBACK_FACTOR = 5
"""The processing run that reads a bronze table maintains it at ENGAGE_LAKE_COMPACT_FILES files
(assets.maintenance.bronze); this sensor steps in only at five times that, when processing is
not keeping up (failing, paused, or a backlog), so the intake's commits stay cheap meanwhile."""


@dg.job(
    name=MAINTAIN_LAKE,
    description=(
        "Compact, vacuum, checkpoint and cut the log of Delta tables (all, or those named in "
        "the run config), keeping what the pipeline has yet to read and the time-travel window "
        "(ENGAGE_LAKE_HISTORY_HOURS). Runs beside the intake and the processing jobs."
    ),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "maintenance", "dagster/max_retries": "1"},
)
def maintain_lake() -> None:
    maintain_lake_tables()


lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_schedule",
    job=maintain_lake,
    cron_schedule="17 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Hourly: maintain every table (silver and gold are rewritten by each run, so their "
        "replaced files and log entries pile up; the history window bounds what is kept)."
    ),
)


@dg.sensor(
    name="bronze_maintenance_sensor",
    job=maintain_lake,
    minimum_interval_seconds=BRONZE_CHECK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Every {BRONZE_CHECK_SECONDS} s, starts maintain_lake for the bronze tables that have "
        f"{FALLBACK_FACTOR} times ENGAGE_LAKE_COMPACT_FILES active files or more (every intake "
        "commit adds one and makes the next commit slower; processing runs maintain their "
        "table before that), unless maintenance or erasure is in flight."
    ),
)
def bronze_maintenance_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, lake_maintenance: LakeMaintenancePolicy
) -> dg.SensorResult | dg.SkipReason:
    threshold = lake_maintenance.compact_files * FALLBACK_FACTOR
    crowded = crowded_bronze_tables(lake.lake, threshold)
    if not crowded:
        return dg.SkipReason(f"no bronze table has {threshold} files")
    fingerprint = ",".join(f"{name}-v{version}" for name, version in sorted(crowded.items()))
    config = {"ops": {maintain_lake_tables.name: {"config": {"tables": sorted(crowded)}}}}
    return launch_unless_in_flight(
        context, fingerprint, f"bronze-{fingerprint}", [MAINTAIN_LAKE], run_config=config
    )


def crowded_bronze_tables(lake: Lake, threshold: int) -> dict[str, int]:
    """Bronze tables with at least `threshold` active files, with their current version."""
    crowded: dict[str, int] = {}
    for spec in BRONZE_TABLES:
        if not lake.exists(spec):
            continue
        table = lake.table(spec)
        if len(table.file_uris()) >= threshold:
            crowded[spec.name] = table.version()
    return crowded


MAINTENANCE_JOBS = [maintain_lake]
MAINTENANCE_SCHEDULES = [lake_maintenance_schedule]
MAINTENANCE_SENSORS = [bronze_maintenance_sensor]
