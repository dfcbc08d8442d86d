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
) -> bool:
    """Run every processing job once, then the GDPR jobs with work, then gold (unless `gold` is
    False) and delivery; True when all runs succeeded (a failed run stops the rest: gold is not
    built from a half-processed batch)."""
    settings = settings or EngageSettings()
    if instance is None:
        from pipelines.dagster_home import ensure_dagster_home

        ensure_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    definitions = build_definitions(settings)
    processing = [job.name for job in PIPELINE_JOBS]
    later = [job.name for job in ALL_JOBS if job.name not in [*processing, build_gold.name]]
    # A killed earlier `process` left its runs unfinished, holding their tables' pools.
    fail_dead_process_runs(instance)
    with pools_watched(instance):
        return (
            all(_run_until_caught_up(definitions, instance, settings, name) for name in processing)
            # Looked up after processing: an erasure may have been waiting for it.
            and _run_all(definitions, instance, _gdpr_jobs_with_work(settings))
            and (not gold or _build_gold_if_inputs_changed(definitions, instance, settings))
            and _run_all(definitions, instance, later)
        )


def _run_until_caught_up(
    definitions: dg.Definitions, instance: dg.DagsterInstance, settings: EngageSettings, name: str
) -> bool:
    """Run a processing job until it has no work left (`job_progress`, as its sensor asks): its
    bronze tables processed through their last commit, since one run takes at most
    ENGAGE_MAX_CHANGES_PER_RUN changes of a backlog. A job with no work does not run at all: an
    empty run costs a second and a refresh of every table it reads."""
    lake = lake_for_thread(settings.resolved_lake_uri)
    with session_scope(settings.resolved_database_url) as session:
        versions, processed = job_progress(lake, session, name)
    while not caught_up(versions, processed):
        before = processed
        if not _run_all(definitions, instance, [name]):
            return False
        with session_scope(settings.resolved_database_url) as session:
            versions, processed = job_progress(lake, session, name)
        if processed == before:  # stuck: a run that advanced nothing would only repeat itself
            return True
    return True


def _gdpr_jobs_with_work(settings: EngageSettings) -> list[str]:
    with session_scope(settings.resolved_database_url) as session:
        return [job.name for job, has_work in GDPR_ON_DEMAND if has_work(session)]


def _build_gold_if_inputs_changed(
    definitions: dg.Definitions, instance: dg.DagsterInstance, settings: EngageSettings
) -> bool:
    """Build gold unless a build by `process` already succeeded from these inputs: those of
    build_gold_sensor, plus the saved segment definitions (the sensors leave a changed definition
    to refresh_segments, which `process` does not run: the build refreshes memberships too)."""
    lake = lake_for_thread(settings.resolved_lake_uri)
    with session_scope(settings.resolved_database_url) as session:
        inputs = f"{gold_fingerprint(lake, session)}|definitions={definitions_fingerprint(session)}"
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:16]
    built = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=build_gold.name,
            statuses=[dg.DagsterRunStatus.SUCCESS],
            tags={GOLD_INPUTS_TAG: digest},
        ),
        limit=1,
    )
    return bool(built) or _run_all(
        definitions, instance, [build_gold.name], {GOLD_INPUTS_TAG: digest}
    )


def _run_all(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    names: list[str],
    tags: dict[str, str] | None = None,
) -> bool:
    for name in names:
        result = definitions.resolve_job_def(name).execute_in_process(
            instance=instance,
            tags={"engage/trigger": "process", PROCESS_TAG: process_identity(), **(tags or {})},
            raise_on_error=False,
        )
        if not result.success:
            return False
    return True
