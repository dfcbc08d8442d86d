"""Delta tables of the star schema (gold) and of segmentation (segments).

Gold tables are rebuilt in full from silver after processing, so they always agree with the
current registers and contacts. They hold no personal data: contacts appear by id with
non-identifying attributes only. Surrogate keys are 64-bit hashes of the natural key (0 is the
"unknown" member), so they are the same in every rebuild and a fact table read mid-rebuild still
joins its dimensions. docs/star-schema.md has the diagram and the grain of each table.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa

from schemas.register_tables import ARTICLES, STORES
from schemas.table_spec import Column, TableSpec, date, money, string, timestamp

UNKNOWN_KEY = 0
"""Surrogate key of each dimension's "unknown" member (unregistered SKU or store, no contact)."""


def key(name: str, description: str) -> Column:
    return Column(name, pa.int64(), description, nullable=False)


def date_key(name: str, description: str) -> Column:
    return Column(name, pa.int32(), f"{description} (yyyymmdd, dim_date; 0 when unknown).")


def integer(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, pa.int64(), description, **kwargs)


def flag(name: str, description: str) -> Column:
    return Column(name, pa.bool_(), description, nullable=False)


def strings(name: str, description: str) -> Column:
    return Column(name, pa.list_(pa.string()), description)


CONTACT_KEY = key("contact_key", "dim_contact key (0: no resolved contact).")
ARTICLE_KEY = key("article_key", "dim_article key (0: SKU not in the article register).")
STORE_KEY = key("store_key", "dim_store key (0: store not in the store register).")

DIM_DATE = TableSpec(
    name="dim_date",
    layer="gold",
    description=(
        "Calendar days covering every date in the facts (and a year ahead for delivery dates), "
        "plus the unknown day 0. Grain: one row per day."
    ),
    key=("date_key",),
    columns=(
        Column("date_key", pa.int32(), "yyyymmdd, e.g. 20261127; 0 is unknown.", nullable=False),
        date("date", "The day."),
        Column("year", pa.int32(), "Calendar year."),
        Column("quarter", pa.int32(), "Quarter 1-4."),
        Column("month", pa.int32(), "Month 1-12."),
        string("month_name", "January ... December."),
        Column("iso_year", pa.int32(), "ISO 8601 week-numbering year."),
        Column("iso_week", pa.int32(), "ISO 8601 week 1-53."),
        Column("day_of_month", pa.int32(), "Day of the month 1-31."),
        Column("day_of_week", pa.int32(), "ISO day of the week: 1 Monday ... 7 Sunday."),
        string("day_name", "Monday ... Sunday."),
        Column("is_weekend", pa.bool_(), "Saturday or Sunday."),
    ),
)

DIM_CONTACT = TableSpec(
    name="dim_contact",
    layer="gold",
    description=(
        "Live contacts (soft-deleted and erased ones never appear) by id, with non-identifying "
        "attributes only: no e-mail, phone, name, address or national id. Grain: one row per "
        "live contact, plus the unknown member 0."
    ),
    key=("contact_key",),
    columns=(
        CONTACT_KEY,
        string("contact_id", "Contact id (GUID) as the API knows it; null for unknown."),
        string("contact_type", "Member, ... ; Unknown for the unknown member."),
        string("country_code", "ISO 3166-1 alpha-2 country of the contact."),
        string("gender", "Gender as registered."),
        Column("birth_year", pa.int32(), "Year of birth (the day is not kept here)."),
        flag("has_email", "The contact has an e-mail address (reachable by e-mail)."),
        flag("has_mobile_phone", "The contact has a mobile phone number (reachable by SMS)."),
        timestamp("created_at", "When the contact was created."),
        date_key("created_date_key", "Day the contact was created"),
    ),
)


def _register_attribute(column: Column) -> Column:
    """A register column as a dimension attribute: nullable, since the unknown member has none."""
    return replace(column, nullable=True)


_ARTICLE_ATTRIBUTES = tuple(
    _register_attribute(column)
    for column in ARTICLES.columns
    if column.name not in ("change_seq", "job_id", "registered_at")
)

DIM_ARTICLE = TableSpec(
    name="dim_article",
    layer="gold",
    description=(
        "The article register with every attribute, spare fields included, plus the unknown "
        "member 0 that order and receipt lines with an unregistered SKU point to. Grain: one row "
        "per SKU."
    ),
    key=("article_key",),
    columns=(
        ARTICLE_KEY,
        *_ARTICLE_ATTRIBUTES,
        timestamp("registered_at", "When the article's current registration landed."),
    ),
)

_STORE_ATTRIBUTES = tuple(
    _register_attribute(column)
    for column in STORES.columns
    if column.name not in ("change_seq", "job_id")
)

