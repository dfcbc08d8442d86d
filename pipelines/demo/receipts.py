"""The receipts of a sample order: what a store or webshop registers when goods change hands.

An order leads to receipts only once goods move (SPEC §1): a completed order's purchase lines on
delivery, in two receipts when it was delivered in two parcels (a split delivery), and its return
lines when they come back. Cancelled and ongoing orders have none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.sample_orders import HOUR, SampleWorld, pick

S_SPLIT = 60
"""The sample world's randomness stream for split deliveries (its own streams are below 50)."""
SPLIT_PERCENT = 25
"""Completed orders of two lines or more that arrive in two parcels."""


@dataclass(frozen=True)
class SampleReceipt:
    """One `POST /receipts` body and when it is registered."""

    at: datetime
    body: dict[str, Any]


def order_receipts(world: SampleWorld, index: int) -> Iterator[SampleReceipt]:
    """Delivery receipts (one, or two for a split delivery), then a return receipt if any."""
    life = world.lifecycle(index)
    if life.outcome != "Completed":
        return
    order = world.final_document(index)
    created_at = world.timeline.created_at(index, world.seed)
    delivered_at = created_at + timedelta(seconds=life.status_at)
    lines = order["lineItems"]["items"]
    purchases = [line for line in lines if line["type"] == "Purchase"]
    parcels = [purchases]
    if len(purchases) > 1 and pick(world.seed, S_SPLIT, index, 100) < SPLIT_PERCENT:
        half = len(purchases) // 2
        parcels = [purchases[:half], purchases[half:]]
    for number, parcel in enumerate(parcels, start=1):
        # The first parcel of a split delivery arrives a day before the order is completed.
        at = delivered_at - timedelta(hours=24 * (len(parcels) - number))
        yield SampleReceipt(at, _receipt(order, f"D{number}", at, parcel))
    returned = [line for line in lines if line["type"] == "Return"]
    if returned:
        at = created_at + timedelta(seconds=life.return_at) + timedelta(seconds=HOUR)
        yield SampleReceipt(at, _receipt(order, "R1", at, returned))


def _receipt(
    order: dict[str, Any], suffix: str, at: datetime, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    items = [_item(line) for line in lines]
    total = sum(round(item["grossPaidPrice"] * 100) * _sign(item) for item in items) / 100
    return {
        "contact": {"matchKey": order["contact"]["matchKey"], "matchKeyType": "Email"},
        "uniqueReceiptId": f"{order['orderId']}-{suffix}",
        "receiptNumber": f"{order['orderId'].rsplit('-', 1)[-1]}-{suffix}",
        "createdDate": at.isoformat(timespec="seconds"),
        "storeExternalId": order["externalStoreId"],
        "currency": order["currencyCode"],
        "totalGrossPrice": total,
        "paymentMethods": [{"type": "card", "value": total}],
        "items": items,
        "extraData": [{"name": "orderId", "value": order["orderId"]}],
    }


def _item(line: dict[str, Any]) -> dict[str, Any]:
    returned = line["type"] == "Return"
    return {
        "type": "RETURN" if returned else "PURCHASE",
        "sku": line["article"]["sku"],
        "articleName": line["article"].get("name"),
        "quantity": -line["quantity"] if returned else line["quantity"],
        "grossPaidPrice": line["totalPrice"],
        "awardsBonus": True,
    }


def _sign(item: dict[str, Any]) -> int:
    return -1 if item["type"] == "RETURN" else 1
