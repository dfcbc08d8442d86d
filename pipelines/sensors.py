"""Sensors: processing starts when bronze tables get new commits, and the gold build when what it
reads changed."""

import warnings
from collections.abc import Sequence
from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)
from sqlalchemy.orm import Session

from assets.gold import GOLD_FRESHNESS_CHECKS
from assets.loyalty.ledger import WATERMARK as LOYALTY_LEDGER_WATERMARK
from assets.orders.silver import WATERMARK as ORDER_CHANGES_WATERMARK
from assets.receipts import WATERMARK as RECEIPT_SUBMISSIONS_WATERMARK
from assets.registers.articles import ARTICLE_REGISTER
from assets.registers.stores import STORE_REGISTER
from assets.resources import LakeResource, OperationalDatabase
from assets.segments import SEGMENT_FRESHNESS_CHECKS
from pipelines.gold_inputs import gold_fingerprint
from pipelines.jobs import (
    build_gold,
    deliver_communications,
    process_orders,
    process_receipts,
    process_registers,
    refresh_segments,
)
from schemas.table_spec import TableSpec
from schemas.tables import (
    ARTICLE_SUBMISSIONS,
    ORDER_CHANGES,
    RECEIPT_SUBMISSIONS,
    STORE_SUBMISSIONS,
)
from storage.communications import queue_fingerprint
from storage.lake import Lake
from storage.segments import definitions_fingerprint
from storage.watermarks import get_watermark

ERASE_CONTACTS = "erase_contacts"
"""The erasure job (pipelines/gdpr_erasure.py): it rewrites what the other jobs write, so none of
them is launched while it runs."""

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def run_in_flight(context: dg.SensorEvaluationContext, job_name: str) -> bool:
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1
    )
    return bool(records)


def launch_unless_in_flight(
    context: dg.SensorEvaluationContext,
    fingerprint: str,
    run_key: str,
    blocking: Sequence[str],
    tags: dict[str, str] | None = None,
    run_config: dict[str, Any] | None = None,
) -> dg.SensorResult | dg.SkipReason:
    """Request one run for this fingerprint of the inputs, unless a run of a `blocking` job (or
    erasure) is in flight: that run's successor takes the changes, since the fingerprint will
    still differ from the cursor when it has finished."""
    for job_name in dict.fromkeys([*blocking, ERASE_CONTACTS]):
        if run_in_flight(context, job_name):
            return dg.SkipReason(f"a {job_name} run is in flight; the next one takes the changes")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                run_config=run_config or {},
                tags={"engage/trigger": "sensor", **(tags or {})},
            )
        ],
        cursor=fingerprint,
    )


def bronze_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """A sensor that launches `job` when it has work (`job_progress`): a bronze table with commits
    beyond its watermark, or a later step behind an earlier one after a run died between them.

    At most one run of the job is in flight: the next run takes everything landed meanwhile.
    The cursor records the bronze versions of the last launch.
    """
    sources = BRONZE_SOURCES[job.name]
    names = ", ".join(spec.name for spec, _ in sources)
    bronze = sorted(spec.name for spec, _ in sources)

    @dg.sensor(
        name=f"{job.name}_sensor",
        job=job,
        minimum_interval_seconds=2,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Starts {job.name} when {names} has commits beyond the processed watermark, or a "
            f"run died before its last step, and no {job.name} run is in flight. Cursor: the "
            "bronze Delta versions of the last launch."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lake: LakeResource, database: OperationalDatabase
    ) -> dg.SensorResult | dg.SkipReason:
        with database.session() as session:
            versions, processed = job_progress(lake.lake, session, job.name)
        if caught_up(versions, processed):
            return dg.SkipReason(f"nothing new in {names}")
        for blocking in (job.name, ERASE_CONTACTS):
            if run_in_flight(context, blocking):
                return dg.SkipReason(f"a {blocking} run is in flight; the next one takes the rest")
        cursor = ",".join(f"{name}-v{versions[name]}" for name in bronze)
        return dg.SensorResult(
            # One run per combination of bronze versions and watermarks: a tick never launches a
            # batch twice, and a run that took only part of a backlog (ENGAGE_MAX_CHANGES_PER_RUN)
            # is followed by one for the rest even if nothing new landed.
            run_requests=[
                dg.RunRequest(
                    run_key=f"{cursor}|{_watermarks(processed)}",
                    tags={f"engage/{name}_version": str(versions[name]) for name in bronze},
                )
            ],
            cursor=cursor,
        )

    return _sensor


