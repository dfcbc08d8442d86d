"""A deleted contact's processed data disappears from every read at once and comes back with a
restore: orders, receipts, loyalty, communications and new actions (real intake and processing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.support.contacts import create_contact, soft_delete
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import JSON, order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded

pytestmark = [LAKE_INCIDENTAL, pytest.mark.without_gold]

Process = Callable[[], None]
LENA = "lena.berg@example.org"  # the contact of the example receipt


@dataclass(frozen=True)
class Shop:
    lena: str
    per: str
    lena_order: str
    lena_tag: str
    per_order: str
    receipt_id: str


@pytest.fixture
def shop(api: httpx.Client, process: Process) -> Shop:
    """Lena with an order, a receipt (so loyalty points) and a communication; Per with an order."""
    lena = create_contact(api, {"email": LENA, "firstName": "Lena"})
    per = create_contact(api, {"email": "per.holm@example.org", "firstName": "Per"})
    jobs = {
        order_id: post_order(
            api, order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})
        )
        for order_id, email in (("GDPR-1", LENA), ("GDPR-2", "per.holm@example.org"))
    }
    receipt = receipt_body()
    receipt_job = post_receipt(api, receipt)
    process()
    succeeded(api, receipt_job)
    tags = {order_id: succeeded_tag(api, job) for order_id, job in jobs.items()}
    action = {"action": "ConfirmOrder", "versionTag": tags["GDPR-1"]}
    response = api.post("/orders/GDPR-1/action", content=json.dumps(action), headers=JSON)
    assert response.status_code == 202, response.text
    return Shop(lena, per, "GDPR-1", tags["GDPR-1"], "GDPR-2", receipt["uniqueReceiptId"])


def visible_reads(api: httpx.Client, shop: Shop) -> dict[str, int]:
    """Status of every read that serves Lena's data."""
    action = {"action": "ConfirmOrder", "versionTag": shop.lena_tag}
    return {
        "contact": api.get(f"/contacts/{shop.lena}").status_code,
        "orders": api.get("/orders", params={"contactId": shop.lena}).status_code,
        "order": api.get(f"/orders/{shop.lena_order}").status_code,
        "receipts": api.get("/receipts", params={"contactId": shop.lena}).status_code,
        "receipt": api.get(f"/receipts/{shop.receipt_id}").status_code,
        "loyalty": api.get(f"/contacts/{shop.lena}/loyalty").status_code,
        "communications": api.get("/communications", params={"contactId": shop.lena}).status_code,
        "action": api.post(
            f"/orders/{shop.lena_order}/action", content=json.dumps(action), headers=JSON
        ).status_code,
    }


def listed_contacts(api: httpx.Client) -> set[str]:
    items = api.get("/communications").json()["items"]
    return {item["contactId"] for item in items}


def test_a_deleted_contacts_data_is_hidden_everywhere_at_once(
    api: httpx.Client, shop: Shop
) -> None:
    assert api.get(f"/contacts/{shop.lena}/loyalty").json()["balance"] > 0
    assert api.get("/orders", params={"contactId": shop.lena}).json()["totalCount"] == 1
    assert listed_contacts(api) == {shop.lena}

    soft_delete(api, shop.lena)

    assert visible_reads(api, shop) == {
        "contact": 404,
        "orders": 404,
        "order": 404,
        "receipts": 404,
        "receipt": 404,
        "loyalty": 404,
        "communications": 404,
        "action": 404,
    }
    assert listed_contacts(api) == set()
    assert api.get("/communications").json()["totalCount"] == 0
    # Other contacts are untouched.
    assert api.get(f"/orders/{shop.per_order}").status_code == 200
    assert api.get("/orders", params={"contactId": shop.per}).json()["totalCount"] == 1


def test_a_restored_contacts_data_is_served_again(api: httpx.Client, shop: Shop) -> None:
    soft_delete(api, shop.lena)

    assert api.post(f"/contacts/{shop.lena}/restore").status_code == 200

    reads = visible_reads(api, shop)
    assert reads.pop("action") == 202
    assert set(reads.values()) == {200}
    assert api.get(f"/orders/{shop.lena_order}").json()["contactId"] == shop.lena
    assert api.get(f"/receipts/{shop.receipt_id}").json()["contactId"] == shop.lena
    assert listed_contacts(api) == {shop.lena}
