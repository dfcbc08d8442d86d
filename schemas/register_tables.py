"""Delta tables of the article and store registers (SPEC 2.4)."""

from __future__ import annotations

import pyarrow as pa

from schemas.table_spec import Column, TableSpec, string, timestamp

_SUBMISSION_COLUMNS = (
    string("job_id", "Intake job that accepted the batch.", nullable=False),
    timestamp("landed_at", "When the intake committed the batch (UTC).", nullable=False),
    Column("batch_position", pa.int32(), "Position within its group commit.", nullable=False),
    string("api_key_id", "Id of the API key that sent it.", nullable=False),
)

ARTICLE_SUBMISSIONS = TableSpec(
    name="article_submissions",
    layer="bronze",
    description=(
        "Every accepted article, one row each, from POST /articles (JSON) or the XML import; "
        "appended by the intake before it answers. Landing order: commit version, then position."
    ),
    key=("job_id", "sku"),
    change_data_feed=True,
    columns=(
        *_SUBMISSION_COLUMNS,
        string("sku", "Article SKU, the register's key.", nullable=False),
        string("source", "json or xml.", nullable=False),
        string("article", "The article as canonical JSON (camelCase fields).", nullable=False),
    ),
)

_SPARES = tuple(string(f"spare{n}", f"Free text field {n} of the register.") for n in range(1, 11))
_DATE_SPARES = tuple(timestamp(f"date_spare{n}", f"Free date field {n}.") for n in range(1, 6))

ARTICLES = TableSpec(
    name="articles",
    layer="silver",
    description="The article register: the newest registration of every SKU. Merged by sku.",
    key=("sku",),
    columns=(
        string("sku", "Stock keeping unit; what order and receipt lines refer to.", nullable=False),
        string("number", "Article number (groups the sizes/colours of one article)."),
        string("name", "Article name."),
        string("main_category", "Main category, e.g. Jackets."),
        string("item_number", "Item number (article + colour)."),
        Column("awards_bonus", pa.bool_(), "Whether purchases of it earn loyalty points."),
        string("brand", "Brand."),
        string("color", "Colour."),
        string("product_category", "Product category."),
        string("sub_category", "Sub-category."),
        string("age_group", "Age group, e.g. Adult or Kids."),
        string("description", "Description."),
        string("season", "Season, e.g. AW25."),
        string("size", "Size."),
        string("gender", "Gender the article is made for."),
        string("gtin", "Global trade item number (EAN)."),
        *_SPARES,
        *_DATE_SPARES,
        Column("change_seq", pa.int64(), "Landing order of this registration.", nullable=False),
        string("job_id", "Intake job of this registration.", nullable=False),
        timestamp("registered_at", "When this registration landed.", nullable=False),
    ),
)

STORE_SUBMISSIONS = TableSpec(
    name="store_submissions",
    layer="bronze",
    description=(
        "Every accepted store registration from POST /stores, one row each, appended by the "
        "intake before it answers."
    ),
    key=("job_id", "external_id"),
    change_data_feed=True,
    columns=(
        *_SUBMISSION_COLUMNS,
        string("external_id", "The store's external id, the register's key.", nullable=False),
        string("store", "The store as canonical JSON (camelCase fields).", nullable=False),
    ),
)

STORES = TableSpec(
    name="stores",
    layer="silver",
    description="The store register: the newest registration of each store, merged by external_id.",
    key=("external_id",),
    columns=(
        string("external_id", "Store id that orders and receipts refer to.", nullable=False),
        string("name", "Store name."),
        string("type", "Kind of store, e.g. Store, Ecom, Outlet."),
        string("street", "Street address."),
        string("zip_code", "Postal code."),
        string("city", "City."),
        string("region", "Region or county."),
        string("country", "Country name."),
        string("country_code", "ISO 3166-1 alpha-2 country code."),
        string("currency", "ISO 4217 currency the store sells in."),
        string("chain", "Chain or brand the store belongs to."),
        Column("change_seq", pa.int64(), "Landing order of this registration.", nullable=False),
        string("job_id", "Intake job of this registration.", nullable=False),
        timestamp("registered_at", "When this registration landed.", nullable=False),
    ),
)
