"""Daily sales per store and article main category, from receipt lines and the article register."""

from __future__ import annotations

import polars as pl

UNKNOWN = "Unknown"


def sales_daily_frame(receipt_lines: pl.LazyFrame, articles: pl.LazyFrame) -> pl.DataFrame:
    """Aggregate receipt lines by business date, store, main category and currency.

    The main category comes from the article register when it knows the SKU (so an article
    registered later re-labels past sales at the next rebuild), else from the receipt's own
    articleGroup, else Unknown.
    """
    categories = articles.select("sku", pl.col("main_category").alias("register_category"))
    lines = receipt_lines.join(categories, on="sku", how="left").with_columns(
        pl.coalesce("register_category", "article_group", pl.lit(UNKNOWN)).alias("main_category"),
        pl.col("store_external_id").fill_null(UNKNOWN),
        pl.col("currency").fill_null(UNKNOWN),
        (pl.col("line_type") == "RETURN").alias("is_return"),
        pl.col("exchange_rate_to_group_currency").fill_null(1.0).alias("rate"),
    )
    return (
        lines.group_by("business_date", "store_external_id", "main_category", "currency")
        .agg(
            pl.col("gross_paid_price").filter(~pl.col("is_return")).sum().alias("gross_sales"),
            pl.col("gross_paid_price").filter(pl.col("is_return")).sum().alias("returns"),
            pl.col("signed_amount").sum().alias("net_sales"),
            (pl.col("signed_amount") * pl.col("rate")).sum().alias("net_sales_group_currency"),
            pl.col("quantity").filter(~pl.col("is_return")).sum().alias("units_sold"),
            pl.col("quantity").filter(pl.col("is_return")).sum().abs().alias("units_returned"),
            pl.col("unique_receipt_id").n_unique().cast(pl.Int64).alias("receipts"),
        )
        .sort("business_date", "store_external_id", "main_category", "currency")
        .collect()
    )
