"""The lake on object storage: `ENGAGE_LAKE_URI=s3://bucket/prefix`, with the storage options in
the standard AWS_* environment variables, against a local S3 endpoint (moto in server mode).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import polars as pl
import pytest

from ingest_api.app import prepare_storage
from pipelines.definitions import build_definitions
from pipelines.processing import process_pending
from schemas.gold_tables import FACT_ORDER
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS, RECEIPT_SUBMISSIONS
from storage.apikeys import Scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.object_storage import S3Endpoint, running_s3
from tests.support.orders import JSON, order_body, post_order, put_order, succeeded_tag
from tests.support.receipts import receipt_body
from tests.support.served_intake import ServedIntake
from tests.support.server import client, running_intake

PAYLOADS = 100


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Endpoint]:
    with running_s3(monkeypatch) as endpoint:
        yield endpoint


@pytest.fixture
def settings(database_url: str, tmp_path: Path, s3: S3Endpoint) -> EngageSettings:
    settings = EngageSettings(
        home=tmp_path / "engage",
        database_url=database_url,
        lake_uri=s3.lake_uri(),
        rate_limit_per_s=0.0,
    )
    prepare_storage(settings)
    return settings


def test_orders_and_receipts_flow_through_a_lake_on_s3(
    settings: EngageSettings, s3: S3Endpoint
) -> None:
    with (
        running_intake(settings) as base_url,
        client(base_url, make_key(settings, Scope.ADMIN)) as api,
    ):
        created = post_order(api, order_body("S3-1"))
        replaced = put_order(api, order_body("S3-1", externalStatus="Shipped"))
        receipt = api.post(
            "/receipts", content=json.dumps(receipt_body(receipt_id="S3-R-1")), headers=JSON
        )
        assert receipt.status_code == 202, receipt.text

        assert process_pending(settings, instance=dg.DagsterInstance.ephemeral())

        first, second = succeeded_tag(api, created), succeeded_tag(api, replaced)
        order = api.get("/orders/S3-1").json()
        assert (order["versionTag"], order["externalStatus"]) == (second, "Shipped")
        assert first != second
        assert api.get("/receipts/S3-R-1").status_code == 200
    lake = Lake(settings.resolved_lake_uri)
    assert lake.scan(FACT_ORDER).select("order_id").collect()["order_id"].to_list() == ["S3-1"]
    assert any(key.startswith("lake/gold/fact_order/_delta_log/") for key in s3.keys("lake/gold"))
    assert not Path(settings.resolved_home, "lake").exists()  # nothing went to local disk

    maintenance = build_definitions(settings).resolve_job_def("maintain_lake")
    assert maintenance.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
    assert lake.scan(ORDER_VERSIONS).collect().height == 2


def test_two_intake_processes_append_to_one_bronze_table_on_s3(
    settings: EngageSettings, admin_key: str, tmp_path: Path
) -> None:
    """Two workers commit to the same tables on S3: conditional puts keep every commit, and
    every acknowledged payload is there once."""
    intake = ServedIntake(settings, tmp_path / "intake.log", workers=2)
    intake.start()
    try:
        with httpx.Client(
            base_url=f"{intake.base_url}/api/v3",
            headers={"apikey": admin_key, "Connection": "close", **JSON},
            timeout=60,
        ) as api:
            statuses = [
                api.post(
                    f"/{kind}",
                    content=json.dumps(
                        order_body(f"S3-{n:03d}")
                        if kind == "orders"
                        else receipt_body(receipt_id=f"S3-R-{n:03d}")
                    ),
                ).status_code
                for n in range(PAYLOADS // 2)
                for kind in ("orders", "receipts")
            ]
    finally:
        intake.stop()

    assert set(statuses) == {202}
    lake = Lake(settings.resolved_lake_uri)
    orders = lake.scan(ORDER_CHANGES).select("order_id").collect()
    receipts = lake.scan(RECEIPT_SUBMISSIONS).select("unique_receipt_id").collect()
    assert orders.height == orders["order_id"].n_unique() == PAYLOADS // 2
    assert receipts.height == receipts["unique_receipt_id"].n_unique() == PAYLOADS // 2
    assert process_pending(settings, instance=dg.DagsterInstance.ephemeral())
    versions = lake.scan(ORDER_VERSIONS).group_by("order_id").len().collect()
    assert versions.filter(pl.col("len") != 1).is_empty()
    assert versions.height == PAYLOADS // 2