DIM_STORE = TableSpec(
    name="dim_store",
    layer="gold",
    description=(
        "The store register plus the unknown member 0 for orders and receipts naming no store "
        "or an unregistered one. Grain: one row per store."
    ),
    key=("store_key",),
    columns=(STORE_KEY, *_STORE_ATTRIBUTES),
)

FACT_ORDER = TableSpec(
    name="fact_order",
    layer="gold",
    description=(
        "Current orders (deleted orders and orders of deleted contacts are not here). "
        "Grain: one row per live order, its current version."
    ),
    key=("order_key",),
    columns=(
        key("order_key", "Surrogate key of the order."),
        string("order_id", "The integrator's order id.", nullable=False),
        CONTACT_KEY,
        string("contact_id", "Resolved contact id (degenerate copy for segment queries)."),
        STORE_KEY,
        string("external_store_id", "Store id as sent with the order."),
        date_key("created_date_key", "Day the order was placed"),
        date_key("last_changed_date_key", "Day the order last changed"),
        date_key("delivery_date_key", "Delivery day"),
        string("status", "Order status, e.g. InProgress."),
        flag("is_ongoing", "The status is one of the configured ongoing statuses."),
        string("external_status", "The integrator's own status text."),
        string("channel", "Sales channel."),
        string("currency_code", "ISO 4217 currency."),
        string("order_type", "Purchase, Return or Mixed (from the lines)."),
        integer("line_count", "Number of lines.", nullable=False),
        integer("purchase_line_count", "Number of Purchase lines.", nullable=False),
        integer("return_line_count", "Number of Return lines.", nullable=False),
        integer("purchase_quantity", "Units on Purchase lines.", nullable=False),
        integer("return_quantity", "Units on Return lines.", nullable=False),
        money("value", "The order's subTotal (sum of line totals as sent)."),
        money("purchase_value", "Sum of totalPrice of Purchase lines."),
        money("return_value", "Sum of totalPrice of Return lines (positive)."),
        timestamp("created_at", "When the order was placed."),
        timestamp("last_changed_at", "When the integrator last changed it."),
        timestamp("delivery_date", "Promised or actual delivery time."),
        string("version_tag", "versionTag of the current version.", nullable=False),
        integer("version_number", "Number of the current version (1 = first).", nullable=False),
    ),
)

FACT_ORDER_LINE = TableSpec(
    name="fact_order_line",
    layer="gold",
    description=(
        "Lines of current orders; Purchase and Return lines are told apart by line_type / "
        "is_return and signed measures. Grain: one row per line of a live order's current "
        "version."
    ),
    key=("order_key", "line_number"),
    columns=(
        key("order_key", "fact_order key."),
        string("order_id", "The integrator's order id.", nullable=False),
        Column("line_number", pa.int32(), "Position in the order (0-based).", nullable=False),
        string("line_id", "The integrator's line id, if given."),
        CONTACT_KEY,
        string("contact_id", "Resolved contact id of the order."),
        ARTICLE_KEY,
        string("sku", "SKU as sent (kept for unregistered articles).", nullable=False),
        STORE_KEY,
        date_key("created_date_key", "Day the order was placed"),
        string("line_type", "Purchase or Return.", nullable=False),
        flag("is_return", "True for Return lines."),
        integer("quantity", "Units as sent (positive).", nullable=False),
        integer("signed_quantity", "Units, negative for Return lines.", nullable=False),
        money("price_per_unit", "Price per unit paid."),
        money("original_price_per_unit", "Price per unit before discounts."),
        money("total_price", "Line total paid (positive)."),
        money("signed_total_price", "total_price, negative for Return lines."),
        money("original_total_price", "Line total before discounts."),
        money("discount_amount", "Sum of the line's discounts."),
        money("tax_amount", "Sum of the line's taxes."),
        string("external_status", "The integrator's status of the line."),
        string("return_type", "Normal, Complaint or Change (Return lines)."),
        string("return_reason", "Why it was returned."),
        string("line_group", "The integrator's grouping of lines."),
        string("order_status", "Status of the order (denormalised for line-level queries)."),
        flag("is_ongoing", "The order is ongoing."),
        string("currency_code", "ISO 4217 currency."),
    ),
)

