"""Processing runs of one job queue behind each other instead of launching one after the other.

Starting a run worker costs seconds (a new process imports Dagster, polars, pydantic and the
code location), which an order waits on between its 202 and `Succeeded`. The bronze sensors
therefore launch the next run while the current one works; the next run's first step waits here
until every earlier run of its job has finished, and only then reads the watermark its batch
starts from. So two runs never apply the same changes, and the worker's start overlaps the
current run instead of following it.
"""

from __future__ import annotations

import time

import dagster as dg

WAIT_POLL_SECONDS = 0.2
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def wait_for_earlier_runs(context: dg.AssetExecutionContext) -> float:
    """Block until no run of this job created before this one is in flight; returns the seconds
    waited. A run executed in-process without run storage (tests, `engage-orders process` on an
    ephemeral instance) has no earlier runs and never waits."""
    instance = context.instance
    own = instance.get_run_record_by_id(context.run_id)
    if own is None:
        return 0.0
    started = time.perf_counter()
    while earlier_runs_in_flight(instance, context.job_name, own):
        time.sleep(WAIT_POLL_SECONDS)
    return round(time.perf_counter() - started, 3)


def earlier_runs_in_flight(instance: dg.DagsterInstance, job_name: str, own: dg.RunRecord) -> bool:
    """Runs are ordered by their storage id: the order in which they were created."""
    records = instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT))
    return any(record.storage_id < own.storage_id for record in records)
