"""Order documents: the canonical JSON of an order version and the columns derived from it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from schemas.orders import Order


def order_document(order: Order) -> dict[str, Any]:
    """The canonical Orders v3 JSON of an order, as stored and served (embedded action left out)."""
    return order.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"action"})


def version_tag_for(job_id: str) -> str:
    """A versionTag: 16 bytes hashed from the job that made the version, base64.

    Hashing (not random) makes a re-run after a crash produce the very same tags.
    """
    return base64.b64encode(hashlib.blake2b(job_id.encode(), digest_size=16).digest()).decode()


def parse_timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def order_type(document: dict[str, Any]) -> str:
    """Purchase, Return or Mixed, from the line types."""
    types = {line.get("type", "Purchase") for line in _lines(document)}
    if types == {"Return"}:
        return "Return"
    if "Return" in types:
        return "Mixed"
    return "Purchase"


def state_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The queryable columns of an order version, derived from its document."""
    lines = _lines(document)
    sub_total = document.get("lineItems", {}).get("subTotal")
    if sub_total is None:
        sub_total = _exact_sum(line["totalPrice"] for line in lines)
    contact = document.get("contact", {})
    return {
        "contact_match_key": contact.get("matchKey"),
        "contact_match_key_type": contact.get("matchKeyType"),
        "status": document.get("status"),
        "external_status": document.get("externalStatus"),
        "external_store_id": document.get("externalStoreId"),
        "channel": document.get("channel"),
        "currency_code": document.get("currencyCode"),
        "order_type": order_type(document),
        "line_count": len(lines),
        "sub_total": float(sub_total),
        "created_at": parse_timestamp(document.get("createdAt")),
        "last_changed_at": parse_timestamp(document.get("lastChangedAt")),
        "delivery_date": parse_timestamp((document.get("delivery") or {}).get("deliveryDate")),
    }


def line_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per order line for the order_lines table."""
    return [_line_row(index, line) for index, line in enumerate(_lines(document))]


def _line_row(index: int, line: dict[str, Any]) -> dict[str, Any]:
    return_details = line.get("returnDetails") or {}
    return {
        "line_number": index,
        "line_id": line.get("id"),
        "line_type": line.get("type", "Purchase"),
        "sku": line["article"]["sku"],
        "article_name": line["article"].get("name"),
        "quantity": line["quantity"],
        "price_per_unit": line.get("pricePerUnit"),
        "original_price_per_unit": line.get("originalPricePerUnit"),
        "total_price": line.get("totalPrice"),
        "original_total_price": line.get("originalTotalPrice"),
        "discount_amount": _sum_amounts(line.get("discounts")),
        "tax_amount": _sum_amounts(line.get("taxes")),
        "external_status": line.get("externalStatus"),
        "return_type": return_details.get("type"),
        "return_reason": return_details.get("reason"),
        "line_group": line.get("group"),
    }


def order_skus(document: dict[str, Any]) -> list[str]:
    """The distinct SKUs on an order's lines, in line order."""
    return list(dict.fromkeys(line["article"]["sku"] for line in _lines(document)))


def _sum_amounts(collection: dict[str, Any] | None) -> float | None:
    if not collection or not collection.get("items"):
        return None
    return _exact_sum(item["amount"] for item in collection["items"])


def _exact_sum(amounts: Iterable[float]) -> float:
    """Sum money values as the decimals they were sent as (0.1 + 0.2 is 0.3, not 0.3000...04)."""
    return float(sum((Decimal(str(amount)) for amount in amounts), Decimal(0)))


def _lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document.get("lineItems", {}).get("items", [])
