"""Sensors that start processing when bronze tables get new commits."""

from collections.abc import Sequence

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from assets.orders.silver import WATERMARK as ORDER_CHANGES_WATERMARK
from assets.receipts import WATERMARK as RECEIPT_SUBMISSIONS_WATERMARK
from assets.registers.articles import ARTICLE_REGISTER
from assets.registers.stores import STORE_REGISTER
from assets.resources import LakeResource, OperationalDatabase
from pipelines.jobs import process_orders, process_receipts, process_registers
from schemas.table_spec import TableSpec
from schemas.tables import (
    ARTICLE_SUBMISSIONS,
    ORDER_CHANGES,
    RECEIPT_SUBMISSIONS,
    STORE_SUBMISSIONS,
)
from storage.watermarks import get_watermark

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def bronze_sensor(
    job: UnresolvedAssetJobDefinition, sources: Sequence[tuple[TableSpec, str]]
) -> dg.SensorDefinition:
    """A sensor that launches `job` when a bronze table has commits beyond its watermark.

    `sources` pairs each bronze table with the name of the watermark its processing advances.
    At most one run of the job is in flight: the next run takes everything landed meanwhile.
    The cursor records the bronze versions of the last launch.
    """
    names = ", ".join(spec.name for spec, _ in sources)

    @dg.sensor(
        name=f"{job.name}_sensor",
        job=job,
        minimum_interval_seconds=2,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Starts {job.name} when {names} has commits beyond the processed watermark and no "
            f"{job.name} run is in flight. Cursor: the bronze Delta versions of the last launch."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lake: LakeResource, database: OperationalDatabase
    ) -> dg.SensorResult | dg.SkipReason:
        versions = {spec.name: lake.lake.version(spec) for spec, _ in sources}
        with database.session() as session:
            behind = [
                spec.name
                for spec, watermark in sources
                if versions[spec.name] > get_watermark(session, watermark)
            ]
        if not behind:
            return dg.SkipReason(f"nothing new in {names}")
        in_flight = context.instance.get_run_records(
            filters=dg.RunsFilter(job_name=job.name, statuses=IN_FLIGHT), limit=1
        )
        if in_flight:
            return dg.SkipReason(f"a {job.name} run is in flight; the next one takes the rest")
        cursor = ",".join(f"{name}-v{version}" for name, version in sorted(versions.items()))
        return dg.SensorResult(
            # One run per combination of bronze versions: a tick never launches a batch twice.
            run_requests=[
                dg.RunRequest(
                    run_key=cursor,
                    tags={
                        f"engage/{name}_version": str(version) for name, version in versions.items()
                    },
                )
            ],
            cursor=cursor,
        )

    return _sensor


order_changes_sensor = bronze_sensor(process_orders, [(ORDER_CHANGES, ORDER_CHANGES_WATERMARK)])

register_submissions_sensor = bronze_sensor(
    process_registers,
    [
        (ARTICLE_SUBMISSIONS, ARTICLE_REGISTER.watermark),
        (STORE_SUBMISSIONS, STORE_REGISTER.watermark),
    ],
)

receipt_submissions_sensor = bronze_sensor(
    process_receipts, [(RECEIPT_SUBMISSIONS, RECEIPT_SUBMISSIONS_WATERMARK)]
)

PIPELINE_SENSORS = [register_submissions_sensor, order_changes_sensor, receipt_submissions_sensor]
