"""`engage-orders process`: pending work runs through Dagster on the DAGSTER_HOME instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster._core.instance.ref import InstanceRef

from storage.settings import EngageSettings
from tests.support.orders import order_body, post_order, succeeded_tag
from tests.support.processing_runs import run_command


@pytest.mark.databases("sqlite")  # the command and DAGSTER_HOME are the point, not the database
def test_process_skip_gold_runs_pending_orders_in_dagster_home_and_builds_no_gold(
    api: httpx.Client, settings: EngageSettings, tmp_path: Path
) -> None:
    job_id = post_order(api, order_body("CLI-1"))
    dagster_home = tmp_path / "dagster-home"
    finished = run_command(settings, dagster_home, "process", "--skip-gold")
    assert finished.returncode == 0, finished.stderr[-3000:]
    succeeded_tag(api, job_id)

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))
    runs = instance.get_run_records(filters=dg.RunsFilter(job_name="process_orders"))
    assert [record.dagster_run.status for record in runs] == [dg.DagsterRunStatus.SUCCESS]
    assert runs[0].dagster_run.tags["engage/trigger"] == "process"
    # --skip-gold: the star schema is left to its sensor; delivery still ran.
    jobs = {record.dagster_run.job_name for record in instance.get_run_records()}
    assert jobs == {"process_orders", "deliver_communications"}
