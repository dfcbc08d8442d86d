"""`engage-orders process` as its own process, as operators (or a second operator) start it, and
what its Dagster runs recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from pipelines.dagster_home import DAGSTER_YAML
from storage.settings import EngageSettings

PROCESS_TIMEOUT_S = 300


def dagster_home(parent: Path) -> Path:
    """A `DAGSTER_HOME` in `parent` with the product's `dagster.yaml` (one writer per table), its
    storage created here: two processes creating it side by side would race on its schema."""
    home = parent / "dagster-home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    with open_instance(home) as instance:
        instance.get_runs_count()
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def process_env(settings: EngageSettings, home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
        "ENGAGE_LAKE_URI": settings.resolved_lake_uri,
        "DAGSTER_HOME": str(home),
        **extra,
    }


def run_command(
    settings: EngageSettings, home: Path, *arguments: str, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    """`engage-orders ARGUMENTS` to its end, on this installation with DAGSTER_HOME `home`."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("engage-orders")), *arguments],
        env=process_env(settings, home),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def start_process(
    settings: EngageSettings,
    home: Path,
    *,
    crash_at: str | None = None,
    record_writes_to: Path | None = None,
    skip_gold: bool = False,
    **extra: str,
) -> subprocess.Popen[str]:
    """`engage-orders process` (with `skip_gold`, `--skip-gold`); with `crash_at`, one that
    SIGKILLs itself at that point; with `record_writes_to`, one that logs its Delta writes there
    (tests/support/instrumented_process.py)."""
    command = [str(Path(sys.executable).with_name("engage-orders")), "process"]
    if skip_gold:
        command.append("--skip-gold")
    instrumented = [sys.executable, "-m", "tests.support.instrumented_process"]
    if crash_at:
        command = [*instrumented, "crash", crash_at]
    elif record_writes_to:
        command = [*instrumented, "record", str(record_writes_to)]
    return subprocess.Popen(
        command,
        env=process_env(settings, home, **extra),
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Its exit code and output, once it has ended."""
    output, _ = process.communicate(timeout=PROCESS_TIMEOUT_S)
    return process.returncode, output


@dataclass(frozen=True)
class StepSpan:
    """When one step of one run held its table."""

    run_id: str
    job: str
    step: str
    started: float
    ended: float


def step_spans(instance: dg.DagsterInstance) -> list[StepSpan]:
    """Every finished step of every run in the instance, from its event log."""
    spans: list[StepSpan] = []
    for record in instance.get_run_records():
        run = record.dagster_run
        events = instance.all_logs(
            run.run_id,
            of_type={
                dg.DagsterEventType.STEP_START,
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
            },
        )
        started: dict[str, float] = {}
        for event in events:
            step = event.step_key or ""
            if event.dagster_event_type == dg.DagsterEventType.STEP_START:
                started[step] = event.timestamp
            elif step in started:
                spans.append(
                    StepSpan(run.run_id, run.job_name, step, started[step], event.timestamp)
                )
    return spans
