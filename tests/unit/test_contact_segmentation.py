"""contact_segmentation against an independent computation from silver, on generated data.

The expectation is computed straight from the silver frames by contact id, with none of the
builders' code (no surrogate keys, no facts), so a wrong join, sign or window in either the facts
or the measures shows up as a difference.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from schemas.gold_tables import CONTACT_SEGMENTATION
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS
from tests.support.silver import Silver
from tests.unit.test_gold_builders import AS_OF, ONGOING, build

STATUSES = ["InProgress", "Completed", "Cancelled", "OnHold"]
SKUS = ["JACKET", "SOCKS", "SCARF", "BOOTS", "UNREGISTERED"]
CATEGORIES = {"JACKET": "Jackets", "SOCKS": "Socks", "SCARF": "Accessories", "BOOTS": None}


def generated_shop(seed: int) -> tuple[Silver, list[str]]:
    """30 contacts (5 not live), 150 orders and 200 receipts at random; the live contact ids."""
    rng = random.Random(seed)
    contacts = [f"00000000-0000-0000-0000-{n:012d}" for n in range(30)]
    live = contacts[:25]
    silver = Silver()
    for contact_id in live:
        silver.contact(contact_id)
    for sku, category in CATEGORIES.items():
        silver.article(sku, main_category=category)
    silver.store("S1")

    def who() -> str | None:
        return None if rng.random() < 0.1 else rng.choice(contacts)

    def when() -> datetime:
        return AS_OF - timedelta(minutes=rng.randrange(-2 * 1440, 800 * 1440))

    for n in range(150):
        lines = [
            (
                "Return" if rng.random() < 0.2 else "Purchase",
                rng.choice(SKUS),
                rng.randrange(1, 4),
                float(rng.randrange(10, 500)),
            )
            for _ in range(rng.randrange(1, 5))
        ]
        silver.order(f"O{n}", who(), rng.choice(STATUSES), lines, when())
    for n in range(200):
        lines = [
            (
                "RETURN" if rng.random() < 0.25 else "PURCHASE",
                rng.choice(SKUS),
                float(rng.randrange(5, 300)),
            )
            for _ in range(rng.randrange(1, 4))
        ]
        silver.receipt(f"R{n}", who(), when(), lines, rate=rng.choice([0.1, 1.0, None]))
    return silver, live


def expected_model(silver: Silver, live: list[str]) -> pl.DataFrame:
    """The measures per live contact, computed from silver by contact id."""
    contacts = pl.LazyFrame({"contact_id": live})
    orders = silver.scan(ORDERS).filter(pl.col("contact_id").is_in(live))
    lines = silver.scan(ORDER_LINES).join(orders.select("order_id", "status"), on="order_id")
    ongoing_orders = orders.filter(pl.col("status").is_in(ONGOING))
    returned = lines.filter(pl.col("line_type") == "Return").select("order_id").unique()
    order_stats = orders.group_by("contact_id").agg(
        pl.len().alias("order_count"),
        pl.col("order_id")
        .is_in(returned.collect()["order_id"].implode())
        .sum()
        .alias("return_count"),
        pl.col("created_at").min().alias("first_order_at"),
        pl.col("created_at").max().alias("last_order_at"),
    )
    ongoing_stats = ongoing_orders.group_by("contact_id").agg(
        pl.len().alias("ongoing_order_count"),
        pl.col("sub_total").sum().alias("ongoing_order_value"),
        pl.col("status").unique().sort().alias("ongoing_order_statuses"),
    )
    ongoing_lines = (
        lines.filter(pl.col("status").is_in(ONGOING), pl.col("line_type") == "Purchase")
        .join(orders.select("order_id", pl.col("contact_id").alias("owner")), on="order_id")
        .join(silver.scan(ARTICLES).select("sku", "main_category"), on="sku", how="left")
    )
    article_stats = ongoing_lines.group_by(pl.col("owner").alias("contact_id")).agg(
        pl.col("sku").unique().sort().alias("ongoing_skus"),
        pl.col("main_category").drop_nulls().unique().sort().alias("ongoing_main_categories"),
    )
    receipts = silver.scan(RECEIPTS).filter(pl.col("contact_id").is_in(live))
    receipt_lines = silver.scan(RECEIPT_LINES).with_columns(
        (pl.col("signed_amount") * pl.col("exchange_rate_to_group_currency").fill_null(1.0)).alias(
            "group_amount"
        )
    )
    per_receipt = receipts.join(
        receipt_lines.group_by("unique_receipt_id").agg(
            (pl.col("line_type") == "PURCHASE").any().alias("bought"),
            pl.col("group_amount").sum().alias("net"),
        ),
        on="unique_receipt_id",
    ).with_columns(
        (
            (pl.col("created_at") > AS_OF - timedelta(days=365)) & (pl.col("created_at") <= AS_OF)
        ).alias("recent")
    )
    purchases = per_receipt.filter("bought")
    purchase_stats = purchases.group_by("contact_id").agg(
        pl.len().alias("receipt_count"),
        pl.col("created_at").min().alias("first_purchase_at"),
        pl.col("created_at").max().alias("last_purchase_at"),
        pl.col("recent").sum().alias("frequency"),
    )
    spend_stats = per_receipt.group_by("contact_id").agg(
        pl.col("net").filter("recent").sum().alias("monetary"),
        pl.col("net").sum().alias("lifetime_net_spend"),
    )
    expected = contacts
    for stats in (order_stats, ongoing_stats, article_stats, purchase_stats, spend_stats):
        expected = expected.join(stats, on="contact_id", how="left")
    empty = pl.lit([], pl.List(pl.String))
    return (
        expected.with_columns(
            pl.col("order_count", "return_count", "ongoing_order_count").fill_null(0),
            pl.col("receipt_count", "frequency").fill_null(0),
            pl.col("ongoing_order_value", "monetary", "lifetime_net_spend").fill_null(0.0),
            pl.col("ongoing_order_statuses", "ongoing_skus", "ongoing_main_categories").fill_null(
                empty
            ),
            ((pl.lit(AS_OF) - pl.col("last_purchase_at")).dt.total_seconds() // 86_400).alias(
                "recency_days"
            ),
        )
        .sort("contact_id")
        .collect()
    )


MEASURES = [
    "contact_id",
    "ongoing_order_count",
    "ongoing_order_value",
    "ongoing_order_statuses",
    "ongoing_skus",
    "ongoing_main_categories",
    "order_count",
    "return_count",
    "first_order_at",
    "last_order_at",
    "receipt_count",
    "first_purchase_at",
    "last_purchase_at",
    "recency_days",
    "frequency",
    "monetary",
    "lifetime_net_spend",
]


def test_measures_match_an_independent_computation_from_silver() -> None:
    for seed in (1, 2, 3):
        silver, live = generated_shop(seed)
        model = build(silver)[CONTACT_SEGMENTATION.name]
        assert model.columns == CONTACT_SEGMENTATION.column_names
        assert model["as_of"].unique().to_list() == [AS_OF]
        expected = expected_model(silver, live)
        assert expected["order_count"].sum() > 50
        assert expected["frequency"].sum() > 10
        assert_frame_equal(
            model.sort("contact_id").select(MEASURES),
            expected.select(MEASURES),
            check_dtypes=False,
            check_exact=False,
            abs_tol=1e-9,
        )


def test_as_of_moves_recency_and_the_window() -> None:
    silver, _ = generated_shop(4)
    now = build(silver)[CONTACT_SEGMENTATION.name].sort("contact_id")
    later = build(silver, as_of=AS_OF + timedelta(days=100))[CONTACT_SEGMENTATION.name]
    later = later.sort("contact_id")
    bought = now["recency_days"].is_not_null()
    assert ((later["recency_days"] - now["recency_days"]).filter(bought) == 100).all()
    assert later["frequency"].sum() < now["frequency"].sum()
    assert later["receipt_count"].to_list() == now["receipt_count"].to_list()
