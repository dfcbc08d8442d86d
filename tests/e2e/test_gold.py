"""The star schema and the segmentation model, built from data posted to the real intake and
processed by the real jobs (`engage-orders process` runs build_gold after processing)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pyarrow.parquet as pq
import pytest

from assets.gold.integrity import REFERENCES, unresolved_keys
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
from schemas.tables import ORDERS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.contacts import create_contact, soft_delete
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.lake_files import lake_files
from tests.support.orders import change, order_body, post_order, succeeded_tag
from tests.support.receipts import RETURN, post_receipt, receipt_body, succeeded
from tests.support.registers import full_article, post_articles, post_stores, store

Process = Callable[[], None]

JACKET, SOCKS = "7391-RAIN-BLU-L", "2210-SOCK-GRY-M"
LENA = {
    "email": "lena.berg@example.org",
    "firstName": "Lena",
    "lastName": "Berg",
    "mobilePhone": "+46701234567",
    "socialSecurityNumber": "19840517-1234",
    "street": "Sveavägen 12",
    "zipCode": "11157",
    "city": "Stockholm",
    "countryCode": "SE",
    "birthDay": "1984-05-17",
    "gender": "Female",
}
OLE = {"email": "ole.hansen@example.org", "lastName": "Hansen", "countryCode": "NO"}
PERSONAL_VALUES = [
    "lena.berg@example.org",
    "Berg",
    "+46701234567",
    "19840517-1234",
    "Sveavägen",
    "11157",
    "1984-05-17",
    "ole.hansen@example.org",
    "Hansen",
]
RETURN_DETAILS = {"type": "Normal", "reason": "Too small"}


def mixed_order(order_id: str, email: str) -> dict[str, Any]:
    """A jacket bought and a pair of socks returned, in one order."""
    body = order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})
    jacket, socks = body["lineItems"]["items"]
    socks.update(type="Return", quantity=1, totalPrice=129.0, returnDetails=RETURN_DETAILS)
    body["lineItems"] = {"items": [jacket, socks], "subTotal": 1128.0}
    return body


def order_of(order_id: str, email: str, **changes: Any) -> dict[str, Any]:
    return order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"}, **changes)


def recent_receipt(name: str, days_ago: int, **changes: Any) -> dict[str, Any]:
    """A specification example receipt, created `days_ago` days before now."""
    created = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")
    return receipt_body(name, createdDate=created, **changes)


def gold(settings: EngageSettings) -> dict[str, pl.DataFrame]:
    lake = Lake(settings.resolved_lake_uri)
    return {spec.name: lake.scan(spec).collect() for spec in ANALYST_TABLES if lake.exists(spec)}


def by(frame: pl.DataFrame, column: str) -> dict[Any, dict[str, Any]]:
    return {row[column]: row for row in frame.iter_rows(named=True)}


def assert_keys_resolve(tables: dict[str, pl.DataFrame]) -> None:
    def scan(spec: TableSpec) -> pl.LazyFrame:
        return tables[spec.name].lazy()

    for name, references in REFERENCES.items():
        missing = unresolved_keys(tables[name].lazy(), references, scan)
        assert not any(missing.values()), (name, missing)


@pytest.fixture
def shop(api: httpx.Client, process: Process) -> dict[str, str]:
    """Registers, two contacts and their orders and receipts, processed once."""
    post_articles(api, [full_article(JACKET)])  # the socks stay unregistered
    post_stores(api, [store("Webshop-SE")])
    contacts = {"lena": create_contact(api, LENA), "ole": create_contact(api, OLE)}
    jobs = [
        post_order(api, mixed_order("G-MIXED", LENA["email"])),
        post_order(api, order_of("G-DONE", LENA["email"])),
        post_order(api, order_of("G-OLE", OLE["email"], externalStoreId="Pop-up")),
        post_order(api, order_of("G-DEL", OLE["email"])),
        post_order(api, order_of("G-GUEST", "nobody@example.org")),
    ]
    receipts = [
        post_receipt(api, recent_receipt("receipt-purchase.json", 3)),
        post_receipt(api, recent_receipt(RETURN, 1)),
    ]
    process()
    for job_id in jobs:
        succeeded_tag(api, job_id)
    for job_id in receipts:
        succeeded(api, job_id)
    return contacts


@pytest.mark.lake("local", "s3", "azure")
def test_the_star_schema_after_processing(shop: dict[str, str], settings: EngageSettings) -> None:
    tables = gold(settings)
    assert set(tables) >= {spec.name for spec in (*ANALYST_TABLES[:7], CONTACT_SEGMENTATION)}
    assert_keys_resolve(tables)

    contacts = by(tables[DIM_CONTACT.name], "contact_id")
    assert set(contacts) == {None, shop["lena"], shop["ole"]}
    lena = contacts[shop["lena"]]
    assert (lena["country_code"], lena["gender"], lena["birth_year"]) == ("SE", "Female", 1984)
    assert (lena["has_email"], lena["has_mobile_phone"]) == (True, True)
    assert tables[DIM_CONTACT.name].columns == DIM_CONTACT.column_names

    articles = by(tables[DIM_ARTICLE.name], "sku")
    assert set(articles) == {None, JACKET}
    assert articles[JACKET]["spare10"] == f"spare 10 of {JACKET}"
    assert articles[JACKET]["date_spare5"] == datetime(2025, 5, 1, 6, 30, tzinfo=UTC)
    stores = by(tables[DIM_STORE.name], "external_id")
    assert set(stores) == {None, "Webshop-SE"}

    orders = by(tables[FACT_ORDER.name], "order_id")
    assert set(orders) == {"G-MIXED", "G-DONE", "G-OLE", "G-DEL", "G-GUEST"}
    mixed = orders["G-MIXED"]
    assert (mixed["contact_key"], mixed["contact_id"]) == (lena["contact_key"], shop["lena"])
    assert mixed["store_key"] == stores["Webshop-SE"]["store_key"] != UNKNOWN_KEY
    assert (mixed["purchase_line_count"], mixed["return_line_count"]) == (1, 1)
    assert (mixed["purchase_value"], mixed["return_value"], mixed["value"]) == (
        999.0,
        129.0,
        1128.0,
    )
    assert (mixed["order_type"], mixed["is_ongoing"]) == ("Mixed", True)
    assert mixed["delivery_date"] == datetime(2025, 11, 23, 17, tzinfo=UTC)
    assert mixed["delivery_date_key"] == 20251123
    assert mixed["created_date_key"] == 20251120
    assert (orders["G-OLE"]["store_key"], orders["G-OLE"]["external_store_id"]) == (0, "Pop-up")
    assert (orders["G-GUEST"]["contact_key"], orders["G-GUEST"]["contact_id"]) == (0, None)

    lines = tables[FACT_ORDER_LINE.name].filter(pl.col("order_id") == "G-MIXED").sort("line_number")
    assert lines.select("sku", "line_type", "signed_quantity", "signed_total_price").rows() == [
        (JACKET, "Purchase", 1, 999.0),
        (SOCKS, "Return", -1, -129.0),
    ]
    assert lines["article_key"].to_list() == [articles[JACKET]["article_key"], UNKNOWN_KEY]

    receipt_lines = tables[FACT_RECEIPT_LINE.name].sort("unique_receipt_id", "line_number")
    assert receipt_lines["contact_key"].unique().to_list() == [lena["contact_key"]]
    assert receipt_lines["signed_amount"].to_list() == [999.0, 258.0, -129.0]
    assert receipt_lines["article_key"].to_list() == [
        articles[JACKET]["article_key"],
        UNKNOWN_KEY,
        UNKNOWN_KEY,
    ]

    calendar = tables[DIM_DATE.name]
    today = datetime.now(UTC).date()
    assert calendar["date"].min() == datetime(2025, 11, 20).date()
    assert calendar["date"].max() == today + timedelta(days=365)

    model = by(tables[CONTACT_SEGMENTATION.name], "contact_id")
    assert set(model) == {shop["lena"], shop["ole"]}
    lena_model = model[shop["lena"]]
    assert (lena_model["ongoing_order_count"], lena_model["order_count"]) == (2, 2)
    assert lena_model["ongoing_skus"] == [SOCKS, JACKET]  # G-DONE's socks; G-MIXED's are returned
    assert lena_model["ongoing_main_categories"] == ["Jackets"]
    assert (lena_model["return_count"], lena_model["receipt_count"]) == (1, 1)
    assert (lena_model["recency_days"], lena_model["frequency"]) == (3, 1)
    assert lena_model["monetary"] == pytest.approx((999 + 258 - 129) * 0.087)
    ole_model = model[shop["ole"]]
    assert (ole_model["ongoing_order_count"], ole_model["receipt_count"]) == (2, 0)


@LAKE_INCIDENTAL
def test_completed_deleted_and_hidden_leave_the_gold_tables_in_the_next_build(
    shop: dict[str, str], api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    before = gold(settings)
    jobs = [
        change(api, "G-DONE", "change-status", {"status": "Completed"}),
        change(api, "G-MIXED", "change-delivery", {"deliveryDate": "2025-11-26T10:00:00+01:00"}),
        api.delete("/orders/G-DEL").json()["jobId"],
    ]
    soft_delete(api, shop["ole"])
    process()
    for job_id in jobs:
        succeeded_tag(api, job_id)

    after = gold(settings)
    assert_keys_resolve(after)
    orders = by(after[FACT_ORDER.name], "order_id")
    assert set(orders) == {"G-MIXED", "G-DONE", "G-GUEST"}  # G-DEL deleted, G-OLE's contact hidden
    assert (orders["G-DONE"]["status"], orders["G-DONE"]["is_ongoing"]) == ("Completed", False)
    assert orders["G-MIXED"]["delivery_date_key"] == 20251126
    silver = Lake(settings.resolved_lake_uri).scan(ORDERS).filter(pl.col("order_id") == "G-MIXED")
    assert silver.collect()["delivery_date"].to_list() == [datetime(2025, 11, 26, 9, tzinfo=UTC)]
    done_lines = after[FACT_ORDER_LINE.name].filter(pl.col("order_id") == "G-DONE")
    assert done_lines["is_ongoing"].to_list() == [False, False]

    ole = shop["ole"]
    for spec in (DIM_CONTACT, FACT_ORDER, FACT_ORDER_LINE, FACT_RECEIPT_LINE, CONTACT_SEGMENTATION):
        assert ole not in after[spec.name]["contact_id"].to_list(), spec.name
    model = by(after[CONTACT_SEGMENTATION.name], "contact_id")
    assert set(model) == {shop["lena"]}
    assert model[shop["lena"]]["ongoing_order_count"] == 1
    assert model[shop["lena"]]["ongoing_skus"] == [JACKET]

    # Surrogate keys are the same in every build.
    for spec, natural, key in (
        (DIM_CONTACT, "contact_id", "contact_key"),
        (DIM_ARTICLE, "sku", "article_key"),
        (DIM_STORE, "external_id", "store_key"),
        (FACT_ORDER, "order_id", "order_key"),
    ):
        old = dict(before[spec.name].select(natural, key).iter_rows())
        new = dict(after[spec.name].select(natural, key).iter_rows())
        assert all(old[name] == value for name, value in new.items()), spec.name


def test_no_personal_data_in_any_gold_file_or_log(
    shop: dict[str, str], settings: EngageSettings
) -> None:
    lake = Lake(settings.resolved_lake_uri)
    parquet_texts: dict[str, str] = {}
    for spec in ANALYST_TABLES:
        for path, raw in lake_files(lake, spec.path):
            texts = [raw.decode("utf-8", errors="replace")]
            if path.endswith(".parquet"):
                parquet_texts[path] = str(pq.read_table(io.BytesIO(raw)).to_pylist())
                texts.append(parquet_texts[path])
            for text in texts:
                for value in PERSONAL_VALUES:
                    assert value not in text, f"{value!r} in {path}"
    assert len(parquet_texts) >= 7
    # The contact ids are there, so the check above did look at the right rows.
    assert any(
        shop["lena"] in text
        for path, text in parquet_texts.items()
        if path.startswith(f"{DIM_CONTACT.path}/")
    )
