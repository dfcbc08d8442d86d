"""Run all pending pipeline work once, synchronously (`engage-orders process`).

The same jobs the sensors launch run here in-process against the instance in DAGSTER_HOME, so the
run and its materialisations show in the Dagster UI like any other.

Order: the processing jobs, then the GDPR jobs that have work (erasure, extracts), then gold and
delivery. Erasure comes after processing because it waits for a contact's landed data to be
processed, and before gold so that the build starts from what erasure left. Like the sensors, it
runs only what has work: a processing job with nothing landed, or a gold build whose inputs did
not change since the last one, is skipped.

`gold=False` (`--skip-gold`) leaves the star schema to build_gold's sensor, as the daemon does
between two builds: a full rebuild takes minutes at scale, and orders, receipts and
communications need not wait for it.
"""

import hashlib
from dataclasses import dataclass

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.gdpr import GDPR_ON_DEMAND
from pipelines.gold_inputs import gold_fingerprint
from pipelines.jobs import ALL_JOBS, PIPELINE_JOBS, build_gold
from pipelines.pool_slots import (
    PROCESS_TAG,
    fail_dead_process_runs,
    pools_watched,
    process_identity,
)
from pipelines.sensors import caught_up, job_progress
from storage.db import session_scope
from storage.lake import lake_for_thread
from storage.segments import definitions_fingerprint
from storage.settings import EngageSettings

GOLD_INPUTS_TAG = "engage/gold_inputs"
"""Tag of the build_gold runs `process` starts: a digest of what the build read."""


def process_pending(
    settings: EngageSettings | None = None,
    instance: dg.DagsterInstance | None = None,
    *,
    gold: bool = True,
    log_level: str = "DEBUG",
) -> bool:
    """Run every processing job once, then the GDPR jobs with work, then gold (unless `gold` is
    False) and delivery; True when all runs succeeded (a failed run stops the rest: gold is not
    built from a half-processed batch). `log_level` is the level of the runs' console output;
    the instance records every event whatever it is."""
    settings = settings or EngageSettings()
    if instance is None:
        from pipelines.dagster_home import ensure_dagster_home

        ensure_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    runs = _Runs(build_definitions(settings), instance, log_level)
    processing = [job.name for job in PIPELINE_JOBS]
    later = [job.name for job in ALL_JOBS if job.name not in [*processing, build_gold.name]]
    # A killed earlier `process` left its runs unfinished, holding their tables' pools.
    fail_dead_process_runs(instance)
    with pools_watched(instance):
        return (
            all(_run_until_caught_up(runs, settings, name) for name in processing)
            # Looked up after processing: an erasure may have been waiting for it.
            and runs.run_all(_gdpr_jobs_with_work(settings))
            and (not gold or _build_gold_if_inputs_changed(runs, settings))
            and runs.run_all(later)
        )


@dataclass(frozen=True)
class _Runs:
    """Runs jobs of `definitions` in-process on `instance`, tagged as started by `process`."""

    definitions: dg.Definitions
    instance: dg.DagsterInstance
    log_level: str

    def run_all(self, names: list[str], tags: dict[str, str] | None = None) -> bool:
        """Run the jobs one after the other; False at the first that fails."""
        loggers = {"console": {"config": {"log_level": self.log_level}}}
        for name in names:
            result = self.definitions.resolve_job_def(name).execute_in_process(
                instance=self.instance,
                run_config={"loggers": loggers},
                tags={"engage/trigger": "process", PROCESS_TAG: process_identity(), **(tags or {})},
                raise_on_error=False,
            )
            if not result.success:
                return False
        return True


def _run_until_caught_up(runs: _Runs, settings: EngageSettings, name: str) -> bool:
    """Run a processing job until it has no work left (`job_progress`, as its sensor asks): its
    bronze tables processed through their last commit, since one run takes at most
    ENGAGE_MAX_CHANGES_PER_RUN changes of a backlog. A job with no work does not run at all: an
    empty run costs a second and a refresh of every table it reads."""
    lake = lake_for_thread(settings.resolved_lake_uri)
    with session_scope(settings.resolved_database_url) as session:
        versions, processed = job_progress(lake, session, name)
    while not caught_up(versions, processed):
        before = processed
        if not runs.run_all([name]):
            return False
        with session_scope(settings.resolved_database_url) as session:
            versions, processed = job_progress(lake, session, name)
        if processed == before:  # stuck: a run that advanced nothing would only repeat itself
            return True
    return True


def _gdpr_jobs_with_work(settings: EngageSettings) -> list[str]:
    with session_scope(settings.resolved_database_url) as session:
        return [job.name for job, has_work in GDPR_ON_DEMAND if has_work(session)]


def _build_gold_if_inputs_changed(runs: _Runs, settings: EngageSettings) -> bool:
    """Build gold unless a build by `process` already succeeded from these inputs: those of
    build_gold_sensor, plus the saved segment definitions (the sensors leave a changed definition
    to refresh_segments, which `process` does not run: the build refreshes memberships too)."""
    lake = lake_for_thread(settings.resolved_lake_uri)
    with session_scope(settings.resolved_database_url) as session:
        inputs = f"{gold_fingerprint(lake, session)}|definitions={definitions_fingerprint(session)}"
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:16]
    built = runs.instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=build_gold.name,
            statuses=[dg.DagsterRunStatus.SUCCESS],
            tags={GOLD_INPUTS_TAG: digest},
        ),
        limit=1,
    )
    return bool(built) or runs.run_all([build_gold.name], {GOLD_INPUTS_TAG: digest})
