"""Facts of the star schema: current orders, their lines, and receipt lines, as polars frames.

Rules every fact follows:
- A row whose contact is known but not live (soft-deleted or erased) is left out: it must not be
  visible anywhere until the contact is restored. A row with no resolved contact keeps
  contact_key 0.
- An SKU or store the registers do not know gets key 0 (the unknown member); the natural key is
  kept as sent, so a later registration re-labels the row at the next rebuild.
- Dimension keys are looked up in the dimension tables as built, so every key resolves.
- Date keys are yyyymmdd of the UTC day (receipts: their business date), 0 when unknown.

Everything is lazy; a builder returns a LazyFrame that the asset collects and writes once.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from assets.gold.frames import conform
from assets.gold.keys import date_key, surrogate_key
from schemas.gold_tables import FACT_ORDER, FACT_ORDER_LINE, FACT_RECEIPT_LINE, UNKNOWN_KEY

PURCHASE, RETURN = "Purchase", "Return"
RECEIPT_RETURN = "RETURN"
_KNOWN = "_known"


def with_dimension_key(
    frame: pl.LazyFrame, natural_key: str, key: str, dimension: pl.LazyFrame
) -> pl.LazyFrame:
    """Add `key`: the surrogate key of `natural_key` if `dimension` has that member, else 0.

    Joins on the Int64 key (the dimension's key is the same hash of the same natural key), which
    is much cheaper than joining millions of rows on strings.
    """
    known = dimension.select(key, pl.lit(True).alias(_KNOWN)).filter(pl.col(key) != UNKNOWN_KEY)
    return (
        frame.with_columns(surrogate_key(natural_key).alias(key))
        .join(known, on=key, how="left")
        .with_columns(pl.when(pl.col(_KNOWN)).then(pl.col(key)).otherwise(UNKNOWN_KEY).alias(key))
        .drop(_KNOWN)
    )


def with_live_contact_key(frame: pl.LazyFrame, dim_contact: pl.LazyFrame) -> pl.LazyFrame:
    """Add contact_key from `contact_id`, leaving out rows of contacts that are not live."""
    known = dim_contact.select("contact_key", pl.lit(True).alias(_KNOWN)).filter(
        pl.col("contact_key") != UNKNOWN_KEY
    )
    return (
        frame.with_columns(surrogate_key("contact_id").alias("contact_key"))
        .join(known, on="contact_key", how="left")
        .filter(pl.col("contact_id").is_null() | pl.col(_KNOWN).fill_null(False))
        .drop(_KNOWN)
    )


def _signed(amount: str | pl.Expr, is_return: pl.Expr) -> pl.Expr:
    """Negative for returns, whichever sign the integrator sent the amount with."""
    value = pl.col(amount) if isinstance(amount, str) else amount
    return pl.when(is_return).then(-value.abs()).otherwise(value)


def _order_line_totals(order_lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per order: line counts, units and values of Purchase and Return lines."""
    is_return = pl.col("line_type") == RETURN
    return order_lines.group_by("order_id").agg(
        pl.len().cast(pl.Int64).alias("line_count"),
        (~is_return).sum().cast(pl.Int64).alias("purchase_line_count"),
        is_return.sum().cast(pl.Int64).alias("return_line_count"),
        pl.col("quantity").filter(~is_return).sum().cast(pl.Int64).alias("purchase_quantity"),
        pl.col("quantity").filter(is_return).abs().sum().cast(pl.Int64).alias("return_quantity"),
        pl.col("total_price").filter(~is_return).sum().alias("purchase_value"),
        pl.col("total_price").filter(is_return).abs().sum().alias("return_value"),
    )


def fact_order_frame(
    orders: pl.LazyFrame,
    order_lines: pl.LazyFrame,
    dim_contact: pl.LazyFrame,
    dim_store: pl.LazyFrame,
    ongoing_statuses: Collection[str],
) -> pl.LazyFrame:
    """One row per live order (silver `orders`), with line totals from silver `order_lines`."""
    counts = ["line_count", "purchase_line_count", "return_line_count"]
    counts += ["purchase_quantity", "return_quantity"]
    header = orders.select(
        "order_id",
        "contact_id",
        "external_store_id",
        "status",
        "external_status",
        "channel",
        "currency_code",
        "order_type",
        pl.col("sub_total").alias("value"),
        "created_at",
        "last_changed_at",
        "delivery_date",
        "version_tag",
        "version_number",
    )
    facts = with_live_contact_key(header, dim_contact)
    facts = with_dimension_key(facts, "external_store_id", "store_key", dim_store)
    facts = facts.join(_order_line_totals(order_lines), on="order_id", how="left").with_columns(
        pl.col(counts).fill_null(0),
        pl.col("purchase_value", "return_value").fill_null(0.0),
        surrogate_key("order_id").alias("order_key"),
        date_key("created_at").alias("created_date_key"),
        date_key("last_changed_at").alias("last_changed_date_key"),
        date_key("delivery_date").alias("delivery_date_key"),
        pl.col("status").is_in(list(ongoing_statuses)).fill_null(False).alias("is_ongoing"),
    )
    return conform(facts, FACT_ORDER)


def fact_order_line_frame(
    order_lines: pl.LazyFrame, fact_order: pl.LazyFrame, dim_article: pl.LazyFrame
) -> pl.LazyFrame:
    """One row per line of an order in `fact_order` (gold, as built): the line inherits the
    order's contact, store, day, status and currency, so lines of left-out orders drop out."""
    orders = fact_order.select(
        "order_key",
        "contact_key",
        "contact_id",
        "store_key",
        "created_date_key",
        pl.col("status").alias("order_status"),
        "is_ongoing",
        "currency_code",
    )
    is_return = pl.col("line_type") == RETURN
    lines = (
        order_lines.drop("contact_id", strict=False)
        .with_columns(surrogate_key("order_id").alias("order_key"))
        .join(orders, on="order_key", how="inner")
        .with_columns(
            is_return.alias("is_return"),
            _signed("quantity", is_return).alias("signed_quantity"),
            _signed("total_price", is_return).alias("signed_total_price"),
        )
    )
    return conform(with_dimension_key(lines, "sku", "article_key", dim_article), FACT_ORDER_LINE)


def fact_receipt_line_frame(
    receipt_lines: pl.LazyFrame,
    receipts: pl.LazyFrame,
    dim_contact: pl.LazyFrame,
    dim_article: pl.LazyFrame,
    dim_store: pl.LazyFrame,
) -> pl.LazyFrame:
    """One row per line of a registered receipt whose contact is live or unknown."""
    headers = receipts.select("unique_receipt_id", "receipt_number", "created_at")
    is_return = pl.col("line_type") == RECEIPT_RETURN
    rate = pl.col("exchange_rate_to_group_currency").fill_null(1.0)
    lines = receipt_lines.join(headers, on="unique_receipt_id", how="left").with_columns(
        is_return.alias("is_return"),
        (pl.col("signed_amount") * rate).alias("signed_amount_group_currency"),
        date_key("business_date").alias("date_key"),
    )
    lines = with_live_contact_key(lines, dim_contact)
    lines = with_dimension_key(lines, "sku", "article_key", dim_article)
    lines = with_dimension_key(lines, "store_external_id", "store_key", dim_store)
    return conform(lines, FACT_RECEIPT_LINE)
