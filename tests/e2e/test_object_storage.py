"""Two intake workers commit to the same Delta tables on S3 at once. The whole end-to-end suite
also runs on S3 (tests.support.installations); this test is about concurrent commits: delta-rs
commits with a conditional put (If-None-Match, `AWS_CONDITIONAL_PUT=etag`), so two writers can
never both take one table version, and the loser retries on the next."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import polars as pl
import pytest

from pipelines.processing import process_pending
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS, RECEIPT_SUBMISSIONS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.concurrent_posts import post_concurrently
from tests.support.object_storage import S3Endpoint
from tests.support.served_intake import ServedIntake

pytestmark = pytest.mark.without_gold

PAYLOADS = 100
CLIENTS = 8


def commit_files(s3: S3Endpoint, table: str) -> list[str]:
    """The commits of a bronze table, oldest first (their file names are the versions)."""
    return sorted(
        key for key in s3.object_keys(f"lake/{table}/_delta_log/") if key.endswith(".json")
    )


@pytest.mark.lake("s3")
def test_two_intake_workers_append_to_the_same_tables_on_s3(
    settings: EngageSettings, s3: S3Endpoint, admin_key: str, tmp_path: Path
) -> None:
    unlimited = settings.model_copy(update={"rate_limit_per_s": 0.0})
    intake = ServedIntake(unlimited, tmp_path / "intake.log", workers=2)
    intake.start()
    try:
        sent = post_concurrently(intake.base_url, admin_key, PAYLOADS, CLIENTS, prefix="S3")
        assert len(sent) == PAYLOADS
        assert {item.status for item in sent} == {202}
        # Every acknowledged payload is in bronze, once: no commit replaced another.
        lake = Lake(settings.resolved_lake_uri)
        orders = lake.scan(ORDER_CHANGES).select("order_id").collect()["order_id"]
        receipts = lake.scan(RECEIPT_SUBMISSIONS).select("unique_receipt_id").collect()
        landed = [*orders, *receipts.to_series()]
        assert sorted(landed) == sorted(item.payload_id for item in sent)
        assert process_pending(settings, instance=dg.DagsterInstance.ephemeral())
        with httpx.Client(
            base_url=f"{intake.base_url}/api/v3", headers={"apikey": admin_key}
        ) as api:
            statuses = {
                item: api.get(f"/{item.kind}/jobs/{item.job_id}").json()["status"] for item in sent
            }
    finally:
        intake.stop()

    assert [item for item, status in statuses.items() if status != "Succeeded"] == []
    # Many group commits per table, numbered without a gap.
    for table in (ORDER_CHANGES, RECEIPT_SUBMISSIONS):
        commits = commit_files(s3, table.path)
        assert len(commits) > 2
        assert [int(Path(key).stem) for key in commits] == list(range(len(commits)))
    versions = lake.scan(ORDER_VERSIONS).group_by("order_id").len().collect()
    assert versions.height == PAYLOADS // 2
    assert versions.filter(pl.col("len") != 1).is_empty()
