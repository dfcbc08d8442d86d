"""The contact segmentation model: one row of measures per live contact, from the star schema.

Analysts and saved segments ask contact-level questions ("has an ongoing order with a jacket",
"bought in the last 30 days", "spent over 2,000 this year"); answering them from one row per
contact is a filter instead of joins over millions of lines. Built from the gold tables as just
written, so it agrees with them, and as of one moment (`as_of`) passed in by the caller, so
recency, frequency and monetary are reproducible (tests fix it; the asset uses the build time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from assets.gold.frames import conform
from schemas.gold_tables import CONTACT_SEGMENTATION, UNKNOWN_KEY

RFM_WINDOW = timedelta(days=365)
"""frequency and monetary count the receipts of the 365 days before as_of."""

_COUNTS = (
    "ongoing_order_count",
    "order_count",
    "return_count",
    "receipt_count",
    "frequency",
)
_AMOUNTS = ("ongoing_order_value", "monetary", "lifetime_net_spend")
_LISTS = ("ongoing_order_statuses", "ongoing_skus", "ongoing_main_categories")


def _known_contact(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.filter(pl.col("contact_key") != UNKNOWN_KEY)


def _distinct_sorted(values: pl.Expr) -> pl.Expr:
    """A group's distinct non-null values as a sorted list (stable output for readers)."""
    return values.drop_nulls().unique().sort()


def order_measures(fact_order: pl.LazyFrame) -> pl.LazyFrame:
    """Per contact: current orders, ongoing ones (count, value, statuses), returns, first/last."""
    ongoing = pl.col("is_ongoing")
    return (
        _known_contact(fact_order)
        .group_by("contact_key")
        .agg(
            pl.len().alias("order_count"),
            (pl.col("return_line_count") > 0).sum().alias("return_count"),
            pl.col("created_at").min().alias("first_order_at"),
            pl.col("created_at").max().alias("last_order_at"),
            ongoing.sum().alias("ongoing_order_count"),
            pl.col("value").filter(ongoing).sum().alias("ongoing_order_value"),
            _distinct_sorted(pl.col("status").filter(ongoing)).alias("ongoing_order_statuses"),
        )
    )


def ongoing_article_measures(
    fact_order_line: pl.LazyFrame, dim_article: pl.LazyFrame
) -> pl.LazyFrame:
    """Per contact: distinct SKUs on Purchase lines of ongoing orders, and their main
    categories (from the article register; unregistered SKUs have none)."""
    lines = _known_contact(fact_order_line).filter(pl.col("is_ongoing"), ~pl.col("is_return"))
    categories = dim_article.select("article_key", "main_category")
    return (
        lines.select("contact_key", "sku", "article_key")
        .join(categories, on="article_key", how="left")
        .group_by("contact_key")
        .agg(
            _distinct_sorted(pl.col("sku")).alias("ongoing_skus"),
            _distinct_sorted(pl.col("main_category")).alias("ongoing_main_categories"),
        )
    )


def receipt_measures(fact_receipt_line: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """Per contact: purchases (receipts with at least one PURCHASE line) all time and in the
    window before as_of, net spend (returns subtract) in group currency in the window and all
    time."""
    receipts = (
        _known_contact(fact_receipt_line)
        .group_by("unique_receipt_id")
        .agg(
            pl.col("contact_key").first(),
            pl.col("created_at").first(),
            (~pl.col("is_return")).any().alias("has_purchase"),
            pl.col("signed_amount_group_currency").sum().alias("net"),
        )
    )
    purchase = pl.col("has_purchase")
    in_window = pl.col("created_at").is_between(
        pl.lit(as_of - RFM_WINDOW), pl.lit(as_of), closed="right"
    )
    return receipts.group_by("contact_key").agg(
        purchase.sum().alias("receipt_count"),
        pl.col("created_at").filter(purchase).min().alias("first_purchase_at"),
        pl.col("created_at").filter(purchase).max().alias("last_purchase_at"),
        (purchase & in_window).sum().alias("frequency"),
        pl.col("net").filter(in_window).sum().alias("monetary"),
        pl.col("net").sum().alias("lifetime_net_spend"),
    )


def contact_segmentation_frame(
    dim_contact: pl.LazyFrame,
    fact_order: pl.LazyFrame,
    fact_order_line: pl.LazyFrame,
    fact_receipt_line: pl.LazyFrame,
    dim_article: pl.LazyFrame,
    as_of: datetime,
) -> pl.LazyFrame:
    """One row per live contact of `dim_contact` (not the unknown member), with zero counts and
    amounts and empty lists where it has no orders or receipts."""
    as_of_us = pl.lit(as_of).cast(pl.Datetime("us", "UTC"))
    model = (
        _known_contact(dim_contact)
        .join(order_measures(fact_order), on="contact_key", how="left")
        .join(ongoing_article_measures(fact_order_line, dim_article), on="contact_key", how="left")
        .join(receipt_measures(fact_receipt_line, as_of), on="contact_key", how="left")
        .with_columns(
            pl.col(_COUNTS).fill_null(0),
            pl.col(_AMOUNTS).fill_null(0.0),
            *(pl.col(name).fill_null(pl.lit([], pl.List(pl.String))) for name in _LISTS),
            ((as_of_us - pl.col("last_purchase_at")).dt.total_seconds() // 86_400).alias(
                "recency_days"
            ),
            as_of_us.alias("as_of"),
        )
    )
    return conform(model, CONTACT_SEGMENTATION)
