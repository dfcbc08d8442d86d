"""Order documents: the canonical JSON of an order version and the columns derived from it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from schemas.orders import Order

MONEY_SCALE = 10_000
"""Money has at most 4 decimals (schemas.common.Money): sums are taken in these units, exactly."""
_AMOUNTS = pl.Struct({"items": pl.List(pl.Struct({"amount": pl.Float64}))})
_LINE = pl.Struct(
    {
        "id": pl.String,
        "type": pl.String,
        "article": pl.Struct({"sku": pl.String, "name": pl.String}),
        "quantity": pl.Int64,
        "pricePerUnit": pl.Float64,
        "originalPricePerUnit": pl.Float64,
        "totalPrice": pl.Float64,
        "originalTotalPrice": pl.Float64,
        "discounts": _AMOUNTS,
        "taxes": _AMOUNTS,
        "externalStatus": pl.String,
        "returnDetails": pl.Struct({"type": pl.String, "reason": pl.String}),
        "group": pl.String,
    }
)
_DOCUMENT_LINES = pl.Struct({"lineItems": pl.Struct({"items": pl.List(_LINE)})})
"""The part of an order document the line rows come from; other fields are not decoded."""


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


def line_frame(versions: pl.DataFrame) -> pl.DataFrame:
    """One row per order line of each row's `document` (JSON), in line order, with the row's
    other columns carried along.

    Column-wise: the documents are decoded by polars, not one by one in Python (a batch of
    100k orders has half a million lines).
    """
    line = pl.col("line")
    carried = [name for name in versions.columns if name != "document"]
    return (
        versions.with_columns(
            pl.col("document")
            .str.json_decode(_DOCUMENT_LINES)
            .struct.field("lineItems")
            .struct.field("items")
            .alias("line")
        )
        .filter(pl.col("line").list.len() > 0)
        .with_columns(pl.int_ranges(0, pl.col("line").list.len(), dtype=pl.Int32).alias("index"))
        .explode("line", "index")
        .select(
            *carried,
            pl.col("index").alias("line_number"),
            line.struct.field("id").alias("line_id"),
            line.struct.field("type").fill_null("Purchase").alias("line_type"),
            line.struct.field("article").struct.field("sku"),
            line.struct.field("article").struct.field("name").alias("article_name"),
            line.struct.field("quantity"),
            line.struct.field("pricePerUnit").alias("price_per_unit"),
            line.struct.field("originalPricePerUnit").alias("original_price_per_unit"),
            line.struct.field("totalPrice").alias("total_price"),
            line.struct.field("originalTotalPrice").alias("original_total_price"),
            _amount_sum(line.struct.field("discounts")).alias("discount_amount"),
            _amount_sum(line.struct.field("taxes")).alias("tax_amount"),
            line.struct.field("externalStatus").alias("external_status"),
            line.struct.field("returnDetails").struct.field("type").alias("return_type"),
            line.struct.field("returnDetails").struct.field("reason").alias("return_reason"),
            line.struct.field("group").alias("line_group"),
        )
    )


def _amount_sum(collection: pl.Expr) -> pl.Expr:
    """The exact sum of a collection's amounts (0.1 + 0.2 is 0.3); null when it has none."""
    items = collection.struct.field("items")
    units = items.list.eval((pl.element().struct.field("amount") * MONEY_SCALE).round(0))
    return pl.when(items.list.len() > 0).then(units.list.sum() / MONEY_SCALE)


def order_skus(document: dict[str, Any]) -> list[str]:
    """The distinct SKUs on an order's lines, in line order."""
    return list(dict.fromkeys(line["article"]["sku"] for line in _lines(document)))


def _exact_sum(amounts: Iterable[float]) -> float:
    """Sum money values as the decimals they were sent as (0.1 + 0.2 is 0.3, not 0.3000...04)."""
    return float(sum((Decimal(str(amount)) for amount in amounts), Decimal(0)))


def _lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document.get("lineItems", {}).get("items", [])
