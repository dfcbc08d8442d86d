"""Daily sales aggregation: gross, returns, net and units per day, store and main category."""

from __future__ import annotations

from datetime import date

import polars as pl

from assets.sales.daily import sales_daily_frame

DAY = date(2025, 11, 22)


def line(
    receipt: str, line_type: str, sku: str, quantity: float, paid: float, **extra: object
) -> dict:
    signed = -paid if line_type == "RETURN" else paid
    return {
        "unique_receipt_id": receipt,
        "business_date": extra.get("day", DAY),
        "store_external_id": extra.get("store", "Webshop-SE"),
        "line_type": line_type,
        "sku": sku,
        "article_group": extra.get("group"),
        "quantity": quantity,
        "gross_paid_price": paid,
        "signed_amount": signed,
        "currency": "SEK",
        "exchange_rate_to_group_currency": 0.1,
    }


def test_sales_split_by_register_category_with_returns_netted() -> None:
    lines = pl.LazyFrame(
        [
            line("R1", "PURCHASE", "JACKET", 1, 999.0),
            line("R1", "PURCHASE", "SOCKS", 2, 258.0, group="Socks"),
            line("R2", "RETURN", "SOCKS", -1, 129.0, group="Socks"),
        ]
    )
    articles = pl.LazyFrame({"sku": ["JACKET"], "main_category": ["Jackets"]})
    daily = sales_daily_frame(lines, articles)
    rows = {row["main_category"]: row for row in daily.iter_rows(named=True)}
    assert rows["Jackets"]["gross_sales"] == 999.0
    assert rows["Jackets"]["receipts"] == 1
    socks = rows["Socks"]
    assert (socks["gross_sales"], socks["returns"], socks["net_sales"]) == (258.0, 129.0, 129.0)
    assert (socks["units_sold"], socks["units_returned"], socks["receipts"]) == (2.0, 1.0, 2)
    assert round(socks["net_sales_group_currency"], 6) == 12.9


def test_unknown_article_without_group_falls_back_to_unknown_and_register_wins_later() -> None:
    lines = pl.LazyFrame([line("R1", "PURCHASE", "NEW-SKU", 1, 10.0, store=None)])
    before = sales_daily_frame(
        lines,
        pl.LazyFrame(
            {"sku": [], "main_category": []}, schema={"sku": pl.String, "main_category": pl.String}
        ),
    )
    assert before.select("store_external_id", "main_category").row(0) == ("Unknown", "Unknown")
    after = sales_daily_frame(lines, pl.LazyFrame({"sku": ["NEW-SKU"], "main_category": ["Shoes"]}))
    assert after["main_category"].to_list() == ["Shoes"]
