"""GDPR jobs, the sensors that launch them and the inactivity schedule (SPEC 2.4).

Runs, their tags and run config name GDPR requests by request id only, never by contact id or any
identifier of the person.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from sqlalchemy.orm import Session

from assets.gdpr.inactivity import soft_delete_inactive_contacts
from pipelines.gdpr_erasure import erase_contacts, erasure_sensor
from pipelines.gdpr_extract import extract_personal_data, personal_data_extract_sensor
from storage.erasure import due_erasures
from storage.personal_data_extract import pending_fingerprint

GDPR_JOBS: list[dg.JobDefinition] = [erase_contacts]
GDPR_SENSORS: list[dg.SensorDefinition] = [erasure_sensor]
GDPR_SCHEDULES: list[dg.ScheduleDefinition] = []


@dg.job(
    name="delete_inactive_contacts",
    description=(
        "Delete contacts with no order, receipt or contact change for ENGAGE_GDPR_INACTIVITY_DAYS "
        "(default 730; 0: none): soft delete plus an erasure request with the grace period, as "
        "DELETE /contacts/{id} does."
    ),
    executor_def=dg.in_process_executor,
    # Safe to retry: contacts deleted by a failed attempt are no longer live and are skipped.
    tags={"engage/pipeline": "gdpr", "dagster/max_retries": "2"},
)
def delete_inactive_contacts() -> None:
    soft_delete_inactive_contacts()


inactive_contacts_schedule = dg.ScheduleDefinition(
    name="inactive_contacts_schedule",
    job=delete_inactive_contacts,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Daily at 02:30 UTC: delete contacts inactive for ENGAGE_GDPR_INACTIVITY_DAYS (GDPR "
        "storage limitation), outside the day's order and receipt traffic."
    ),
)

GDPR_JOBS.append(delete_inactive_contacts)
GDPR_SCHEDULES.append(inactive_contacts_schedule)

GDPR_JOBS.append(extract_personal_data)
GDPR_SENSORS.append(personal_data_extract_sensor)

GDPR_ON_DEMAND: list[tuple[dg.JobDefinition, Callable[[Session], bool]]] = [
    (erase_contacts, lambda session: bool(due_erasures(session))),
    (extract_personal_data, lambda session: pending_fingerprint(session) is not None),
]
"""The sensor-launched GDPR jobs, in the order `engage-orders process` runs them, each with the
test of whether it has work (so `process` leaves no empty runs behind). Scheduled jobs
(inactivity) are left to their schedule."""
