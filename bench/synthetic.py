"""Synthetic silver data at scale, written straight into a lake and an operational database.

The intake and the silver pipeline are measured elsewhere; the gold and segment benchmarks need
silver tables of a realistic size (1M orders, 5M order lines by default) in seconds, so this
generates them column-wise with polars: pseudo-random values are hashes of the row number, so a
scale always produces the same data. Shapes come from the table catalogue; columns the generator
does not fill are left null, so it keeps working as the catalogue grows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import insert

from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS, STORES
from storage.db import engine_for, migrate
from storage.lake import Lake
from storage.models import Contact

CATEGORIES = ["Jackets", "Shirts", "Trousers", "Shoes", "Accessories", "Knitwear", "Dresses"]
DAYS_OF_HISTORY = 730


@dataclass(frozen=True)
class Scale:
    orders: int = 1_000_000
    lines_per_order: int = 5
    contacts: int = 500_000
    receipts: int = 1_000_000
    lines_per_receipt: int = 2
    articles: int = 20_000
    stores: int = 100


def pick(row: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    """A pseudo-random integer in [0, modulo) per row, the same for every run."""
    return (row.hash(seed) % modulo).cast(pl.Int64)


def choose(row: pl.Expr, seed: int, values: list[str]) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(pick(row, seed, len(values)))


def padded(prefix: str, number: pl.Expr, width: int) -> pl.Expr:
    return pl.lit(prefix) + number.cast(pl.String).str.zfill(width)


def conform(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Add the catalogue's columns the generator left out (as nulls), in catalogue order.

    Public because the order-state benchmarks (bench/order_state.py) shape their rows with it too.
    """
    schema = pl.Schema(spec.arrow_schema)
    missing = [
        pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frame
    ]
    return frame.with_columns(missing).select(list(schema)).cast(dict(schema))


def _rows(count: int) -> pl.DataFrame:
    return pl.DataFrame({"row": pl.int_range(count, eager=True, dtype=pl.Int64)})


def _contact_id(index: pl.Expr) -> pl.Expr:
    """Contact ids as UUIDs of 1..N, so orders can refer to them without a lookup."""
    return pl.lit("00000000-0000-0000-0000-") + (index + 1).cast(pl.String).str.zfill(12)


def _past(row: pl.Expr, seed: int, now: datetime) -> pl.Expr:
    seconds = pick(row, seed, DAYS_OF_HISTORY * 86_400)
    return pl.lit(now) - pl.duration(seconds=seconds)


