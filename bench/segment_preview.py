"""Figure `segment_preview`: how fast a segment preview answers on gold tables of a realistic size.

Generates synthetic gold tables (1M orders and 5M order lines in full mode; contacts, receipts and
articles in proportion) column-wise with polars and writes them to Delta tables, as the product
reads them, then times `preview` (median of 5 runs after a warm-up) next to a hand-written polars
query doing the same work: the floor the engine's generic plan is compared with. The figure is the
issue's "ongoing order with an article of a brand" segment; the other definitions are reported
beside it. Every answer is checked against the hand-written one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from bench.harness import BenchContext
from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)
from schemas.segment_definitions import SegmentDefinition
from schemas.table_spec import TableSpec
from storage.lake import Lake
from storage.segment_evaluation import GoldTables, preview

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
DAYS = 730
CATEGORIES = ["Jackets", "Shirts", "Trousers", "Shoes", "Accessories", "Knitwear", "Dresses"]
COUNTRIES = ["SE", "NO", "DK", "FI", "DE"]
SAMPLE = 20


@dataclass(frozen=True)
class Scale:
    orders: int
    lines_per_order: int
    contacts: int
    receipts: int
    lines_per_receipt: int = 2
    articles: int = 20_000
    stores: int = 100


# Synthetic gold tables: pseudo-random values are hashes of the row number (same data every run).


def pick(seed: int, modulo: int, row: str = "row") -> pl.Expr:
    return (pl.col(row).hash(seed) % modulo).cast(pl.Int64)


def choose(seed: int, values: list[str], row: str = "row") -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(pick(seed, len(values), row))


def moment(seed: int, days: int, row: str = "row", ahead: int = 0) -> pl.Expr:
    """A timestamp in the `days` before NOW (shifted `ahead` days into the future)."""
    seconds = pick(seed, days * 86_400, row) - ahead * 86_400
    return pl.lit(NOW) - pl.duration(seconds=seconds)


def key(column: str, seed: int) -> pl.Expr:
    """A 64-bit surrogate key from a natural number, like the gold build's hashed keys."""
    return pl.col(column).hash(seed).reinterpret(signed=True)


