"""Sensors that start processing when bronze tables get new commits."""

import dagster as dg

from assets.orders.silver import WATERMARK
from assets.resources import LakeResource, OperationalDatabase
from pipelines.jobs import process_orders
from schemas.tables import ORDER_CHANGES
from storage.watermarks import get_watermark

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    job=process_orders,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts process_orders when bronze order_changes has commits beyond the processed "
        "watermark and no processing run is in flight. Cursor: the bronze Delta version."
    ),
)
def order_changes_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    bronze_version = lake.lake.version(ORDER_CHANGES)
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
    if bronze_version <= watermark:
        return dg.SkipReason(f"nothing new: bronze version {bronze_version} is processed")
    in_flight = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=process_orders.name, statuses=IN_FLIGHT), limit=1
    )
    if in_flight:
        return dg.SkipReason("a process_orders run is in flight; the next one takes the rest")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                # One run per bronze version: a tick never launches the same batch twice.
                run_key=f"order_changes-v{bronze_version}",
                tags={
                    "engage/bronze_after_version": str(watermark),
                    "engage/bronze_through_version": str(bronze_version),
                },
            )
        ],
        cursor=str(bronze_version),
    )


PIPELINE_SENSORS = [order_changes_sensor]
