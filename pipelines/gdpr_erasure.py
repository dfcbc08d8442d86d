"""The erasure job and the sensor that launches it when erasure requests fall due."""

from __future__ import annotations

import hashlib

import dagster as dg

from assets.gdpr.erasure import LAKE_WRITERS, erase_due_contacts
from assets.resources import LakeResource, OperationalDatabase
from pipelines.sensors import ERASE_CONTACTS, launch_unless_in_flight
from schemas.tables import ORDER_CHANGES, RECEIPT_SUBMISSIONS
from storage.erasure import due_erasures
from storage.models import utcnow
from storage.watermarks import get_watermark

BRONZE_READ = (ORDER_CHANGES, RECEIPT_SUBMISSIONS)
"""Bronze tables whose processed versions decide whether waiting erasures can go ahead."""


@dg.job(
    name=ERASE_CONTACTS,
    description=(
        "Physically erase every contact whose erasure request is due (after the grace period, "
        "or at once with purge): from every bronze, silver and gold table, their old files and "
        "log, and the operational database; each request records what was removed."
    ),
    executor_def=dg.in_process_executor,
    # Erasure is idempotent: a retry finishes what a failed attempt left.
    tags={"engage/pipeline": "gdpr", "dagster/max_retries": "2"},
)
def erase_contacts() -> None:
    erase_due_contacts()


@dg.sensor(
    name="erasure_sensor",
    job=erase_contacts,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts erase_contacts when erasure requests are due and no job writing the lake is in "
        "flight. Run key: the due request ids, the processed bronze versions and the minute, "
        "so requests waiting for the pipeline are retried at most once a minute."
    ),
)
def erasure_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    with database.session() as session:
        due = [request.request_id for request in due_erasures(session)]
        processed = [get_watermark(session, spec.name) for spec in BRONZE_READ]
    if not due:
        return dg.SkipReason("no erasure request is due")
    minute = utcnow().strftime("%Y-%m-%dT%H:%M")
    fingerprint = hashlib.sha256(f"{sorted(due)}{processed}{minute}".encode()).hexdigest()[:16]
    if fingerprint == context.cursor:
        return dg.SkipReason("this batch of due erasures was launched already")
    blocking = [*LAKE_WRITERS, ERASE_CONTACTS]
    tags = {"engage/gdpr_requests": _tag_value(due)}
    return launch_unless_in_flight(context, fingerprint, f"erase-{fingerprint}", blocking, tags)


def _tag_value(request_ids: list[str]) -> str:
    """The request ids for the run's tags (a tag value has a length limit)."""
    shown = ",".join(request_ids[:5])
    return shown if len(request_ids) <= 5 else f"{shown},+{len(request_ids) - 5} more"
