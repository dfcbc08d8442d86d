"""Dagster's own storage on PostgreSQL: with ENGAGE_DAGSTER_DATABASE_URL set, a new DAGSTER_HOME
gets a dagster.yaml that keeps runs, events, schedules and pool slots there, and the pipeline
runs against it (issue 9: several machines share one instance).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from storage.settings import EngageSettings
from tests.support.databases import POSTGRES_URL
from tests.support.orders import order_body, post_order, succeeded_tag
from tests.support.postgres_database import Database, own_database

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="needs ENGAGE_TEST_POSTGRES_URL (.ci/run sets it)"
)


@pytest.fixture
def dagster_database() -> Iterator[Database]:
    with own_database(POSTGRES_URL or "", "engage_dagster") as database:
        yield database


@pytest.mark.databases("postgres")  # as in production: both databases on the server
def test_the_pipeline_runs_with_dagster_storage_in_postgresql(
    api: httpx.Client, settings: EngageSettings, dagster_database: Database, tmp_path: Path
) -> None:
    job_id = post_order(api, order_body("DAGSTER-PG-1"))
    home = tmp_path / "dagster-home"  # new: engage-orders writes its dagster.yaml
    env = {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
        "DAGSTER_HOME": str(home),
        "ENGAGE_DAGSTER_DATABASE_URL": dagster_database.psycopg2_url(),
    }
    finished = subprocess.run(
        [str(Path(sys.executable).with_name("engage-orders")), "process"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    succeeded_tag(api, job_id)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["storage"] == {
        "postgres": {"postgres_url": {"env": "ENGAGE_DAGSTER_DATABASE_URL"}}
    }
    assert config["concurrency"]["pools"]["default_limit"] == 1
    engine = create_engine(dagster_database.url)
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT pipeline_name, status FROM runs")).all()
        pools = connection.execute(text("SELECT concurrency_key FROM concurrency_limits")).all()
    engine.dispose()
    assert ("process_orders", "SUCCESS") in {(name, status) for name, status in runs}
    assert {"orders", "order_versions"} <= {key for (key,) in pools}
    assert not (home / "history").exists()  # nothing in SQLite files
