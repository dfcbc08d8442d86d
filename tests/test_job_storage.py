"""A batch's jobs in the operational database (SQLite and PostgreSQL): Queued at landing,
Processing while a run applies them, then settled; a job the intake never registered (it died
between the Delta commit and the database's) is created when its outcome is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.db import migrate, session_scope
from storage.jobs import (
    JobOutcome,
    JobStatus,
    NewJob,
    get_job,
    mark_processing,
    record_outcomes,
    register_queued,
)

LANDED_AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def new_job(number: int) -> NewJob:
    return NewJob(
        job_id=f"00000000-0000-4000-8000-{number:012d}",
        resource="orders",
        order_id=f"ST-{number}",
        change_type="create",
        api_key_id="key-1",
        created_at=LANDED_AT,
    )


def status_of(url: str, job: NewJob) -> str | None:
    with session_scope(url) as session:
        row = get_job(session, job.job_id)
        return None if row is None else row.status


def test_queued_jobs_become_processing_but_settled_ones_stay(url: str) -> None:
    queued, settled = new_job(1), new_job(2)
    with session_scope(url) as session:
        register_queued(session, [queued, settled])
        record_outcomes(session, [JobOutcome(settled.job_id, JobStatus.FAILED, None, [])], [])
    with session_scope(url) as session:
        mark_processing(session, [queued.job_id, settled.job_id, "not-a-job"])
    assert status_of(url, queued) == "Processing"
    assert status_of(url, settled) == "Failed"


def test_outcomes_settle_registered_jobs_and_create_the_unregistered_one(url: str) -> None:
    registered, lost = new_job(1), new_job(2)
    with session_scope(url) as session:
        register_queued(session, [registered])
    errors = [{"code": "VersionConflict", "message": "stale", "path": "/versionTag"}]
    outcomes = [
        JobOutcome(registered.job_id, JobStatus.SUCCEEDED, "tag-1", []),
        JobOutcome(lost.job_id, JobStatus.FAILED, None, errors),
    ]
    with session_scope(url) as session:
        record_outcomes(session, outcomes, [registered, lost])
    with session_scope(url) as session:
        done = get_job(session, registered.job_id)
        created = get_job(session, lost.job_id)
        assert done is not None
        assert created is not None
        assert (done.status, done.version_tag) == ("Succeeded", "tag-1")
        assert (created.status, created.order_id, created.api_key_id) == (
            "Failed",
            "ST-2",
            "key-1",
        )
        assert created.created_at.replace(tzinfo=UTC) == LANDED_AT
        assert "VersionConflict" in str(created.errors)


def test_recording_the_same_outcomes_again_changes_nothing(url: str) -> None:
    job = new_job(1)
    outcome = JobOutcome(job.job_id, JobStatus.SUCCEEDED, "tag-1", [])
    for _ in range(2):
        with session_scope(url) as session:
            record_outcomes(session, [outcome], [job])
    assert status_of(url, job) == "Succeeded"
