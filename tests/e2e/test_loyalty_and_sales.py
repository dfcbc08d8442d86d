"""Loyalty points and daily sales from receipts, over HTTP with the real processing jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import dagster as dg
import httpx
import polars as pl
import pytest
from sqlalchemy import delete

from pipelines.resources import resources_from_settings
from pipelines.sensors import receipt_submissions_sensor
from schemas.tables import LOYALTY_LEDGER, SALES_DAILY
from storage.db import session_scope
from storage.lake import Lake
from storage.models import LoyaltyEntry, PipelineWatermark
from storage.settings import EngageSettings
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import JSON, order_body, post_order, succeeded_tag
from tests.support.receipts import RETURN, post_receipt, receipt_body, succeeded
from tests.support.registers import post_articles

pytestmark = pytest.mark.without_gold

Process = Callable[[], None]


def create_contact(api: httpx.Client) -> str:
    body = json.dumps({"email": "lena.berg@example.org", "firstName": "Lena"})
    response = api.post("/contacts", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


def loyalty(api: httpx.Client, contact_id: str) -> dict:
    response = api.get(f"/contacts/{contact_id}/loyalty")
    assert response.status_code == 200, response.text
    return response.json()


@LAKE_INCIDENTAL
def test_purchase_earns_points_and_return_deducts_them(api: httpx.Client, process: Process) -> None:
    contact_id = create_contact(api)
    purchase = post_receipt(api, receipt_body())
    process()
    succeeded(api, purchase)
    # awardsBonus lines 999 + 258 SEK at 0.087 = 109.359 in group currency: 109 points.
    assert loyalty(api, contact_id)["balance"] == 109

    returned = post_receipt(api, receipt_body(RETURN))
    again = post_receipt(api, receipt_body())  # a repeated receipt earns nothing
    order = post_order(api, order_body("LOYAL-1"))  # orders never earn points
    process()
    succeeded(api, returned)
    assert succeeded(api, again)["duplicate"] is True
    succeeded_tag(api, order)

    account = loyalty(api, contact_id)
    assert account["balance"] == 98  # -129 SEK at 0.087 = -11.223: 11 points back
    assert account["bonusChecksIssued"] == 0
    assert [
        (entry["type"], entry["points"], entry["balanceAfter"])
        for entry in account["ledger"]["items"]
    ] == [
        ("Deducted", -11, 98),
        ("Earned", 109, 109),
    ]
    assert account["ledger"]["totalCount"] == 2


@LAKE_INCIDENTAL
def test_a_bonus_check_is_issued_when_the_balance_passes_the_threshold(
    api: httpx.Client, process: Process
) -> None:
    contact_id = create_contact(api)
    big = receipt_body(receipt_id="BIG-1", totalGrossPrice=10000.0, taxDetails=[])
    big["items"] = [
        big["items"][0] | {"quantity": 10, "grossPaidPrice": 10000.0, "taxAmount": 2000.0}
    ]
    big["items"][0].pop("discounts", None)
    big["paymentMethods"] = [{"type": "card", "description": "Visa", "value": 10000.0}]
    post_receipt(api, big)
    process()
    account = loyalty(api, contact_id)
    # 10000 SEK at 0.087 = 870 points; the 500-point threshold issues one check.
    assert account["bonusChecksIssued"] == 1
    assert account["balance"] == 370
    assert [(entry["type"], entry["balanceAfter"]) for entry in account["ledger"]["items"]] == [
        ("BonusCheckIssued", 370),
        ("Earned", 870),
    ]


@LAKE_INCIDENTAL
def test_loyalty_of_an_unknown_contact_is_404(api: httpx.Client) -> None:
    response = api.get("/contacts/00000000-0000-0000-0000-000000000000/loyalty")
    assert response.status_code == 404


def sales(settings: EngageSettings) -> dict[tuple[date, str], dict]:
    frame = Lake(settings.resolved_lake_uri).scan(SALES_DAILY).collect()
    return {
        (row["business_date"], row["main_category"]): row for row in frame.iter_rows(named=True)
    }


@LAKE_INCIDENTAL
def test_daily_sales_follow_receipts_and_the_article_register(
    api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    post_articles(
        api, [{"sku": "7391-RAIN-BLU-L", "name": "Rain jacket", "mainCategory": "Jackets"}]
    )
    post_receipt(api, receipt_body())
    post_receipt(api, receipt_body(RETURN))
    process()
    daily = sales(settings)
    jackets = daily[(date(2025, 11, 22), "Jackets")]
    assert (jackets["gross_sales"], jackets["net_sales"], jackets["units_sold"]) == (
        999.0,
        999.0,
        1.0,
    )
    assert jackets["store_external_id"] == "Webshop-SE"
    socks_sold = daily[(date(2025, 11, 22), "Socks")]  # not in the register: the receipt's group
    assert (socks_sold["gross_sales"], socks_sold["receipts"]) == (258.0, 1)
    socks_back = daily[(date(2025, 11, 29), "Socks")]
    assert (socks_back["returns"], socks_back["net_sales"], socks_back["units_returned"]) == (
        129.0,
        -129.0,
        1.0,
    )

    # The socks are registered later, under another category: no receipt is posted again.
    post_articles(
        api, [{"sku": "2210-SOCK-GRY-M", "name": "Wool socks", "mainCategory": "Hosiery"}]
    )
    process()
    daily = sales(settings)
    assert (date(2025, 11, 22), "Socks") not in daily
    assert daily[(date(2025, 11, 22), "Hosiery")]["gross_sales"] == 258.0
    assert Lake(settings.resolved_lake_uri).scan(SALES_DAILY).select(pl.len()).collect().item() == 3


def test_rerun_after_a_crash_before_publishing_makes_no_entry_twice(
    api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    contact_id = create_contact(api)
    post_receipt(api, receipt_body())
    process()
    # The ledger was appended to the lake, then the run died before the database caught up.
    with session_scope(settings.resolved_database_url) as session:
        session.execute(delete(LoyaltyEntry))
        session.execute(delete(PipelineWatermark).where(PipelineWatermark.name == "loyalty_ledger"))
    assert loyalty(api, contact_id)["balance"] == 0
    # The receipts are processed, but the job is not done: its sensor starts it again.
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources=resources_from_settings(settings)
    )
    assert isinstance(receipt_submissions_sensor(context), dg.SensorResult)

    process()
    account = loyalty(api, contact_id)
    assert account["balance"] == 109
    assert account["ledger"]["totalCount"] == 1
    ledger = Lake(settings.resolved_lake_uri).scan(LOYALTY_LEDGER).collect()
    assert ledger["entry_id"].to_list() == [f"{receipt_body()['uniqueReceiptId']}:Earned"]
