"""Keeping the per-table pools moving: no writer may wait forever for a table.

Every asset that writes a Delta table holds the Dagster pool named after the table, which has one
slot (`dagster.yaml`). Two faults would stall a table's writers for good, and this module repairs
both:

1. **A stranded step.** Dagster 1.13 registers a waiting step in two statements: it checks for a
   free slot, then inserts itself as pending, "assigned" only if the check found one. A slot
   freed between the two is handed to nobody, and the step waits forever.
   `tests/reliability/test_processing_contention.py` hit this with two `engage-orders process`
   at once. `assign_stranded_steps` assigns such steps. Assigning one too many is harmless:
   a step still takes a slot row before it runs, and its table's writer lock while it runs
   (storage/table_locks.py).
2. **Slots held by a dead run.** A run whose process was killed keeps its slots until the run is
   marked finished. The daemon's run monitoring marks the runs it launched and frees their
   slots (`free_slots_after_run_end_seconds`). The runs of `engage-orders process` run inside
   that process, so nothing would. They carry the process's identity (`PROCESS_TAG`), and
   `fail_dead_process_runs` marks a run failed and frees its slots once that process is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

log = logging.getLogger(__name__)

PROCESS_TAG = "engage/process"
"""`host/pid/start`: the `engage-orders process` that runs the run in-process."""

WATCH_INTERVAL_S = 5.0
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def process_identity(pid: int | None = None) -> str:
    """This host, the pid and the process's start time (a reused pid has another start)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """Clock ticks after boot at which `pid` started (Linux); empty elsewhere or if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return ""
    return stat[stat.rfind(")") + 2 :].split()[19]


def _is_alive(identity: str) -> bool:
    host, _, rest = identity.partition("/")
    pid_text, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's process: not ours to judge
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_time(pid) == started if started else True


def fail_dead_process_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark unfinished runs of `engage-orders process`es that no longer exist as failed, and free
    their slots; returns their run ids."""
    failed: list[str] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        identity = run.tags.get(PROCESS_TAG)
        if identity is None or _is_alive(identity):
            continue
        instance.report_run_failed(run)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning("run %s of a process that died was marked failed", run.run_id)
        failed.append(run.run_id)
    return failed


def assign_stranded_steps(instance: dg.DagsterInstance) -> list[str]:
    """Assign a waiting step in each pool that has room but left its steps waiting; returns
    those pools."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    stranded = []
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        has_room = info.assigned_step_count < info.slot_count
        if info.pending_step_count and has_room and not info.active_slot_count:
            stranded.append(key)
    if stranded:
        storage.assign_pending_steps(stranded)
        log.warning("assigned waiting steps in pools %s", ", ".join(stranded))
    return stranded


@contextmanager
def pools_watched(instance: dg.DagsterInstance) -> Iterator[None]:
    """While the block runs, check the pools every WATCH_INTERVAL_S in a background thread.

    The thread opens the instance anew: sharing the caller's storage connections across threads
    fails ("database table is locked"). An ephemeral instance (in memory) is watched by nobody:
    no other process can share it, so neither fault can happen there.
    """
    if instance.is_ephemeral:
        yield
        return
    stop = threading.Event()

    def watch() -> None:
        with dg.DagsterInstance.from_ref(instance.get_ref()) as own:
            while not stop.wait(WATCH_INTERVAL_S):
                try:
                    fail_dead_process_runs(own)
                    assign_stranded_steps(own)
                except Exception as error:  # a failed check must not end the watch
                    log.warning("checking the pools failed: %s", type(error).__name__)

    watcher = threading.Thread(target=watch, name="pool-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=WATCH_INTERVAL_S * 2)


POOL_WATCH_SECONDS = 30


@dg.sensor(
    name="pool_watch_sensor",
    minimum_interval_seconds=POOL_WATCH_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Every {POOL_WATCH_SECONDS} s, keeps the per-table pools moving "
        "(pipelines/pool_slots.py): fails runs of `engage-orders process`es that died and frees "
        "their slots, and assigns steps left waiting in a pool that has room. Launches nothing."
    ),
)
def pool_watch_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_process_runs(context.instance)
    stranded = assign_stranded_steps(context.instance)
    if not failed and not stranded:
        return dg.SkipReason("every pool is moving")
    return dg.SkipReason(
        f"failed {len(failed)} runs of dead processes; assigned steps in {', '.join(stranded)}"
    )


POOL_SENSORS = [pool_watch_sensor]