def write_contacts(database_url: str, scale: Scale, now: datetime) -> None:
    """Live contacts with synthetic (not real) key fields."""
    migrate(database_url)
    contacts = _rows(scale.contacts).select(
        _contact_id(pl.col("row")).alias("id"),
        pl.lit("Member").alias("contact_type"),
        pl.when(pl.col("row") % 3 > 0)
        .then(padded("member", pl.col("row"), 7) + "@example.com")
        .alias("email"),
        choose(pl.col("row"), 11, ["SE", "NO", "DK", "FI", "DE"]).alias("country_code"),
        choose(pl.col("row"), 12, ["Female", "Male", "Other"]).alias("gender"),
        _past(pl.col("row"), 13, now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    assert str(uuid.UUID(contacts["id"][0])) == contacts["id"][0]
    with engine_for(database_url).begin() as connection:
        for chunk in contacts.iter_slices(50_000):
            connection.execute(insert(Contact), chunk.to_dicts())


def write_registers(lake: Lake, scale: Scale, now: datetime) -> None:
    row = pl.col("row")
    articles = _rows(scale.articles).select(
        padded("SKU-", row, 6).alias("sku"),
        padded("Article ", row, 1).alias("name"),
        choose(row, 21, CATEGORIES).alias("main_category"),
        padded("Brand ", row % 50, 1).alias("brand"),
        choose(row, 22, ["Black", "Blue", "Red", "Green"]).alias("color"),
        row.alias("change_seq"),
        pl.lit("bench").alias("job_id"),
        pl.lit(now).alias("registered_at"),
    )
    stores = _rows(scale.stores).select(
        padded("STORE-", row, 3).alias("external_id"),
        padded("Store ", row, 1).alias("name"),
        choose(row, 23, ["Stockholm", "Oslo", "Copenhagen"]).alias("city"),
        row.alias("change_seq"),
        pl.lit("bench").alias("job_id"),
        pl.lit(now).alias("registered_at"),
    )
    lake.overwrite(ARTICLES, conform(ARTICLES, articles).to_arrow())
    lake.overwrite(STORES, conform(STORES, stores).to_arrow())


def _sku(row: pl.Expr, seed: int, scale: Scale) -> pl.Expr:
    """Mostly registered SKUs, 1 % unknown to the register."""
    number = pick(row, seed, scale.articles)
    unknown = pick(row, seed + 1, 100) == 0
    return pl.when(unknown).then(padded("UNKNOWN-", number, 6)).otherwise(padded("SKU-", number, 6))


def _resolved_contact(row: pl.Expr, seed: int, scale: Scale, share_percent: int) -> pl.Expr:
    return pl.when(pick(row, seed, 100) < share_percent).then(
        _contact_id(pick(row, seed + 1, scale.contacts))
    )


def write_orders(lake: Lake, scale: Scale, now: datetime) -> None:
    row = pl.col("row")
    orders = (
        _rows(scale.orders)
        .select(
            padded("O", row, 8).alias("order_id"),
            padded("V", row, 8).alias("version_tag"),
            pl.lit(1, pl.Int64).alias("version_number"),
            row.alias("change_seq"),
            padded("J", row, 8).alias("job_id"),
            pl.lit("create").alias("change_type"),
            _resolved_contact(row, 31, scale, 95).alias("contact_id"),
            choose(row, 33, ["InProgress"] * 3 + ["Completed"] * 6 + ["Cancelled"]).alias("status"),
            padded("STORE-", pick(row, 34, scale.stores + 5), 3).alias("external_store_id"),
            choose(row, 35, ["Ecom", "Store"]).alias("channel"),
            pl.lit("SEK").alias("currency_code"),
            pl.lit("Purchase").alias("order_type"),
            pl.lit(scale.lines_per_order, pl.Int32).alias("line_count"),
            (pick(row, 36, 5000) + 100).cast(pl.Float64).alias("sub_total"),
            _past(row, 37, now).alias("created_at"),
        )
        .with_columns(
            pl.col("created_at").alias("last_changed_at"),
            (pl.col("created_at") + timedelta(days=3)).alias("delivery_date"),
            pl.col("created_at").alias("landed_at"),
            pl.col("created_at").alias("processed_at"),
        )
    )
    lake.overwrite(ORDERS, conform(ORDERS, orders).to_arrow())
    lines = (
        orders.select("order_id", "version_tag", "change_seq", "contact_id")
        .with_columns(pl.int_ranges(0, scale.lines_per_order, dtype=pl.Int32).alias("line_number"))
        .explode("line_number")
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .with_columns(
            pl.when(pick(row, 41, 100) < 5)
            .then(pl.lit("Return"))
            .otherwise(pl.lit("Purchase"))
            .alias("line_type"),
            _sku(row, 42, scale).alias("sku"),
            (pick(row, 44, 3) + 1).alias("quantity"),
            (pick(row, 45, 1000) + 50).cast(pl.Float64).alias("price_per_unit"),
            (pick(row, 46, 3000) + 50).cast(pl.Float64).alias("total_price"),
        )
    )
    lake.overwrite(ORDER_LINES, conform(ORDER_LINES, lines).to_arrow())


def write_receipts(lake: Lake, scale: Scale, now: datetime) -> None:
    row = pl.col("row")
    receipts = (
        _rows(scale.receipts)
        .select(
            padded("R", row, 8).alias("unique_receipt_id"),
            padded("N", row, 8).alias("receipt_number"),
            padded("J", row, 8).alias("job_id"),
            row.alias("change_seq"),
            _resolved_contact(row, 51, scale, 90).alias("contact_id"),
            padded("STORE-", pick(row, 53, scale.stores), 3).alias("store_external_id"),
            pl.lit("SEK").alias("currency"),
            pl.lit(1.0).alias("exchange_rate_to_group_currency"),
            _past(row, 54, now).alias("created_at"),
        )
        .with_columns(
            pl.col("created_at").dt.date().alias("business_date"),
            pl.col("created_at").alias("landed_at"),
            pl.col("created_at").alias("processed_at"),
        )
    )
    lake.overwrite(RECEIPTS, conform(RECEIPTS, receipts).to_arrow())
    is_return = pick(row, 61, 100) < 5
    price = (pick(row, 62, 3000) + 50).cast(pl.Float64)
    lines = (
        receipts.select(
            "unique_receipt_id",
            "change_seq",
            "contact_id",
            "store_external_id",
            "business_date",
            "currency",
            "exchange_rate_to_group_currency",
        )
        .with_columns(
            pl.int_ranges(0, scale.lines_per_receipt, dtype=pl.Int32).alias("line_number")
        )
        .explode("line_number")
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .with_columns(
            pl.when(is_return)
            .then(pl.lit("RETURN"))
            .otherwise(pl.lit("PURCHASE"))
            .alias("line_type"),
            _sku(row, 63, scale).alias("sku"),
            pl.when(is_return).then(-1.0).otherwise(1.0).alias("quantity"),
            price.alias("gross_paid_price"),
            pl.when(is_return).then(-price).otherwise(price).alias("signed_amount"),
        )
    )
    lake.overwrite(RECEIPT_LINES, conform(RECEIPT_LINES, lines).to_arrow())


def write_silver(lake: Lake, database_url: str, scale: Scale, now: datetime | None = None) -> None:
    """Silver tables and contacts for a gold build at `scale`."""
    now = now or datetime.now(UTC)
    write_contacts(database_url, scale, now)
    write_registers(lake, scale, now)
    write_orders(lake, scale, now)
    write_receipts(lake, scale, now)