def conform(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """The spec's exact schema. Columns the generator does not fill are null, or a zero value
    where the spec forbids nulls (Delta enforces it)."""
    schema = pl.Schema(spec.arrow_schema)
    missing = [
        pl.lit(None if column.nullable else ZEROS[schema[column.name]], schema[column.name]).alias(
            column.name
        )
        for column in spec.columns
        if column.name not in frame
    ]
    return frame.with_columns(missing).select(list(schema)).cast(dict(schema))


ZEROS: dict[pl.DataType, object] = {
    pl.Int64(): 0,
    pl.Int32(): 0,
    pl.String(): "",
    pl.Boolean(): False,
    pl.Datetime("us", "UTC"): NOW,
}


def rows(count: int) -> pl.DataFrame:
    return pl.DataFrame({"row": pl.int_range(0, count, dtype=pl.Int64, eager=True)})


def contact_key(seed: int, contacts: int, row: str = "row") -> pl.Expr:
    """A contact's key, 0 (unresolved) for about 2% of facts."""
    number = pick(seed, contacts, row).alias("contact")
    return pl.when(pick(seed + 1, 50, row) == 0).then(0).otherwise(key_of_contact(number))


def key_of_contact(number: pl.Expr) -> pl.Expr:
    return number.hash(7).reinterpret(signed=True)


def unknown_or(article: pl.Expr) -> pl.Expr:
    """About 1% of lines name an SKU the register does not know (dim_article row 0)."""
    return pl.when(pick(99, 100) == 0).then(0).otherwise(article)


def dim_article(scale: Scale) -> pl.DataFrame:
    frame = rows(scale.articles).with_columns(
        article_key=pl.when(pl.col("row") == 0).then(0).otherwise(key("row", 3)),
        sku=pl.format("SKU{}", pl.col("row")),
        main_category=pl.when(pl.col("row") == 0)
        .then(pl.lit("Unknown"))
        .otherwise(choose(11, CATEGORIES)),
        brand=choose(12, ["Northwind", "Fjell", "Aurora", "Kust"]),
        awards_bonus=pick(13, 4) > 0,
        season=choose(14, ["AW25", "SS26", "AW26"]),
        date_spare1=moment(15, DAYS),
    )
    return conform(DIM_ARTICLE, frame)


def fact_order(scale: Scale) -> pl.DataFrame:
    status = choose(21, ["InProgress", "Completed", "Completed", "Completed", "Cancelled"])
    frame = (
        rows(scale.orders)
        .with_columns(
            order_key=key("row", 1),
            order_id=pl.format("O{}", pl.col("row")),
            contact_key=contact_key(22, scale.contacts),
            external_store_id=pl.format("S{}", pick(23, scale.stores)),
            status=status,
            channel=choose(24, ["Web", "Store", "App"]),
            order_type=choose(25, ["Purchase"] * 18 + ["Return", "Mixed"]),
            value=pick(26, 500_000).cast(pl.Float64) / 100,
            created_at=moment(27, DAYS),
            version_tag=pl.format("v{}", pl.col("row")),
        )
        .with_columns(
            is_ongoing=pl.col("status") == "InProgress",
            last_changed_at=pl.col("created_at") + pl.duration(hours=pick(28, 240)),
            delivery_date=pl.when(pl.col("status") == "InProgress")
            .then(pl.lit(NOW) + pl.duration(hours=pick(29, 24 * 21)))
            .otherwise(pl.col("created_at") + pl.duration(days=3)),
            line_count=pl.lit(scale.lines_per_order),
            version_number=pl.lit(1),
        )
    )
    return conform(FACT_ORDER, frame)


def fact_order_line(scale: Scale, orders: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    order_columns = ["order_key", "order_id", "contact_key", "status", "is_ongoing", "created_at"]
    per_order = orders.select(order_columns).with_columns(
        line_number=pl.int_ranges(0, scale.lines_per_order, dtype=pl.Int32)
    )
    lines = per_order.explode("line_number").with_row_index("row")
    article = unknown_or(pick(31, scale.articles))
    frame = lines.with_columns(
        article_key=pl.lit(articles["article_key"]).gather(article),
        sku=pl.lit(articles["sku"]).gather(article),
        line_type=choose(32, ["Purchase"] * 19 + ["Return"]),
        quantity=pick(33, 3) + 1,
        total_price=pick(34, 100_000).cast(pl.Float64) / 100,
        order_status=pl.col("status"),
    ).with_columns(is_return=pl.col("line_type") == "Return")
    return conform(FACT_ORDER_LINE, frame.drop("status", "created_at"))


def fact_receipt_line(scale: Scale, articles: pl.DataFrame) -> pl.DataFrame:
    receipts = rows(scale.receipts).with_columns(
        unique_receipt_id=pl.format("R{}", pl.col("row")),
        contact_key=contact_key(41, scale.contacts),
        store_external_id=pl.format("S{}", pick(42, scale.stores)),
        created_at=moment(43, DAYS),
        line_number=pl.int_ranges(0, scale.lines_per_receipt, dtype=pl.Int32),
    )
    lines = receipts.drop("row").explode("line_number").with_row_index("row")
    article = unknown_or(pick(44, scale.articles))
    frame = lines.with_columns(
        article_key=pl.lit(articles["article_key"]).gather(article),
        sku=pl.lit(articles["sku"]).gather(article),
        line_type=choose(45, ["PURCHASE"] * 12 + ["RETURN"]),
        gross_paid_price=pick(46, 200_000).cast(pl.Float64) / 100,
    ).with_columns(
        is_return=pl.col("line_type") == "RETURN",
        signed_amount=pl.when(pl.col("line_type") == "RETURN")
        .then(-pl.col("gross_paid_price"))
        .otherwise(pl.col("gross_paid_price")),
    )
    frame = frame.with_columns(signed_amount_group_currency=pl.col("signed_amount") / 10)
    return conform(FACT_RECEIPT_LINE, frame)


def contact_segmentation(scale: Scale) -> pl.DataFrame:
    frame = rows(scale.contacts).with_columns(
        contact_key=key_of_contact(pl.col("row")),
        contact_id=pl.format("C{}", pl.col("row")),
        contact_type=choose(51, ["Member"] * 9 + ["Employee"]),
        country_code=choose(52, COUNTRIES),
        gender=choose(53, ["Female", "Male", "Other"]),
        birth_year=(pick(54, 70) + 1940).cast(pl.Int32),
        created_at=moment(55, DAYS * 2),
        ongoing_order_count=pick(56, 3),
        order_count=pick(57, 8),
        return_count=pick(58, 2),
        receipt_count=pick(59, 6),
        recency_days=pl.when(pick(60, 5) == 0).then(None).otherwise(pick(61, 400)),
        frequency=pick(62, 6),
        monetary=pick(63, 300_000).cast(pl.Float64) / 100,
        as_of=pl.lit(NOW),
    )
    return conform(CONTACT_SEGMENTATION, frame)


def generate(scale: Scale) -> dict[TableSpec, pl.DataFrame]:
    articles = dim_article(scale)
    orders = fact_order(scale)
    return {
        DIM_ARTICLE: articles,
        FACT_ORDER: orders,
        FACT_ORDER_LINE: fact_order_line(scale, orders, articles),
        FACT_RECEIPT_LINE: fact_receipt_line(scale, articles),
        CONTACT_SEGMENTATION: contact_segmentation(scale),
    }


def gold_tables(frames: dict[TableSpec, pl.DataFrame]) -> GoldTables:
    return GoldTables(
        fact_order=frames[FACT_ORDER].lazy(),
        fact_order_line=frames[FACT_ORDER_LINE].lazy(),
        fact_receipt_line=frames[FACT_RECEIPT_LINE].lazy(),
        dim_article=frames[DIM_ARTICLE].lazy(),
        contact_segmentation=frames[CONTACT_SEGMENTATION].lazy(),
    )


# The definitions, and the same work written by hand --------------------------------------------

FIGURE_DEFINITION = "ongoing-brand"
"""The figure: contacts with an ongoing order containing an article of one brand."""

DEFINITIONS = {
    FIGURE_DEFINITION: {"order": {"ongoing": True, "line": {"article": {"brand": "Fjell"}}}},
    "ongoing-jackets": {
        "all": [
            {
                "order": {
                    "ongoing": True,
                    "line": {"type": "Purchase", "article": {"maincategory": "Jackets"}},
                }
            },
            {"not": {"receipt": {"since": "P30D"}}},
        ]
    },
    "big-spenders-90d": {
        "receipt": {"since": "P90D", "type": "Purchase", "spend": {"min": 200}, "count": {"min": 2}}
    },
    "lapsed-se-members": {
        "contact": {
            "type": "Member",
            "countryCode": "SE",
            "recencyDays": {"min": 180},
            "monetary": {"min": 100},
        }
    },
    "delivery-or-repeat-not-returning": {
        "all": [
            {
                "any": [
                    {"order": {"ongoing": True, "deliveryDate": {"from": "PT0S", "to": "P7D"}}},
                    {"order": {"createdAt": "P30D", "count": {"min": 2}}},
                ]
            },
            {"not": {"receipt": {"type": "Return", "since": "P30D"}}},
        ]
    },
}


def by_hand(name: str, gold: GoldTables) -> pl.LazyFrame:
    """The members of DEFINITIONS[name] as one would write the query directly."""
    return HAND_WRITTEN[name](gold).select("contact_key", "contact_id")


def _ongoing_brand(gold: GoldTables) -> pl.LazyFrame:
    brand = gold.dim_article.filter((pl.col("brand") == "Fjell") & (pl.col("article_key") != 0))
    lines = gold.fact_order_line.filter(pl.col("is_ongoing") & (pl.col("contact_key") != 0)).join(
        brand, on="article_key", how="semi"
    )
    orders = gold.fact_order.filter(pl.col("is_ongoing")).join(lines, on="order_key", how="semi")
    return gold.contact_segmentation.join(orders, on="contact_key", how="semi")


def _ongoing_jackets(gold: GoldTables) -> pl.LazyFrame:
    jackets = gold.dim_article.filter(
        (pl.col("main_category") == "Jackets") & (pl.col("article_key") != 0)
    )
    lines = gold.fact_order_line.filter(
        pl.col("is_ongoing") & (pl.col("line_type") == "Purchase") & (pl.col("contact_key") != 0)
    ).join(jackets, on="article_key", how="semi")
    orders = gold.fact_order.filter(pl.col("is_ongoing")).join(lines, on="order_key", how="semi")
    recent = gold.fact_receipt_line.filter(pl.col("created_at") >= NOW - timedelta(days=30))
    return gold.contact_segmentation.join(orders, on="contact_key", how="semi").join(
        recent, on="contact_key", how="anti"
    )


def _big_spenders(gold: GoldTables) -> pl.LazyFrame:
    spenders = (
        gold.fact_receipt_line.filter(
            (pl.col("created_at") >= NOW - timedelta(days=90))
            & (pl.col("line_type") == "PURCHASE")
            & (pl.col("contact_key") != 0)
        )
        .group_by("contact_key")
        .agg(
            spend=pl.col("signed_amount_group_currency").sum(),
            receipts=pl.col("unique_receipt_id").n_unique(),
        )
        .filter((pl.col("spend") >= 200) & (pl.col("receipts") >= 2))
    )
    return gold.contact_segmentation.join(spenders, on="contact_key", how="semi")


def _lapsed(gold: GoldTables) -> pl.LazyFrame:
    return gold.contact_segmentation.filter(
        (pl.col("contact_type") == "Member")
        & (pl.col("country_code") == "SE")
        & (pl.col("recency_days") >= 180)
        & (pl.col("monetary") >= 100)
    )


def _delivery_or_repeat(gold: GoldTables) -> pl.LazyFrame:
    delivering = gold.fact_order.filter(
        pl.col("is_ongoing")
        & (pl.col("delivery_date") >= NOW)
        & (pl.col("delivery_date") < NOW + timedelta(days=7))
    ).select("contact_key")
    repeat = (
        gold.fact_order.filter(pl.col("created_at").is_between(NOW - timedelta(days=30), NOW))
        .group_by("contact_key")
        .len()
        .filter(pl.col("len") >= 2)
        .select("contact_key")
    )
    returners = gold.fact_receipt_line.filter(
        (pl.col("line_type") == "RETURN") & (pl.col("created_at") >= NOW - timedelta(days=30))
    )
    either = pl.concat([delivering, repeat]).filter(pl.col("contact_key") != 0)
    return gold.contact_segmentation.join(either, on="contact_key", how="semi").join(
        returners, on="contact_key", how="anti"
    )


HAND_WRITTEN: dict[str, Callable[[GoldTables], pl.LazyFrame]] = {
    FIGURE_DEFINITION: _ongoing_brand,
    "ongoing-jackets": _ongoing_jackets,
    "big-spenders-90d": _big_spenders,
    "lapsed-se-members": _lapsed,
    "delivery-or-repeat-not-returning": _delivery_or_repeat,
}


def hand_preview(name: str, gold: GoldTables) -> tuple[int, list[str]]:
    members = by_hand(name, gold)
    row = members.select(
        count=pl.len(),
        sample=pl.col("contact_id").sort_by("contact_key").head(SAMPLE).implode(),
    ).collect()
    return row["count"][0], row["sample"][0].to_list()


# Timing -----------------------------------------------------------------------------------------


def medians(*runs: Callable[[], object], repeat: int = 5) -> list[float]:
    """Median seconds of each run. Runs alternate, so that a slow moment of the machine (page
    cache, another process) is not charged to one of them."""
    for run in runs:
        run()  # warm-up: first reads of the files, thread pool start
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, spent in zip(runs, times, strict=True):
            started = time.perf_counter()
            run()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def run(context: BenchContext) -> dict[str, Any]:
    orders = context.size(1_000_000, 100_000, 2_000)
    scale = Scale(orders=orders, lines_per_order=5, contacts=max(orders // 2, 1), receipts=orders)
    lake = Lake(str(context.work_dir / "lake"))
    for spec, frame in generate(scale).items():
        lake.overwrite(spec, frame.to_arrow())
    gold = GoldTables.from_lake(lake)
    timings = {name: _timed(name, criteria, gold) for name, criteria in DEFINITIONS.items()}
    members, seconds, floor = timings[FIGURE_DEFINITION]
    return {
        "orders": scale.orders,
        "order_lines": scale.orders * scale.lines_per_order,
        "members": members,
        "seconds": round(seconds, 4),
        "floor_seconds": round(floor, 4),
        "ratio": round(seconds / floor, 2),
        "others": {
            name: {"seconds": round(s, 4), "floor_seconds": round(f, 4)}
            for name, (_, s, f) in timings.items()
            if name != FIGURE_DEFINITION
        },
    }


def _timed(name: str, criteria: dict[str, Any], gold: GoldTables) -> tuple[int, float, float]:
    """Members, median preview seconds and median hand-written seconds; the answers must agree."""
    definition = SegmentDefinition.model_validate({"name": name, "criteria": criteria})
    result = preview(definition.criteria, gold, NOW, sample_size=SAMPLE)
    assert (result.count, result.sample) == hand_preview(name, gold), name
    engine, floor = medians(
        lambda: preview(definition.criteria, gold, NOW),
        lambda: hand_preview(name, gold),
    )
    return result.count, engine, floor