FACT_RECEIPT_LINE = TableSpec(
    name="fact_receipt_line",
    layer="gold",
    description=(
        "Receipt lines of every registered receipt (receipts of deleted contacts are not here). "
        "Grain: one row per receipt line."
    ),
    key=("unique_receipt_id", "line_number"),
    columns=(
        string("unique_receipt_id", "The integrator's unique receipt id.", nullable=False),
        Column("line_number", pa.int32(), "Position on the receipt (0-based).", nullable=False),
        string("receipt_number", "Receipt number printed on the receipt."),
        CONTACT_KEY,
        string("contact_id", "Resolved contact id of the receipt."),
        ARTICLE_KEY,
        string("sku", "SKU as sent."),
        STORE_KEY,
        string("store_external_id", "Store id as sent."),
        date_key("date_key", "Business day of the receipt"),
        date("business_date", "The receipt's calendar date in its own UTC offset."),
        timestamp("created_at", "When the receipt was created."),
        string("line_type", "PURCHASE or RETURN.", nullable=False),
        flag("is_return", "True for RETURN lines."),
        Column("quantity", pa.float64(), "Quantity as sent (negative on returns)."),
        money("gross_paid_price", "Amount paid for the line (positive)."),
        money("signed_amount", "gross_paid_price, negative for RETURN lines."),
        money("signed_amount_group_currency", "signed_amount in group currency."),
        money("tax_amount", "Tax included in the line."),
        money("discount_amount", "Sum of the line's discounts."),
        string("currency", "ISO 4217 currency."),
        string("article_group", "Article group as sent on the receipt."),
        Column("awards_bonus", pa.bool_(), "Whether the line earns loyalty points."),
    ),
)

CONTACT_SEGMENTATION = TableSpec(
    name="contact_segmentation",
    layer="segments",
    description=(
        "The segmentation model: one row per live contact with its ongoing orders (count, value, "
        "statuses, articles), order and return counts, first/last order and purchase, and "
        "recency/frequency/monetary from receipts. Measures are as of the build (as_of)."
    ),
    key=("contact_key",),
    columns=(
        CONTACT_KEY,
        string("contact_id", "Contact id.", nullable=False),
        string("contact_type", "Member, ..."),
        string("country_code", "ISO 3166-1 alpha-2 country."),
        string("gender", "Gender as registered."),
        Column("birth_year", pa.int32(), "Year of birth."),
        timestamp("created_at", "When the contact was created."),
        integer("ongoing_order_count", "Current orders in an ongoing status.", nullable=False),
        money("ongoing_order_value", "Sum of the ongoing orders' value."),
        strings("ongoing_order_statuses", "Distinct statuses of the ongoing orders."),
        strings("ongoing_skus", "Distinct SKUs on Purchase lines of ongoing orders."),
        strings("ongoing_main_categories", "Distinct article main categories of those SKUs."),
        integer("order_count", "Current orders, any status.", nullable=False),
        integer("return_count", "Current orders with at least one Return line.", nullable=False),
        timestamp("first_order_at", "When the first current order was placed."),
        timestamp("last_order_at", "When the latest current order was placed."),
        integer("receipt_count", "Receipts with a purchase line, all time.", nullable=False),
        timestamp("first_purchase_at", "First receipt with a purchase line."),
        timestamp("last_purchase_at", "Latest receipt with a purchase line."),
        integer("recency_days", "Whole days from last_purchase_at to as_of; null if none."),
        integer(
            "frequency",
            "Receipts with a purchase line in the 365 days before as_of.",
            nullable=False,
        ),
        money("monetary", "Net spend (returns subtract), group currency, 365 days before as_of."),
        money("lifetime_net_spend", "Net spend in group currency, all time."),
        timestamp(
            "as_of",
            "When the model was built; recency/frequency/monetary refer to it.",
            nullable=False,
        ),
    ),
)

SEGMENT_MEMBERSHIPS = TableSpec(
    name="segment_memberships",
    layer="segments",
    description=(
        "Who is in each saved segment, as of the last materialisation. Grain: one row per "
        "segment and contact."
    ),
    key=("segment_name", "contact_id"),
    columns=(
        string("segment_name", "Segment name.", nullable=False),
        string("contact_id", "A member's contact id.", nullable=False),
        CONTACT_KEY,
        string(
            "revision",
            "Revision of the definition the membership was computed from.",
            nullable=False,
        ),
        timestamp("materialized_at", "When the memberships were computed.", nullable=False),
    ),
)

STAR_SCHEMA: tuple[TableSpec, ...] = (
    DIM_DATE,
    DIM_CONTACT,
    DIM_ARTICLE,
    DIM_STORE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)

SEGMENT_TABLES: tuple[TableSpec, ...] = (CONTACT_SEGMENTATION, SEGMENT_MEMBERSHIPS)

ANALYST_TABLES: tuple[TableSpec, ...] = (*STAR_SCHEMA, *SEGMENT_TABLES)
"""Tables `engage-orders sql` exposes by name: none holds personal data."""