def bronze_progress(
    lake: Lake, session: Session, sources: Sequence[tuple[TableSpec, str]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Each bronze table's version, and the version through which it is processed."""
    versions = {spec.name: lake.version(spec) for spec, _ in sources}
    processed = {spec.name: get_watermark(session, watermark) for spec, watermark in sources}
    return versions, processed


def caught_up(versions: dict[str, int], processed: dict[str, int]) -> bool:
    return all(version <= processed[name] for name, version in versions.items())


def _watermarks(processed: dict[str, int]) -> str:
    return ",".join(f"{name}-w{version}" for name, version in sorted(processed.items()))


BRONZE_SOURCES: dict[str, list[tuple[TableSpec, str]]] = {
    process_orders.name: [(ORDER_CHANGES, ORDER_CHANGES_WATERMARK)],
    process_registers.name: [
        (ARTICLE_SUBMISSIONS, ARTICLE_REGISTER.watermark),
        (STORE_SUBMISSIONS, STORE_REGISTER.watermark),
    ],
    process_receipts.name: [(RECEIPT_SUBMISSIONS, RECEIPT_SUBMISSIONS_WATERMARK)],
}
"""The bronze tables each processing job reads, with the watermark its runs advance."""

FOLLOWING_WATERMARKS: dict[str, list[tuple[str, str]]] = {
    process_receipts.name: [(LOYALTY_LEDGER_WATERMARK, RECEIPT_SUBMISSIONS_WATERMARK)],
}
"""Per job, watermarks that a later step advances to one an earlier step set, as (later,
earlier). A run that died between the two steps (receipts registered, loyalty not yet) left
work to do though its bronze tables are processed."""


def job_progress(
    lake: Lake, session: Session, job_name: str
) -> tuple[dict[str, int], dict[str, int]]:
    """`bronze_progress` of the job's bronze tables, plus each following watermark's target
    (the earlier step's watermark) and its own value: `caught_up` on the two says whether the
    job has work."""
    versions, processed = bronze_progress(lake, session, BRONZE_SOURCES[job_name])
    for later, earlier in FOLLOWING_WATERMARKS.get(job_name, []):
        versions[later] = get_watermark(session, earlier)
        processed[later] = get_watermark(session, later)
    return versions, processed


order_changes_sensor = bronze_sensor(process_orders)
register_submissions_sensor = bronze_sensor(process_registers)
receipt_submissions_sensor = bronze_sensor(process_receipts)


GOLD_INTERVAL_SECONDS = 30
"""Gold is for analysis, read minutes later: checking every 30 s, rather than after each
2-second micro-batch, leaves the cores to the intake and the processing runs under load."""
SEGMENTS_INTERVAL_SECONDS = 10
"""A saved segment definition is materialised within seconds; no need to ask every 2 s."""


@dg.sensor(
    name="build_gold_sensor",
    job=build_gold,
    minimum_interval_seconds=GOLD_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Every {GOLD_INTERVAL_SECONDS} s, starts build_gold when what gold reads changed since "
        "the last launch (silver table versions, contacts, the day; pipelines/gold_inputs.py) "
        "and no build_gold run is in flight. Cursor and run key: that fingerprint."
    ),
)
def build_gold_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    """A build that is in flight while inputs change is followed by one more: the fingerprint
    still differs from the cursor once it has finished."""
    with database.session() as session:
        fingerprint = gold_fingerprint(lake.lake, session)
    if fingerprint == context.cursor:
        return dg.SkipReason("no gold input changed since the last build_gold launch")
    return launch_unless_in_flight(context, fingerprint, fingerprint, [build_gold.name])


@dg.sensor(
    name="segment_definitions_sensor",
    job=refresh_segments,
    minimum_interval_seconds=SEGMENTS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Every {SEGMENTS_INTERVAL_SECONDS} s, starts refresh_segments when a segment "
        "definition was saved or deleted since the last launch, unless build_gold (which "
        "re-materialises memberships too) or refresh_segments is in flight. Cursor and run key: "
        "a hash of every segment's name and revision."
    ),
)
def segment_definitions_sensor(
    context: dg.SensorEvaluationContext, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    """A definition saved during a build_gold run is picked up by the refresh that follows."""
    with database.session() as session:
        fingerprint = definitions_fingerprint(session)
    if fingerprint == context.cursor:
        return dg.SkipReason("no segment definition changed since the last refresh")
    blocking = [build_gold.name, refresh_segments.name]
    return launch_unless_in_flight(context, fingerprint, f"segments-{fingerprint}", blocking)


@dg.sensor(
    name="communications_sensor",
    job=deliver_communications,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts deliver_communications when communications are queued (or left mid-send by a "
        "crashed run) and no delivery run is in flight. Run key: a fingerprint of what is due, "
        "so a run that made no progress is not relaunched in a loop."
    ),
)
def communications_sensor(
    context: dg.SensorEvaluationContext, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    with database.session() as session:
        fingerprint = queue_fingerprint(session)
    if fingerprint is None:
        return dg.SkipReason("no communication is due")
    blocking = [deliver_communications.name]
    return launch_unless_in_flight(context, fingerprint, f"deliver-{fingerprint}", blocking)


BUILD_GOLD_FRESHNESS_CHECKS = [*GOLD_FRESHNESS_CHECKS, *SEGMENT_FRESHNESS_CHECKS]
"""Every table build_gold rewrites at least daily: the star schema and the segments."""

# The builder is superseded by asset FreshnessPolicy objects, a preview in open source
# (assets/gold/freshness.py); its sensor is what evaluates the freshness checks.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    _freshness_evaluation = dg.build_sensor_for_freshness_checks(
        freshness_checks=BUILD_GOLD_FRESHNESS_CHECKS, name="gold_freshness_evaluation"
    )


@dg.sensor(
    name="gold_freshness_sensor",
    asset_selection=dg.AssetSelection.checks(*BUILD_GOLD_FRESHNESS_CHECKS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Runs the freshness check (`freshness_check`) of each table build_gold rewrites (star "
        "schema and segments) once it is due, in a run of its own. A check fails when its table "
        "was not rebuilt for 25 hours: the daemon, build_gold or build_gold_sensor has stopped."
    ),
)
def gold_freshness_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Dagster's own freshness sensor, under a description that says what it checks."""
    return _freshness_evaluation(context)


PIPELINE_SENSORS = [
    register_submissions_sensor,
    order_changes_sensor,
    receipt_submissions_sensor,
    build_gold_sensor,
    gold_freshness_sensor,
    segment_definitions_sensor,
    communications_sensor,
]
