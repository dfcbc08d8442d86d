"""The Dagster instance folder (`DAGSTER_HOME`) of the embedded set-up.

Without `DAGSTER_HOME`, Dagster falls back to a temporary instance and run history is lost, and the
webserver, the daemon and `engage-orders process` would not see each other's runs. Every entry point
therefore calls `ensure_dagster_home` before anything touches Dagster.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from storage.settings import EngageSettings

WRITTEN_ONCE = "# Written once by engage-orders; edit freely, it is never overwritten.\n"

SQLITE_STORAGE = """\
# Storage is not configured, so Dagster keeps runs, events and schedules in SQLite files here
# (one machine only). For a shared deployment set ENGAGE_DAGSTER_DATABASE_URL before the first
# start: a new DAGSTER_HOME then gets PostgreSQL storage.
"""

POSTGRES_STORAGE = """\
# Runs, events, schedules and pool slots in PostgreSQL (ENGAGE_DAGSTER_DATABASE_URL, read at
# each start): several machines can share the instance, and a pool slot is claimed atomically.
storage:
  postgres:
    postgres_url:
      env: ENGAGE_DAGSTER_DATABASE_URL
"""

INSTANCE_SETTINGS = """
telemetry:
  enabled: false
nux:
  # No newsletter sign-up dialog over the UI at the first visit: operators come to work.
  enabled: false

concurrency:
  pools:
    # One writer per Delta table: every asset that writes a table declares a pool named after it,
    # and two concurrent commits to one table would make the second one fail.
    default_limit: 1
  runs:
    # Runs wait in the queue beyond this; the sensors never need more than a few at once.
    max_concurrent_runs: 4
    # One run of each pipeline (orders, receipts, gold, maintenance, ...) at a time: a second
    # would only wait for the first one's tables.
    tag_concurrency_limits:
      - key: engage/pipeline
        value:
          applyLimitPerUniqueValue: true
        limit: 1

run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # A queued run starts within a second instead of five: processing runs are small and
    # frequent, and this is part of how long an order takes from the 202 to Succeeded.
    dequeue_interval_seconds: 1
    dequeue_use_threads: true

run_retries:
  # A processing run that fails (e.g. storage was briefly unreachable) is retried; the jobs say
  # how often with the dagster/max_retries tag.
  enabled: true
  max_retries: 0
run_monitoring:
  # Fails runs whose worker died (e.g. the machine restarted) instead of leaving them STARTED.
  enabled: true
  # ... and frees the pool slots such a run held: without this, a table's writers would wait
  # for them forever (pipelines/pool_slots.py does the same for `engage-orders process`).
  free_slots_after_run_end_seconds: 30

sensors:
  use_threads: true
  num_workers: 4

schedules:
  use_threads: true
  num_workers: 4
"""

DAGSTER_YAML = WRITTEN_ONCE + SQLITE_STORAGE + INSTANCE_SETTINGS
"""The embedded instance's configuration."""


def dagster_yaml(settings: EngageSettings) -> str:
    """The configuration a new DAGSTER_HOME gets: SQLite storage in the folder, or PostgreSQL
    when ENGAGE_DAGSTER_DATABASE_URL is set."""
    storage = POSTGRES_STORAGE if settings.dagster_database_url else SQLITE_STORAGE
    return WRITTEN_ONCE + storage + INSTANCE_SETTINGS


def dagster_home_path(settings: EngageSettings) -> Path:
    """`$DAGSTER_HOME` when the operator set it, else `$ENGAGE_HOME/dagster`; always absolute.

    Absolute because the webserver, the daemon and the run workers may run from other folders.
    """
    configured = os.environ.get("DAGSTER_HOME", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return settings.resolved_home / "dagster"


def ensure_dagster_home(settings: EngageSettings) -> Path:
    """Create the instance folder and its `dagster.yaml` if missing, and export `DAGSTER_HOME`.

    An existing `dagster.yaml` is left alone so that an operator's changes survive restarts.
    """
    home = dagster_home_path(settings)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        _write_atomically(config, dagster_yaml(settings))
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def prepare_dagster_instance() -> None:
    """Create the instance's storage (SQLite files and their schema) once, in this process.

    The webserver and the daemon both create it on first start; started side by side on a fresh
    `DAGSTER_HOME` they race and one dies with "table alembic_version already exists".
    """
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        instance.get_runs_count()


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a concurrent reader never sees half a file."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(text)
        temporary = Path(handle.name)
    os.replace(temporary, path)
