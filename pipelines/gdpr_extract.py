"""The personal data extract job and the sensor that launches it (SPEC 2.4).

Kept apart from `pipelines.gdpr`, which lists it in GDPR_JOBS / GDPR_SENSORS. The run carries no
config and no tags of its own beyond the trigger: which requests it builds is read from the
operational database when it runs, so nothing about the person can reach the run's record.
"""

import dagster as dg

from assets.gdpr.extract import build_personal_data_extracts
from assets.resources import OperationalDatabase
from pipelines.sensors import launch_unless_in_flight
from storage.personal_data_extract import pending_fingerprint


@dg.job(
    name="extract_personal_data",
    description=(
        "Build every pending personal data extract (POST /contacts/{id}/personal-data-extract): "
        "one JSON document per request with the contact, its orders and all their versions, "
        "receipts, communications, loyalty ledger and integration-log entries, downloadable at "
        "GET /gdpr/requests/{requestId}/extract."
    ),
    executor_def=dg.in_process_executor,
    # Safe to retry: only requests still Pending are built, and a document is stored together
    # with the Completed status.
    tags={"engage/pipeline": "gdpr", "dagster/max_retries": "2"},
)
def extract_personal_data() -> None:
    build_personal_data_extracts()


@dg.sensor(
    name="personal_data_extract_sensor",
    job=extract_personal_data,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts extract_personal_data when extract requests are pending and no extract run is "
        "in flight. Cursor and run key: a hash of the pending request ids, so one set of "
        "requests is launched once."
    ),
)
def personal_data_extract_sensor(
    context: dg.SensorEvaluationContext, database: OperationalDatabase
) -> dg.SensorResult | dg.SkipReason:
    """A request made while a run is in flight is taken by the next run: the pending set (and
    with it the fingerprint) still differs once the running one has settled its requests."""
    with database.session() as session:
        fingerprint = pending_fingerprint(session)
    if fingerprint is None:
        return dg.SkipReason("no personal data extract is pending")
    blocking = [extract_personal_data.name]
    return launch_unless_in_flight(context, fingerprint, f"extract-{fingerprint}", blocking)
