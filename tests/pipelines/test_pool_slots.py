"""The per-table pools keep moving: a step stranded by Dagster's claim race is assigned, and the
slots of a run whose `engage-orders process` died are freed (pipelines/pool_slots.py).

The states are made through Dagster's own storage calls, on an instance with the product's
`dagster.yaml`: each is the state a race or a SIGKILL leaves (the end-to-end tests that hit them
are in tests/reliability/)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.pool_slots import (
    PROCESS_TAG,
    assign_stranded_steps,
    fail_dead_process_runs,
    process_identity,
)
from tests.support.processing_runs import dagster_home, open_instance

POOL = "orders"


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    with open_instance(dagster_home(tmp_path)) as instance:
        # As a run's first step in the pool does: one slot, the dagster.yaml default.
        assert instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
        assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == 1
        yield instance


def started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = instance.create_run_for_job(
        dg.GraphDefinition(name="writer", node_defs=[]).to_job(), tags=tags
    )
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
        ),
    )
    return run.run_id


def claim(instance: dg.DagsterInstance, run_id: str, step: str) -> bool:
    return instance.event_log_storage.claim_concurrency_slot(POOL, run_id, step).is_claimed


def test_a_step_stranded_beside_a_free_slot_is_assigned_and_can_run(
    instance: dg.DagsterInstance,
) -> None:
    storage = instance.event_log_storage
    first, second = started_run(instance, {}), started_run(instance, {})
    assert claim(instance, first, POOL)
    # The race: `second` found no free slot, `first` freed it and found nobody waiting, then
    # `second` registered as waiting, unassigned.
    storage.free_concurrency_slot_for_step(first, POOL)
    storage.add_pending_step(POOL, second, POOL, should_assign=False)
    assert not claim(instance, second, POOL)  # as Dagster leaves it: waiting forever

    assert assign_stranded_steps(instance) == [POOL]

    assert claim(instance, second, POOL)
    assert assign_stranded_steps(instance) == []


def test_a_step_waiting_for_a_busy_slot_is_left_alone(instance: dg.DagsterInstance) -> None:
    first, second = started_run(instance, {}), started_run(instance, {})
    assert claim(instance, first, POOL)
    assert not claim(instance, second, POOL)

    assert assign_stranded_steps(instance) == []
    assert not claim(instance, second, POOL)


def dead_process_identity() -> str:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return process_identity(int(finished.stdout))


def test_runs_of_a_dead_process_are_failed_and_free_their_slots(
    instance: dg.DagsterInstance,
) -> None:
    dead = started_run(instance, {PROCESS_TAG: dead_process_identity()})
    alive = started_run(instance, {PROCESS_TAG: process_identity()})
    elsewhere = started_run(instance, {PROCESS_TAG: "another-host/1/1"})
    assert claim(instance, dead, POOL)

    assert fail_dead_process_runs(instance) == [dead]

    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    for run_id in (alive, elsewhere):
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    assert claim(instance, alive, POOL)
