"""A small, hand-written gold star schema to evaluate segments on, built to the table specs.

Each contact has a story (written next to it) that one or more tests rely on. Frames are built
with the exact arrow schemas of `schemas.gold_tables`, surrogate keys are 64-bit hashes as in the
real build (so contact_key order looks random), and `contact_segmentation` is derived from the
facts the way the segmentation model defines its measures, so contact measures agree with orders
and receipts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
    UNKNOWN_KEY,
)
from schemas.table_spec import TableSpec
from storage.segment_evaluation import GoldTables

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
"""The fixed clock every relative bound in the tests resolves against."""


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def ahead(days: float) -> datetime:
    return NOW + timedelta(days=days)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def surrogate(natural_key: str | None) -> int:
    """A stable signed 64-bit hash, like the gold build's keys; no key is the unknown member 0."""
    if natural_key is None:
        return UNKNOWN_KEY
    digest = hashlib.blake2b(natural_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Contacts: id, contactType, countryCode, gender, birthYear, createdAt

CONTACTS: list[tuple[str, str, str | None, str | None, int | None, datetime]] = [
    ("anna", "Member", "SE", "Female", 1985, at("2024-03-01T09:00")),  # ongoing jacket, quiet 60d
    ("bo", "Member", "SE", "Male", 1990, at("2024-05-10T10:00")),  # ongoing jacket, bought 10d ago
    ("cleo", "Member", "NO", "Female", 1978, at("2025-01-20T08:00")),  # jacket order completed
    ("dan", "Member", "DK", "Male", 2001, at("2025-06-01T12:00")),  # ongoing, jacket returned
    ("eva", "Employee", "SE", "Female", 1995, at("2023-11-11T11:00")),  # jacket on an older order
    ("finn", "Member", "FI", "Male", None, at("2026-02-02T02:00")),  # unregistered SKU
    ("gro", "Member", "NO", "Female", 1960, at("2026-11-20T15:00")),  # no activity at all
    ("hugo", "Member", "SE", "Male", 1972, at("2022-04-04T04:00")),  # purchase then a return
    ("ida", "Member", "SE", "Female", 1999, at("2025-08-08T08:00")),  # three receipts this month
    ("jon", "Member", "DK", "Male", 1988, at("2025-03-03T03:00")),  # cancelled order
    ("kim", "Member", "SE", "Other", 1993, at("2024-12-12T12:00")),  # two ongoing jacket orders
    ("lea", "Member", "SE", "Female", 1980, at("2023-01-01T00:00")),  # receipt exactly 30d ago
    ("max", "Member", "DE", "Male", 1975, at("2024-07-07T07:00")),  # only a return in 30 days
    ("nora", "Prospect", "SE", None, None, at("2026-11-26T10:00")),  # new prospect, nothing yet
    ("otto", "Member", "SE", "Male", 1969, at("2025-10-10T10:00")),  # delivery in 3 days
    ("pia", "Member", "NO", "Female", 1991, at("2025-09-09T09:00")),  # delivery in 10 days
    ("quinn", "Member", "SE", "", 1983, at("2025-05-05T05:00")),  # delivered 2 days ago, gender ""
    ("rut", "Member", "se", "Female", 1970, at("2024-02-02T02:00")),  # lower-case country code
    ("sam", "Member", "SE", "Male", 1986, at("2024-06-06T06:00")),  # orders around -P1M
    ("tove", "Member", "NO", "Female", 1994, at("2024-08-08T08:00")),  # orders around 15 Nov
    ("ulf", "Member", "SE", "Male", 1950, at("2020-01-01T00:00")),  # last purchase 400 days ago
    ("vera", "Member", "SE", "Female", 1989, at("2025-02-02T02:00")),  # unregistered SKU receipt
    ("walt", "Member", "DK", "Male", 1979, at("2024-09-09T09:00")),  # return-only order
    ("xena", "Member", "SE", "Female", 1982, at("2024-10-10T10:00")),  # 5000 order, null channel
    ("yngve", "Member", "NO", "Male", 1992, at("2024-11-11T11:00")),  # five small receipts
]
UNIVERSE = [contact[0] for contact in CONTACTS]
OUTSIDE_UNIVERSE = "zed"
"""Has orders and receipts but no contact_segmentation row (the tables were read mid-rebuild)."""


# Articles: sku → attributes (article_key is the hash of the sku)


ARTICLES: dict[str, dict[str, Any]] = {
    "JACKET-M": {
        "main_category": "Jackets",
        "sub_category": "Shell",
        "brand": "Northwind",
        "awards_bonus": True,
        "season": "AW26",
        "size": "M",
        "spare1": "core",
        "date_spare1": at("2026-09-01T00:00"),  # launch date
    },
    "JACKET-L": {
        "main_category": "Jackets",
        "sub_category": "Down",
        "brand": "Fjell",
        "awards_bonus": False,
        "season": "AW25",
        "size": "L",
        "date_spare1": at("2025-09-01T00:00"),
    },
    "SOCKS": {"main_category": "Socks", "brand": "Northwind", "awards_bonus": True, "size": "38"},
    "SHOES": {"main_category": "Shoes", "brand": "Fjell", "awards_bonus": True, "spare1": "outlet"},
}
UNREGISTERED = ("MYSTERY-1", "MYSTERY-2")
"""SKUs sent on lines but not in the register: their lines point to article_key 0."""


# Orders

Line = tuple[str, str, int, float]
"""line_type (Purchase | Return), sku, quantity, total price."""


@dataclass(frozen=True)
class Order:
    order_id: str
    contact: str | None
    status: str
    created_at: datetime
    lines: tuple[Line, ...]
    external_status: str | None = "Packed"
    channel: str | None = "Web"
    store: str | None = "WEB-SE"
    last_changed_at: datetime | None = None
    delivery_date: datetime | None = None


JACKET_M: Line = ("Purchase", "JACKET-M", 1, 1999.0)
JACKET_L: Line = ("Purchase", "JACKET-L", 1, 1499.0)
SOCKS: Line = ("Purchase", "SOCKS", 1, 99.0)
SHOES: Line = ("Purchase", "SHOES", 1, 899.0)

ORDERS = [
    Order("O-anna-1", "anna", "InProgress", ago(5), (JACKET_M,), last_changed_at=ago(2)),
    Order(
        "O-anna-0",
        "anna",
        "Completed",
        ago(200),
        (("Purchase", "SOCKS", 2, 198.0),),
        external_status="Delivered",
        channel="Store",
        store="S-STHLM",
        delivery_date=ago(195),
    ),
    Order("O-bo-1", "bo", "InProgress", ago(3), (JACKET_L, SOCKS), last_changed_at=ago(1)),
    Order(
        "O-cleo-1",
        "cleo",
        "Completed",
        ago(40),
        (JACKET_M,),
        external_status="Delivered",
        channel="Store",
        store="S-OSLO",
        delivery_date=ago(38),
    ),
    Order(
        "O-dan-1",
        "dan",
        "InProgress",
        ago(8),
        (("Purchase", "SOCKS", 3, 297.0), ("Return", "JACKET-L", 1, 1499.0)),
        external_status="Received",
    ),
    Order("O-eva-1", "eva", "InProgress", ago(2), (SOCKS,), channel="App"),
    Order("O-eva-0", "eva", "Completed", ago(100), (JACKET_M,), external_status="Delivered"),
    Order(
        "O-finn-1", "finn", "InProgress", ago(4), (("Purchase", "MYSTERY-1", 1, 350.0),), store=None
    ),
    Order(
        "O-jon-1",
        "jon",
        "Cancelled",
        ago(20),
        (SHOES,),
        external_status="CancelledByCustomer",
        store="WEB-DK",
    ),
    Order("O-kim-1", "kim", "InProgress", ago(6), (JACKET_M,), channel="Store", store="S-STHLM"),
    Order(
        "O-kim-2", "kim", "InProgress", ago(1), (JACKET_L, SHOES), channel="Store", store="S-STHLM"
    ),
    Order("O-kim-3", "kim", "Completed", ago(300), (SHOES,), external_status="Delivered"),
    Order("O-lea-1", "lea", "InProgress", ago(7), (JACKET_M,)),
    Order("O-max-1", "max", "InProgress", ago(12), (JACKET_L,)),
    Order("O-otto-1", "otto", "InProgress", ago(9), (SHOES,), "Shipped", delivery_date=ahead(3)),
    Order("O-pia-1", "pia", "InProgress", ago(9), (SOCKS,), "Shipped", delivery_date=ahead(10)),
    Order("O-quinn-1", "quinn", "Completed", ago(9), (SOCKS,), "Delivered", delivery_date=ago(2)),
    Order("O-sam-1", "sam", "Completed", at("2026-10-27T11:59"), (SOCKS,), "Delivered"),
    Order("O-sam-2", "sam", "Completed", at("2026-10-28T00:00"), (SOCKS,), "Delivered"),
    Order("O-tove-1", "tove", "Completed", at("2026-11-15T23:59:59"), (SOCKS,), "Delivered"),
    Order("O-tove-2", "tove", "Completed", at("2026-11-16T00:00"), (SOCKS,), "Delivered"),
    Order(
        "O-walt-1",
        "walt",
        "Completed",
        ago(15),
        (("Return", "SHOES", 1, 899.0),),
        "Returned",
        store="WEB-DK",
    ),
    Order(
        "O-xena-1",
        "xena",
        "Completed",
        ago(50),
        (("Purchase", "JACKET-M", 2, 3998.0), ("Purchase", "SHOES", 1, 1002.0)),
        external_status=None,
        channel=None,
    ),
    Order("O-anon-1", None, "InProgress", ago(1), (JACKET_M,)),
    Order("O-zed-1", OUTSIDE_UNIVERSE, "InProgress", ago(1), (JACKET_M,)),
]


# Receipts

ReceiptItem = tuple[str, str, float, float, float | None]
"""line_type (PURCHASE | RETURN), sku, quantity (negative on returns), gross paid (positive),
exchange rate to group currency (None: unknown, so no group-currency amount)."""


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    contact: str | None
    store: str
    created_at: datetime
    items: tuple[ReceiptItem, ...]


RECEIPTS = [
    Receipt("R-anna-1", "anna", "S-STHLM", ago(60), (("PURCHASE", "SOCKS", 2, 198.0, 0.1),)),
    Receipt("R-bo-1", "bo", "S-STHLM", ago(10), (("PURCHASE", "JACKET-L", 1, 1499.0, 0.1),)),
    Receipt("R-hugo-1", "hugo", "S-STHLM", ago(15), (("PURCHASE", "SHOES", 1, 500.0, 1.0),)),
    Receipt("R-hugo-2", "hugo", "S-STHLM", ago(5), (("RETURN", "SHOES", -1, 200.0, 1.0),)),
    Receipt("R-ida-1", "ida", "S-STHLM", ago(25), (("PURCHASE", "JACKET-M", 1, 400.0, 1.0),)),
    Receipt("R-ida-2", "ida", "S-GBG", ago(12), (("PURCHASE", "JACKET-M", 1, 400.0, 1.0),)),
    Receipt(
        "R-ida-3",
        "ida",
        "WEB-SE",
        ago(2),
        (("PURCHASE", "JACKET-M", 1, 300.0, 1.0), ("PURCHASE", "SOCKS", 1, 100.0, 1.0)),
    ),
    Receipt("R-lea-1", "lea", "S-STHLM", ago(30), (("PURCHASE", "SOCKS", 1, 10.0, 1.0),)),
    Receipt("R-max-0", "max", "S-STHLM", ago(31), (("PURCHASE", "JACKET-L", 1, 149.9, 1.0),)),
    Receipt("R-max-1", "max", "S-STHLM", ago(3), (("RETURN", "JACKET-L", -1, 149.9, 1.0),)),
    Receipt("R-ulf-1", "ulf", "S-OSLO", ago(400), (("PURCHASE", "SHOES", 1, 89.0, 1.0),)),
    Receipt(
        "R-vera-1",
        "vera",
        "WEB-SE",
        ago(20),
        (("PURCHASE", "MYSTERY-2", 1, 50.0, None), ("PURCHASE", "SHOES", 1, 120.0, 1.0)),
    ),
    *(
        Receipt(
            f"R-yngve-{days}", "yngve", "S-OSLO", ago(days), (("PURCHASE", "SOCKS", 1, 10.0, 1.0),)
        )
        for days in (1, 3, 9, 14, 45)
    ),
    Receipt("R-anon-1", None, "S-STHLM", ago(1), (("PURCHASE", "JACKET-M", 1, 1999.0, 0.1),)),
    Receipt("R-zed-1", OUTSIDE_UNIVERSE, "S-STHLM", ago(1), (("PURCHASE", "SOCKS", 1, 9.0, 1.0),)),
]


# Frames


def frame(spec: TableSpec, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows must name every column: a missing one would be a silent null."""
    for row in rows:
        assert set(row) == set(spec.column_names), set(row) ^ set(spec.column_names)
    return pl.DataFrame(rows, schema=pl.Schema(spec.arrow_schema), orient="row")


def date_key(value: datetime | None) -> int:
    return 0 if value is None else int(value.strftime("%Y%m%d"))


def article_key(sku: str) -> int:
    return surrogate(sku) if sku in ARTICLES else UNKNOWN_KEY


def dim_article() -> pl.DataFrame:
    attributes = [name for name in DIM_ARTICLE.column_names if name not in ("article_key", "sku")]
    unknown = {name: None for name in attributes} | {
        "article_key": UNKNOWN_KEY,
        "sku": "Unknown",
        "name": "Unknown",
        "main_category": "Unknown",
    }
    rows = [unknown] + [
        {name: None for name in attributes}
        | {"article_key": surrogate(sku), "sku": sku, "name": sku.title()}
        | values
        | {"registered_at": at("2025-01-01T00:00")}
        for sku, values in ARTICLES.items()
    ]
    return frame(DIM_ARTICLE, rows)


def order_row(order: Order) -> dict[str, Any]:
    purchases = [line for line in order.lines if line[0] == "Purchase"]
    returns = [line for line in order.lines if line[0] == "Return"]
    order_type = "Mixed" if purchases and returns else "Purchase" if purchases else "Return"
    changed = order.last_changed_at or order.created_at
    return {
        "order_key": surrogate(order.order_id),
        "order_id": order.order_id,
        "contact_key": surrogate(order.contact),
        "contact_id": order.contact,
        "store_key": surrogate(order.store),
        "external_store_id": order.store,
        "created_date_key": date_key(order.created_at),
        "last_changed_date_key": date_key(changed),
        "delivery_date_key": date_key(order.delivery_date),
        "status": order.status,
        "is_ongoing": order.status == "InProgress",
        "external_status": order.external_status,
        "channel": order.channel,
        "currency_code": "SEK",
        "order_type": order_type,
        "line_count": len(order.lines),
        "purchase_line_count": len(purchases),
        "return_line_count": len(returns),
        "purchase_quantity": sum(line[2] for line in purchases),
        "return_quantity": sum(line[2] for line in returns),
        "value": sum(line[3] for line in order.lines),
        "purchase_value": sum(line[3] for line in purchases),
        "return_value": sum(line[3] for line in returns),
        "created_at": order.created_at,
        "last_changed_at": changed,
        "delivery_date": order.delivery_date,
        "version_tag": f"v-{order.order_id}",
        "version_number": 1,
    }


def order_line_rows(order: Order) -> list[dict[str, Any]]:
    rows = []
    for number, (line_type, sku, quantity, total) in enumerate(order.lines):
        sign = -1 if line_type == "Return" else 1
        rows.append(
            {
                "order_key": surrogate(order.order_id),
                "order_id": order.order_id,
                "line_number": number,
                "line_id": f"{order.order_id}-{number}",
                "contact_key": surrogate(order.contact),
                "contact_id": order.contact,
                "article_key": article_key(sku),
                "sku": sku,
                "store_key": surrogate(order.store),
                "created_date_key": date_key(order.created_at),
                "line_type": line_type,
                "is_return": line_type == "Return",
                "quantity": quantity,
                "signed_quantity": sign * quantity,
                "price_per_unit": total / quantity,
                "original_price_per_unit": total / quantity,
                "total_price": total,
                "signed_total_price": sign * total,
                "original_total_price": total,
                "discount_amount": 0.0,
                "tax_amount": round(total * 0.2, 2),
                "external_status": None,
                "return_type": "Normal" if line_type == "Return" else None,
                "return_reason": "Too small" if line_type == "Return" else None,
                "line_group": None,
                "order_status": order.status,
                "is_ongoing": order.status == "InProgress",
                "currency_code": "SEK",
            }
        )
    return rows


def receipt_line_rows(receipt: Receipt) -> list[dict[str, Any]]:
    rows = []
    for number, (line_type, sku, quantity, paid, rate) in enumerate(receipt.items):
        signed = -paid if line_type == "RETURN" else paid
        rows.append(
            {
                "unique_receipt_id": receipt.receipt_id,
                "line_number": number,
                "receipt_number": receipt.receipt_id.removeprefix("R-"),
                "contact_key": surrogate(receipt.contact),
                "contact_id": receipt.contact,
                "article_key": article_key(sku),
                "sku": sku,
                "store_key": surrogate(receipt.store),
                "store_external_id": receipt.store,
                "date_key": date_key(receipt.created_at),
                "business_date": receipt.created_at.date(),
                "created_at": receipt.created_at,
                "line_type": line_type,
                "is_return": line_type == "RETURN",
                "quantity": quantity,
                "gross_paid_price": paid,
                "signed_amount": signed,
                "signed_amount_group_currency": None if rate is None else signed * rate,
                "tax_amount": round(paid * 0.2, 2),
                "discount_amount": 0.0,
                "currency": "SEK" if rate == 0.1 else "EUR",
                "article_group": ARTICLES.get(sku, {}).get("main_category"),
                "awards_bonus": True,
            }
        )
    return rows


def contact_segmentation(
    orders: pl.DataFrame, order_lines: pl.DataFrame, receipt_lines: pl.DataFrame
) -> pl.DataFrame:
    """The model's measures from the facts, as of NOW (a reference for the tests, written from
    the column descriptions; the production build is elsewhere)."""
    contacts = pl.DataFrame(
        [
            {
                "contact_key": surrogate(contact_id),
                "contact_id": contact_id,
                "contact_type": contact_type,
                "country_code": country,
                "gender": gender,
                "birth_year": birth_year,
                "created_at": created,
            }
            for contact_id, contact_type, country, gender, birth_year, created in CONTACTS
        ],
        schema={
            name: dtype
            for name, dtype in pl.Schema(CONTACT_SEGMENTATION.arrow_schema).items()
            if name
            in (
                "contact_key",
                "contact_id",
                "contact_type",
                "country_code",
                "gender",
                "birth_year",
                "created_at",
            )
        },
    )
    categories = (
        dim_article()
        .filter(pl.col("article_key") != UNKNOWN_KEY)
        .select("article_key", "main_category")
    )
    ongoing = (
        orders.filter("is_ongoing")
        .group_by("contact_key")
        .agg(
            ongoing_order_count=pl.len(),
            ongoing_order_value=pl.col("value").sum(),
            ongoing_order_statuses=pl.col("status").unique().sort(),
        )
    )
    ongoing_lines = (
        order_lines.filter(pl.col("is_ongoing") & (pl.col("line_type") == "Purchase"))
        .join(categories, on="article_key", how="left")
        .group_by("contact_key")
        .agg(
            ongoing_skus=pl.col("sku").unique().sort(),
            ongoing_main_categories=pl.col("main_category").drop_nulls().unique().sort(),
        )
    )
    all_orders = orders.group_by("contact_key").agg(
        order_count=pl.len(),
        return_count=(pl.col("return_line_count") > 0).sum(),
        first_order_at=pl.col("created_at").min(),
        last_order_at=pl.col("created_at").max(),
    )
    year_ago = NOW - timedelta(days=365)
    receipts = receipt_lines.group_by("contact_key", "unique_receipt_id").agg(
        created_at=pl.col("created_at").first(),
        has_purchase=(pl.col("line_type") == "PURCHASE").any(),
        net=pl.col("signed_amount_group_currency").sum(),
    )
    purchases = (
        receipts.filter("has_purchase")
        .group_by("contact_key")
        .agg(
            receipt_count=pl.len(),
            first_purchase_at=pl.col("created_at").min(),
            last_purchase_at=pl.col("created_at").max(),
            frequency=(pl.col("created_at") >= year_ago).sum(),
        )
    )
    spend = receipts.group_by("contact_key").agg(
        monetary=pl.col("net").filter(pl.col("created_at") >= year_ago).sum(),
        lifetime_net_spend=pl.col("net").sum(),
    )
    model = (
        contacts.join(ongoing, on="contact_key", how="left")
        .join(ongoing_lines, on="contact_key", how="left")
        .join(all_orders, on="contact_key", how="left")
        .join(purchases, on="contact_key", how="left")
        .join(spend, on="contact_key", how="left")
        .with_columns(
            pl.col("ongoing_order_count", "order_count", "return_count").fill_null(0),
            pl.col("receipt_count", "frequency").fill_null(0),
            recency_days=(pl.lit(NOW) - pl.col("last_purchase_at")).dt.total_days(),
            as_of=pl.lit(NOW),
        )
    )
    return model.select(CONTACT_SEGMENTATION.column_names).cast(
        dict(pl.Schema(CONTACT_SEGMENTATION.arrow_schema))
    )


@dataclass(frozen=True)
class GoldFrames:
    """The eager frames, for the independent reference queries the tests compare with."""

    fact_order: pl.DataFrame
    fact_order_line: pl.DataFrame
    fact_receipt_line: pl.DataFrame
    dim_article: pl.DataFrame
    contact_segmentation: pl.DataFrame

    def lazy(self) -> GoldTables:
        return GoldTables(
            fact_order=self.fact_order.lazy(),
            fact_order_line=self.fact_order_line.lazy(),
            fact_receipt_line=self.fact_receipt_line.lazy(),
            dim_article=self.dim_article.lazy(),
            contact_segmentation=self.contact_segmentation.lazy(),
        )


def gold_frames() -> GoldFrames:
    orders = frame(FACT_ORDER, [order_row(order) for order in ORDERS])
    order_lines = frame(
        FACT_ORDER_LINE, [row for order in ORDERS for row in order_line_rows(order)]
    )
    receipt_lines = frame(
        FACT_RECEIPT_LINE, [row for receipt in RECEIPTS for row in receipt_line_rows(receipt)]
    )
    return GoldFrames(
        fact_order=orders,
        fact_order_line=order_lines,
        fact_receipt_line=receipt_lines,
        dim_article=dim_article(),
        contact_segmentation=contact_segmentation(orders, order_lines, receipt_lines),
    )
