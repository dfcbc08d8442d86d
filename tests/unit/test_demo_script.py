"""The demo's request script: reproducible, realistic, and valid for the API it is sent to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from pipelines.demo.script import DemoRequest, DemoScript
from schemas.articles import ArticleBatch
from schemas.contacts import NewContact
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.receipts import Receipt
from schemas.stores import StoreBatch

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def requests() -> list[DemoRequest]:
    return list(DemoScript(contacts=100, orders=400, days=60, now=AS_OF).requests())


def model_of(request: DemoRequest) -> type[BaseModel]:
    if request.kind == "orders":
        return {"change-status": ChangeStatus, "change-delivery": ChangeDelivery}.get(
            request.path.rsplit("/", 1)[-1], Order
        )
    return {
        "stores": StoreBatch,
        "articles": ArticleBatch,
        "contacts": NewContact,
        "receipts": Receipt,
    }[request.kind]


def test_the_same_seed_and_day_give_the_same_requests(requests: list[DemoRequest]) -> None:
    again = list(DemoScript(contacts=100, orders=400, days=60, now=AS_OF).requests())
    other = list(DemoScript(contacts=100, orders=400, days=60, seed=7, now=AS_OF).requests())
    assert again == requests
    assert other != requests


def test_every_body_is_valid_for_its_endpoint(requests: list[DemoRequest]) -> None:
    for request in requests:
        model_of(request).model_validate_json(json.dumps(request.body))


def test_registers_and_contacts_come_before_the_history(requests: list[DemoRequest]) -> None:
    kinds = [request.kind for request in requests]
    first_order = kinds.index("orders")
    assert set(kinds[:first_order]) == {"stores", "articles", "contacts"}
    assert kinds.count("contacts") == 100
    assert set(kinds[first_order:]) == {"orders", "receipts"}


def test_the_history_holds_every_kind_of_life_cycle(requests: list[DemoRequest]) -> None:
    creates = [r for r in requests if r.kind == "orders" and r.path == "/orders"]
    statuses = [r.body["status"] for r in requests if r.path.endswith("/change-status")]
    deliveries = [r for r in requests if r.path.endswith("/change-delivery")]
    replaces = [r for r in requests if r.method == "PUT"]
    receipt_ids = [r.body["uniqueReceiptId"] for r in requests if r.kind == "receipts"]
    assert len(creates) == 400
    assert {"Completed", "Cancelled"} <= set(statuses)
    # Ongoing orders: recent ones whose status never changed before the as-of date.
    assert len(statuses) < len(creates)
    assert deliveries
    # Mixed orders: a replace that adds return lines to the purchase lines.
    assert any(
        {line["type"] for line in r.body["lineItems"]["items"]} == {"Purchase", "Return"}
        for r in replaces
    )
    # Split deliveries (two delivery receipts of one order) and returns.
    assert any(receipt.endswith("-D2") for receipt in receipt_ids)
    assert any(receipt.endswith("-R1") for receipt in receipt_ids)


def test_each_order_is_created_before_it_changes(requests: list[DemoRequest]) -> None:
    created: set[str] = set()
    for request in requests:
        if request.kind == "orders" and request.path == "/orders":
            created.add(request.body["orderId"])
        elif request.kind == "orders":
            assert request.path.split("/")[2] in created, request.path
        elif request.kind == "receipts":
            assert request.body["extraData"][0]["value"] in created


def test_nothing_is_dated_after_the_as_of_moment(requests: list[DemoRequest]) -> None:
    for request in requests:
        body = request.body if isinstance(request.body, dict) else {}
        for field in ("createdAt", "lastChangedAt", "createdDate"):
            if field in body:
                assert datetime.fromisoformat(body[field].replace("Z", "+00:00")) <= AS_OF


def test_some_orders_name_a_store_the_register_lacks(requests: list[DemoRequest]) -> None:
    """The pop-up store: its orders show as the unknown store in gold, with a StoreMissing
    warning in the integration log."""
    (register,) = [request.body for request in requests if request.kind == "stores"]
    registered = {store["externalId"] for store in register}
    creates = [r.body for r in requests if r.kind == "orders" and r.path == "/orders"]
    named = {body.get("externalStoreId") for body in creates} - {None}
    assert named - registered == {"STORE-900"}
