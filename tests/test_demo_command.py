"""`engage-orders demo`: a seeded history posted over HTTP and processed, as a newcomer runs it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from sqlalchemy import func, select

from pipelines.demo.script import DemoScript
from schemas.gold_tables import FACT_ORDER
from schemas.sample_orders import DEFAULT_SEED
from schemas.tables import ARTICLES, RECEIPTS, STORES
from storage.db import session_scope
from storage.lake import Lake
from storage.models import Job
from storage.settings import EngageSettings
from tests.support.processing_runs import run_command

SIZE = {"contacts": 20, "orders": 60, "days": 20}


@pytest.mark.databases("sqlite")  # the command's own installation: the embedded default
def test_demo_posts_a_history_processes_it_and_says_where_to_look(
    settings: EngageSettings, tmp_path: Path
) -> None:
    dagster_home = tmp_path / "dagster-home"
    options = [f"--{name}={value}" for name, value in SIZE.items()]
    finished = run_command(settings, dagster_home, "demo", *options, "--as-of", "2026-11-01")

    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "0 refused" in finished.stderr
    assert "Where to look" in finished.stdout
    assert "/api/v3/orders/DEMO-000000001" in finished.stdout
    script = DemoScript(**SIZE, seed=DEFAULT_SEED, now=datetime(2026, 11, 1, tzinfo=UTC))
    requests = list(script.requests())
    with session_scope(settings.resolved_database_url) as session:
        jobs = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    writes = sum(request.kind in ("orders", "receipts") for request in requests)
    assert dict(jobs) == {"Succeeded": writes + 2}  # and one job per register batch
    lake = Lake(settings.resolved_lake_uri)
    receipts = [request for request in requests if request.kind == "receipts"]
    assert lake.scan(RECEIPTS).collect().height == len(receipts)
    assert lake.scan(FACT_ORDER).collect().height == SIZE["orders"]
    assert lake.scan(ARTICLES).collect().height == 200
    assert lake.scan(STORES).collect().height > 1
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))
    jobs_run = {record.dagster_run.job_name for record in instance.get_run_records()}
    assert {"process_registers", "process_orders", "process_receipts", "build_gold"} <= jobs_run
