"""The star schema builders on small hand-made silver tables: keys, unknown members, signed
measures, contacts that are not live, and the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from assets.gold.dimensions import (
    calendar_range,
    date_key_bounds,
    dim_article_frame,
    dim_contact_frame,
    dim_date_frame,
    dim_store_frame,
)
from assets.gold.facts import fact_order_frame, fact_order_line_frame, fact_receipt_line_frame
from assets.gold.integrity import REFERENCES, duplicate_keys, unresolved_keys
from assets.gold.keys import date_key, surrogate_key
from assets.segments.measures import contact_segmentation_frame
from schemas.gold_tables import (
    ANALYST_TABLES,
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    DIM_CONTACT,
    DIM_DATE,
    DIM_STORE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
    UNKNOWN_KEY,
)
from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS, STORES
from tests.support.silver import Silver, day

AS_OF = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TODAY = AS_OF.date()
ONGOING = ["InProgress"]
LENA, OLE, GONE = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-0000-0000-000000000000" for n in (1, 2, 9))
"""Two live contacts and one soft-deleted (or erased) contact, which dim_contact lacks."""


def build(silver: Silver, as_of: datetime = AS_OF) -> dict[str, pl.DataFrame]:
    """Every gold table in memory, in the order the build_gold job writes them."""
    gold: dict[str, pl.DataFrame] = {}
    gold[DIM_CONTACT.name] = dim_contact_frame(silver.live_contacts()).collect()
    gold[DIM_ARTICLE.name] = dim_article_frame(silver.scan(ARTICLES)).collect()
    gold[DIM_STORE.name] = dim_store_frame(silver.scan(STORES)).collect()

    def lazy(spec: TableSpec) -> pl.LazyFrame:
        return gold[spec.name].lazy()

    gold[FACT_ORDER.name] = fact_order_frame(
        silver.scan(ORDERS), silver.scan(ORDER_LINES), lazy(DIM_CONTACT), lazy(DIM_STORE), ONGOING
    ).collect()
    gold[FACT_ORDER_LINE.name] = fact_order_line_frame(
        silver.scan(ORDER_LINES), lazy(FACT_ORDER), lazy(DIM_ARTICLE)
    ).collect()
    gold[FACT_RECEIPT_LINE.name] = fact_receipt_line_frame(
        silver.scan(RECEIPT_LINES),
        silver.scan(RECEIPTS),
        lazy(DIM_CONTACT),
        lazy(DIM_ARTICLE),
        lazy(DIM_STORE),
    ).collect()
    first, last = date_key_bounds(
        [
            lazy(FACT_ORDER).select("created_date_key", "delivery_date_key"),
            lazy(FACT_RECEIPT_LINE).select("date_key"),
            lazy(DIM_CONTACT).select("created_date_key"),
        ]
    )
    gold[DIM_DATE.name] = dim_date_frame(*calendar_range(first, last, as_of.date()))
    gold[CONTACT_SEGMENTATION.name] = contact_segmentation_frame(
        lazy(DIM_CONTACT),
        lazy(FACT_ORDER),
        lazy(FACT_ORDER_LINE),
        lazy(FACT_RECEIPT_LINE),
        lazy(DIM_ARTICLE),
        as_of=as_of,
    ).collect()
    return gold


def shop() -> Silver:
    """Registers, three contacts (one hidden), mixed orders and receipts."""
    silver = (
        Silver()
        .contact(LENA, country_code="SE", gender="Female", birth_year=1984)
        .contact(OLE, country_code="NO", has_email=False, has_mobile_phone=True)
        .article("JACKET", name="Rain jacket", main_category="Jackets", spare3="eco")
        .article("SOCKS", name="Wool socks", main_category="Socks")
        .store("S1", name="Drottninggatan", city="Stockholm")
    )
    placed = AS_OF - timedelta(days=3)
    silver.order(
        "MIXED",
        LENA,
        "InProgress",
        [
            ("Purchase", "JACKET", 2, 200.0),
            ("Return", "SOCKS", 1, 50.0),
            ("Purchase", "NEW", 1, 9.5),
        ],
        placed,
        external_store_id="S1",
        delivery_date=AS_OF + timedelta(days=400),
    )
    silver.order(
        "DONE",
        LENA,
        "Completed",
        [("Purchase", "SOCKS", 3, 30.0)],
        placed,
        external_store_id="POPUP",
    )
    silver.order("GUEST", None, "InProgress", [("Purchase", "JACKET", 1, 100.0)], placed)
    silver.order("HIDDEN", GONE, "InProgress", [("Purchase", "JACKET", 1, 100.0)], placed)
    silver.receipt("R-RECENT", LENA, AS_OF - timedelta(days=10), [("PURCHASE", "JACKET", 100.0)])
    silver.receipt("R-BACK", LENA, AS_OF - timedelta(days=5), [("RETURN", "JACKET", 40.0)])
    silver.receipt("R-OLD", LENA, AS_OF - timedelta(days=400), [("PURCHASE", "SOCKS", 20.0)])
    silver.receipt("R-GONE", GONE, AS_OF - timedelta(days=1), [("PURCHASE", "JACKET", 10.0)])
    silver.receipt(
        "R-WALKIN", None, AS_OF - timedelta(days=2), [("PURCHASE", None, 5.0)], store="NOWHERE"
    )
    return silver


def rows_by(frame: pl.DataFrame, *key: str) -> dict:
    return {
        tuple(row[name] for name in key) if len(key) > 1 else row[key[0]]: row
        for row in frame.iter_rows(named=True)
    }


def test_surrogate_keys_are_stable_nonzero_hashes_and_null_is_unknown() -> None:
    values = pl.DataFrame({"natural": ["SKU-1", "SKU-2", None, "SKU-1"]})
    keys = values.select(surrogate_key("natural")).to_series().to_list()
    again = values.select(surrogate_key(pl.col("natural"))).to_series().to_list()
    assert keys == again
    assert keys[0] == keys[3] != keys[1]
    assert keys[2] == UNKNOWN_KEY
    assert all(key != UNKNOWN_KEY for key in (keys[0], keys[1]))
    assert values.select(surrogate_key("natural")).dtypes == [pl.Int64]


def test_date_keys_are_yyyymmdd_of_the_utc_day_and_zero_when_unknown() -> None:
    moments = pl.DataFrame(
        {"at": [datetime(2025, 12, 31, 23, 30, tzinfo=UTC), None]},
        schema={"at": pl.Datetime("us", "UTC")},
    )
    assert moments.select(date_key("at")).to_series().to_list() == [20251231, 0]
    assert pl.select(date_key(pl.lit(date(2026, 1, 2)))).item() == 20260102


def test_dimensions_have_an_unknown_member_and_every_register_attribute() -> None:
    gold = build(shop())
    articles = rows_by(gold[DIM_ARTICLE.name], "sku")
    assert articles[None]["article_key"] == UNKNOWN_KEY
    assert articles[None]["name"] == "Unknown"
    assert articles["JACKET"]["spare3"] == "eco"
    assert articles["JACKET"]["main_category"] == "Jackets"
    assert gold[DIM_ARTICLE.name].columns == DIM_ARTICLE.column_names
    stores = rows_by(gold[DIM_STORE.name], "external_id")
    assert stores[None]["store_key"] == UNKNOWN_KEY
    assert stores["S1"]["city"] == "Stockholm"
    contacts = rows_by(gold[DIM_CONTACT.name], "contact_id")
    assert set(contacts) == {None, LENA, OLE}
    assert contacts[None]["contact_key"] == UNKNOWN_KEY
    assert contacts[None]["contact_type"] == "Unknown"
    assert (contacts[OLE]["has_email"], contacts[OLE]["has_mobile_phone"]) == (False, True)
    assert contacts[LENA]["birth_year"] == 1984
    assert contacts[LENA]["created_date_key"] == 20240301


def test_fact_order_counts_purchase_and_return_lines_and_resolves_keys() -> None:
    gold = build(shop())
    orders = rows_by(gold[FACT_ORDER.name], "order_id")
    assert set(orders) == {"MIXED", "DONE", "GUEST"}  # HIDDEN's contact is not live
    mixed = orders["MIXED"]
    assert (mixed["line_count"], mixed["purchase_line_count"], mixed["return_line_count"]) == (
        3,
        2,
        1,
    )
    assert (mixed["purchase_quantity"], mixed["return_quantity"]) == (3, 1)
    assert (mixed["purchase_value"], mixed["return_value"]) == (209.5, 50.0)
    assert mixed["is_ongoing"] is True
    assert mixed["store_key"] != UNKNOWN_KEY
    assert mixed["delivery_date_key"] == day((AS_OF + timedelta(days=400)).date())
    contacts = rows_by(gold[DIM_CONTACT.name], "contact_id")
    assert mixed["contact_key"] == contacts[LENA]["contact_key"]
    assert orders["DONE"]["is_ongoing"] is False
    assert orders["DONE"]["store_key"] == UNKNOWN_KEY  # POPUP is not registered
    assert orders["DONE"]["external_store_id"] == "POPUP"
    guest = orders["GUEST"]
    assert (guest["contact_key"], guest["contact_id"], guest["store_key"]) == (0, None, 0)
    assert guest["delivery_date_key"] == UNKNOWN_KEY


def test_fact_order_line_signs_returns_and_keeps_unregistered_skus_as_unknown() -> None:
    gold = build(shop())
    lines = rows_by(gold[FACT_ORDER_LINE.name], "order_id", "line_number")
    assert {order_id for order_id, _ in lines} == {"MIXED", "DONE", "GUEST"}
    jacket, socks_back, new = (lines["MIXED", n] for n in range(3))
    assert (jacket["signed_quantity"], jacket["signed_total_price"]) == (2, 200.0)
    assert (socks_back["is_return"], socks_back["quantity"]) == (True, 1)
    assert (socks_back["signed_quantity"], socks_back["signed_total_price"]) == (-1, -50.0)
    assert (new["article_key"], new["sku"]) == (UNKNOWN_KEY, "NEW")
    articles = rows_by(gold[DIM_ARTICLE.name], "sku")
    assert jacket["article_key"] == articles["JACKET"]["article_key"]
    orders = rows_by(gold[FACT_ORDER.name], "order_id")
    assert jacket["order_key"] == orders["MIXED"]["order_key"]
    assert (jacket["order_status"], jacket["is_ongoing"]) == ("InProgress", True)
    assert jacket["store_key"] == orders["MIXED"]["store_key"]


def test_fact_receipt_line_signs_amounts_in_group_currency_and_leaves_out_hidden_contacts() -> None:
    gold = build(shop())
    lines = rows_by(gold[FACT_RECEIPT_LINE.name], "unique_receipt_id")
    assert set(lines) == {"R-RECENT", "R-BACK", "R-OLD", "R-WALKIN"}
    back = lines["R-BACK"]
    assert (back["is_return"], back["signed_amount"]) == (True, -40.0)
    assert back["signed_amount_group_currency"] == pytest.approx(-4.0)
    assert back["receipt_number"] == "N-R-BACK"
    assert back["date_key"] == day((AS_OF - timedelta(days=5)).date())
    walk_in = lines["R-WALKIN"]
    assert (walk_in["contact_key"], walk_in["article_key"], walk_in["store_key"]) == (0, 0, 0)
    assert walk_in["store_external_id"] == "NOWHERE"


def test_every_key_resolves_and_dimension_keys_are_unique() -> None:
    gold = build(shop())
    tables = {name: frame.lazy() for name, frame in gold.items()}
    for name, references in REFERENCES.items():
        missing = unresolved_keys(tables[name], references, lambda spec: tables[spec.name])
        assert not any(missing.values()), (name, missing)
    for spec in (DIM_CONTACT, DIM_ARTICLE, DIM_STORE, FACT_ORDER):
        assert duplicate_keys(tables[spec.name], spec.key) == 0
    for spec in ANALYST_TABLES:
        if spec.name in gold:
            assert gold[spec.name].columns == spec.column_names, spec.name


def test_a_dangling_key_is_reported() -> None:
    gold = build(shop())
    tables = {name: frame.lazy() for name, frame in gold.items()}
    broken = tables[FACT_ORDER_LINE.name].with_columns(
        pl.when(pl.col("line_number") == 0)
        .then(12345)
        .otherwise("article_key")
        .alias("article_key")
    )
    missing = unresolved_keys(
        broken, REFERENCES[FACT_ORDER_LINE.name], lambda spec: tables[spec.name]
    )
    assert missing["article_key"] == 3  # the first line of each order
    assert duplicate_keys(pl.LazyFrame({"k": [1, 2, 2, 2]}), ["k"]) == 2


def test_dim_date_spans_the_facts_and_a_year_ahead_with_calendar_attributes() -> None:
    gold = build(shop())
    calendar = gold[DIM_DATE.name]
    days = rows_by(calendar, "date_key")
    assert days[0]["date"] is None
    assert days[0]["day_name"] == "Unknown"
    first = date(2024, 3, 1)  # when the contacts were created, before R-OLD
    assert calendar["date"].min() == first
    assert calendar["date"].max() == (AS_OF + timedelta(days=400)).date()  # MIXED's delivery
    assert calendar.height == (calendar["date"].max() - first).days + 2
    monday = days[20260105]
    assert (monday["day_of_week"], monday["day_name"], monday["is_weekend"]) == (1, "Monday", False)
    assert (monday["iso_year"], monday["iso_week"], monday["quarter"]) == (2026, 2, 1)
    assert days[20260103]["is_weekend"] is True
    assert days[20251229]["iso_year"] == 2026  # ISO week 1 of 2026 starts on Monday 29 Dec
    assert days[20260105]["month_name"] == "January"


def test_without_facts_dim_date_is_a_year_either_side_of_today() -> None:
    first, last = date_key_bounds(
        [pl.LazyFrame({"date_key": [0, 0]}, schema={"date_key": pl.Int32})]
    )
    assert (first, last) == (None, None)
    assert calendar_range(None, None, TODAY) == (
        TODAY - timedelta(days=365),
        TODAY + timedelta(days=365),
    )
    assert calendar_range(date(2020, 1, 1), date(2020, 2, 1), TODAY) == (
        date(2020, 1, 1),
        TODAY + timedelta(days=365),
    )


def test_contact_segmentation_of_the_shop() -> None:
    gold = build(shop())
    model = rows_by(gold[CONTACT_SEGMENTATION.name], "contact_id")
    assert set(model) == {LENA, OLE}
    lena = model[LENA]
    assert (lena["ongoing_order_count"], lena["ongoing_order_value"]) == (1, 259.5)
    assert lena["ongoing_order_statuses"] == ["InProgress"]
    assert lena["ongoing_skus"] == ["JACKET", "NEW"]  # not SOCKS: returned, and DONE is done
    assert lena["ongoing_main_categories"] == ["Jackets"]
    assert (lena["order_count"], lena["return_count"]) == (2, 1)
    assert lena["receipt_count"] == 2  # R-BACK has no purchase line
    assert lena["first_purchase_at"] == AS_OF - timedelta(days=400)
    assert lena["last_purchase_at"] == AS_OF - timedelta(days=10)
    assert (lena["recency_days"], lena["frequency"]) == (10, 1)
    assert lena["monetary"] == pytest.approx(6.0)  # (100 - 40) x 0.1
    assert lena["lifetime_net_spend"] == pytest.approx(8.0)
    assert lena["as_of"] == AS_OF
    ole = model[OLE]
    assert (ole["order_count"], ole["receipt_count"], ole["frequency"]) == (0, 0, 0)
    assert (ole["monetary"], ole["ongoing_skus"], ole["recency_days"]) == (0.0, [], None)
