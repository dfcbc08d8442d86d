"""Helpers to build receipt bodies, drive the receipt API and fill the registers in tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa

from schemas.tables import ARTICLES, STORES
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.orders import JSON, example

PURCHASE = "receipt-purchase.json"
RETURN = "receipt-return.json"


def receipt_body(name: str = PURCHASE, receipt_id: str | None = None, **changes: Any) -> dict:
    """A specification example receipt, under another id if given, with top-level changes."""
    body = example(name)
    if receipt_id is not None:
        body["uniqueReceiptId"] = receipt_id
    body.update(changes)
    return body


def accepted_receipt_job(response: httpx.Response) -> str:
    """The job id of a 202 answer (fails the test with the body otherwise)."""
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    assert response.headers["location"] == f"/api/v3/receipts/jobs/{job_id}"
    return job_id


def post_receipt(api: httpx.Client, body: dict[str, Any]) -> str:
    return accepted_receipt_job(api.post("/receipts", content=json.dumps(body), headers=JSON))


def receipt_job(api: httpx.Client, job_id: str) -> httpx.Response:
    return api.get(f"/receipts/jobs/{job_id}")


def succeeded(api: httpx.Client, job_id: str) -> dict[str, Any]:
    """The status of a receipt job that must have succeeded."""
    response = receipt_job(api, job_id)
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["status"] == "Succeeded", state
    return state


def warning_codes(state: dict[str, Any]) -> list[str]:
    return sorted(warning["code"] for warning in state.get("warnings", []))


def register_stores(settings: EngageSettings, *external_ids: str) -> None:
    """Put stores straight into the silver store register (its own intake is tested elsewhere)."""
    rows = [{"external_id": external_id, **_registration()} for external_id in external_ids]
    lake = Lake(settings.resolved_lake_uri)
    lake.append(STORES, pa.Table.from_pylist(rows, schema=STORES.arrow_schema))


def register_articles(settings: EngageSettings, *skus: str) -> None:
    """Put articles straight into the silver article register."""
    rows = [{"sku": sku, "main_category": "Jackets", **_registration()} for sku in skus]
    lake = Lake(settings.resolved_lake_uri)
    lake.append(ARTICLES, pa.Table.from_pylist(rows, schema=ARTICLES.arrow_schema))


def _registration() -> dict[str, Any]:
    return {"change_seq": 0, "job_id": str(uuid.uuid4()), "registered_at": datetime.now(UTC)}
