"""`engage-orders serve --workers 2`: two intake processes on one port, each with its own group
commit, appending to the same bronze tables. Every acknowledged payload lands once and is
processed once, and `/metrics` answers for both workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import polars as pl
import pytest
from prometheus_client import multiprocess

from pipelines.processing import process_pending
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS, RECEIPT_SUBMISSIONS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.concurrent_posts import post_concurrently
from tests.support.processes import descendants
from tests.support.served_intake import ServedIntake

PAYLOADS = 600
CLIENTS = 16


@pytest.fixture
def metrics_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "metrics"
    folder.mkdir()
    return folder


@pytest.fixture
def intake(
    settings: EngageSettings, tmp_path: Path, metrics_folder: Path
) -> Iterator[ServedIntake]:
    unlimited = settings.model_copy(update={"rate_limit_per_s": 0.0})
    served = ServedIntake(
        unlimited, tmp_path / "intake.log", workers=2, PROMETHEUS_MULTIPROC_DIR=str(metrics_folder)
    )
    served.start()
    try:
        yield served
    finally:
        served.stop()


def landed_rows_by_worker(folder: Path) -> dict[str, float]:
    """Rows each worker landed, from the metric files it wrote (one file per process)."""
    rows: dict[str, float] = {}
    for path in sorted(folder.glob("counter_*.db")):
        for metric in multiprocess.MultiProcessCollector.merge([str(path)], accumulate=True):
            if metric.name == "engage_landed_rows":
                rows[path.stem] = sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return rows


# Two processes writing one SQLite file is the contended case; two workers on PostgreSQL (and S3)
# are tests/e2e/test_object_storage.py.
@pytest.mark.databases("sqlite")
def test_two_workers_land_every_acknowledged_payload_once(
    intake: ServedIntake, settings: EngageSettings, admin_key: str, metrics_folder: Path
) -> None:
    assert intake.pid is not None
    workers = [pid for pid in descendants(intake.pid) if pid != intake.pid]
    sent = post_concurrently(intake.base_url, admin_key, PAYLOADS, CLIENTS, prefix="WORKERS")

    assert len(sent) == PAYLOADS
    assert {item.status for item in sent} == {202}
    lake = Lake(settings.resolved_lake_uri)
    orders = lake.scan(ORDER_CHANGES).select("order_id").collect()["order_id"].to_list()
    receipts = lake.scan(RECEIPT_SUBMISSIONS).select("unique_receipt_id").collect().to_series()
    assert sorted(orders + receipts.to_list()) == sorted(item.payload_id for item in sent)
    # Both workers took their share, and /metrics counts for both.
    by_worker = landed_rows_by_worker(metrics_folder)
    assert len([rows for rows in by_worker.values() if rows > 0]) == 2, by_worker
    assert len(workers) >= 2
    scrape = httpx.get(f"{intake.base_url}/metrics").text
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in scrape.splitlines()
        if line.startswith("engage_landed_rows_total{")
    )
    assert total == PAYLOADS

    assert process_pending(settings, instance=dg.DagsterInstance.ephemeral(), gold=False)
    versions = lake.scan(ORDER_VERSIONS).group_by("order_id").len().collect()
    assert versions.height == PAYLOADS // 2
    assert versions.filter(pl.col("len") != 1).is_empty()
    with httpx.Client(base_url=f"{intake.base_url}/api/v3", headers={"apikey": admin_key}) as api:
        for item in sent:
            response = api.get(f"/{item.kind}/jobs/{item.job_id}", follow_redirects=False)
            assert response.json()["status"] == "Succeeded", response.text
