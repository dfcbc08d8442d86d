"""Where each column of the silver, gold and segments tables comes from, column by column.

Dagster shows it as column lineage (`dagster/column_lineage`): an analyst who wonders what
`fact_order.value` is, or an operator who changes a bronze field, follows the columns upstream or
downstream in the UI. It lives beside the table catalogue because it describes the tables, not the
code: the builders in `assets/` must agree with it, and tests/pipelines/test_column_lineage.py
checks that every column is accounted for and that every source is a column of an upstream asset.

A column maps to the `table.column` names it is computed from; an empty tuple means no column of
an asset feeds it (a timestamp taken at processing, a calendar, the operational database's
contacts, which are outside the asset graph).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    DIM_CONTACT,
    DIM_DATE,
    DIM_STORE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
    SEGMENT_MEMBERSHIPS,
)
from schemas.order_tables import (
    ORDER_CHANGE_OUTCOMES,
    ORDER_CHANGES,
    ORDER_LINES,
    ORDER_VERSIONS,
    ORDERS,
)
from schemas.receipt_tables import (
    LOYALTY_LEDGER,
    RECEIPT_LINES,
    RECEIPT_SUBMISSION_OUTCOMES,
    RECEIPT_SUBMISSIONS,
    RECEIPTS,
    SALES_DAILY,
)
from schemas.register_tables import ARTICLES, STORES
from schemas.table_spec import TableSpec

Lineage = dict[str, tuple[str, ...]]
"""Column name -> the `table.column` names it is computed from."""


def copied(source: TableSpec, columns: Iterable[str]) -> Lineage:
    """Columns taken over under the same name from `source`."""
    return {column: (f"{source.name}.{column}",) for column in columns}


def each_from(sources: Iterable[str], columns: Iterable[str]) -> Lineage:
    """Columns each computed from the same `table.column` sources."""
    return {column: tuple(sources) for column in columns}


def computed(*columns: str) -> Lineage:
    """Columns no column of an asset feeds (processing time, calendar, operational database)."""
    return {column: () for column in columns}


def _except(spec: TableSpec, *left_out: str) -> list[str]:
    return [name for name in spec.column_names if name not in left_out]


_ORDER_BODY = "order_changes.body"
_RECEIPT_BODY = "receipt_submissions.body"
_ORDER_FIELDS = (
    "status",
    "external_status",
    "external_store_id",
    "channel",
    "currency_code",
    "order_type",
    "line_count",
    "sub_total",
    "created_at",
    "last_changed_at",
    "delivery_date",
    "document",
)
_ORDER_LINE_FIELDS = _except(
    ORDER_LINES, "order_id", "version_tag", "change_seq", "contact_id", "line_number"
)
_CONTACT_FROM_MATCH_KEY = (
    "order_changes.contact_match_key",
    "order_changes.contact_match_key_type",
)
_RECEIPT_CONTACT = (
    "receipt_submissions.contact_match_key",
    "receipt_submissions.contact_match_key_type",
)
_RECEIPT_HEADER_FIELDS = (
    "receipt_number",
    "store_external_id",
    "currency",
    "exchange_rate_to_group_currency",
    "total_gross_price",
    "total_gross_price_group",
    "receipt_type",
    "line_count",
    "created_at",
    "business_date",
    "document",
)

SILVER: dict[str, Lineage] = {
    ORDER_VERSIONS.name: {
        **copied(
            ORDER_CHANGES,
            ("order_id", "job_id", "change_type", "contact_match_key", "contact_match_key_type"),
        ),
        **copied(ORDER_CHANGES, ("landed_at",)),
        "version_tag": ("order_changes.job_id",),
        "version_number": ("order_changes.order_id", "order_changes.batch_position"),
        "change_seq": ("order_changes.batch_position",),
        "contact_id": _CONTACT_FROM_MATCH_KEY,
        **each_from((_ORDER_BODY,), _ORDER_FIELDS),
        "is_deleted": ("order_changes.change_type",),
        **computed("processed_at"),
    },
    ORDERS.name: copied(ORDER_VERSIONS, ORDERS.column_names),
    ORDER_LINES.name: {
        **copied(ORDER_VERSIONS, ("order_id", "version_tag", "change_seq", "contact_id")),
        "line_number": ("order_versions.document",),
        **each_from(("order_versions.document",), _ORDER_LINE_FIELDS),
    },
    ORDER_CHANGE_OUTCOMES.name: {
        **copied(ORDER_CHANGES, ("job_id", "order_id", "api_key_id", "change_type", "landed_at")),
        "change_seq": ("order_changes.batch_position",),
        **each_from((_ORDER_BODY, "order_changes.if_match"), ("status", "errors", "warnings")),
        "version_tag": ("order_changes.job_id",),
        "contact_id": _CONTACT_FROM_MATCH_KEY,
        "action": (_ORDER_BODY,),
        **computed("processed_at"),
    },
    ARTICLES.name: {
        **each_from(("article_submissions.article",), _except(ARTICLES, "change_seq", "job_id")),
        "sku": ("article_submissions.sku",),
        "change_seq": ("article_submissions.batch_position",),
        "job_id": ("article_submissions.job_id",),
        "registered_at": ("article_submissions.landed_at",),
    },
    STORES.name: {
        **each_from(("store_submissions.store",), _except(STORES, "change_seq", "job_id")),
        "external_id": ("store_submissions.external_id",),
        "change_seq": ("store_submissions.batch_position",),
        "job_id": ("store_submissions.job_id",),
        "registered_at": ("store_submissions.landed_at",),
    },
    RECEIPTS.name: {
        **copied(
            RECEIPT_SUBMISSIONS,
            ("unique_receipt_id", "job_id", "contact_match_key", "contact_match_key_type"),
        ),
        **copied(RECEIPT_SUBMISSIONS, ("landed_at",)),
        "change_seq": ("receipt_submissions.batch_position",),
        "contact_id": _RECEIPT_CONTACT,
        **each_from((_RECEIPT_BODY,), _RECEIPT_HEADER_FIELDS),
        **computed("processed_at"),
    },
    RECEIPT_LINES.name: {
        **copied(RECEIPT_SUBMISSIONS, ("unique_receipt_id",)),
        "change_seq": ("receipt_submissions.batch_position",),
        "contact_id": _RECEIPT_CONTACT,
        **each_from(
            (_RECEIPT_BODY,),
            _except(RECEIPT_LINES, "unique_receipt_id", "change_seq", "contact_id"),
        ),
    },
    RECEIPT_SUBMISSION_OUTCOMES.name: {
        **copied(RECEIPT_SUBMISSIONS, ("job_id", "unique_receipt_id", "api_key_id", "landed_at")),
        "change_seq": ("receipt_submissions.batch_position",),
        **each_from((_RECEIPT_BODY,), ("status", "errors", "warnings")),
        "duplicate": ("receipt_submissions.unique_receipt_id",),
        "contact_id": _RECEIPT_CONTACT,
        **computed("processed_at"),
    },
    LOYALTY_LEDGER.name: {
        "entry_id": ("receipts.unique_receipt_id",),
        **copied(RECEIPTS, ("contact_id", "unique_receipt_id", "change_seq")),
        **each_from(
            (
                "receipt_lines.signed_amount",
                "receipt_lines.awards_bonus",
                "receipts.exchange_rate_to_group_currency",
            ),
            ("entry_number", "entry_type", "points", "balance_after", "amount_group_currency"),
        ),
        "occurred_at": ("receipts.created_at",),
        **computed("processed_at"),
    },
}

_ARTICLE_KEY = ("articles.sku",)
_STORE_KEY = ("stores.external_id",)


def _with_sign(table: str, amount: str) -> tuple[str, ...]:
    return (f"{table}.{amount}", f"{table}.line_type")


GOLD: dict[str, Lineage] = {
    DIM_CONTACT.name: computed(*DIM_CONTACT.column_names),
    DIM_ARTICLE.name: {
        **copied(ARTICLES, _except(DIM_ARTICLE, "article_key")),
        "article_key": _ARTICLE_KEY,
    },
    DIM_STORE.name: {
        **copied(STORES, _except(DIM_STORE, "store_key")),
        "store_key": _STORE_KEY,
    },
    DIM_DATE.name: computed(*DIM_DATE.column_names),
    FACT_ORDER.name: {
        **copied(
            ORDERS,
            (
                "order_id",
                "contact_id",
                "external_store_id",
                "status",
                "external_status",
                "channel",
                "currency_code",
                "order_type",
                "created_at",
                "last_changed_at",
                "delivery_date",
                "version_tag",
                "version_number",
            ),
        ),
        "order_key": ("orders.order_id",),
        "contact_key": ("orders.contact_id", "dim_contact.contact_key"),
        "store_key": ("orders.external_store_id", "dim_store.store_key"),
        "created_date_key": ("orders.created_at",),
        "last_changed_date_key": ("orders.last_changed_at",),
        "delivery_date_key": ("orders.delivery_date",),
        "is_ongoing": ("orders.status",),
        "value": ("orders.sub_total",),
        "line_count": ("order_lines.order_id",),
        **each_from(("order_lines.line_type",), ("purchase_line_count", "return_line_count")),
        **each_from(
            ("order_lines.quantity", "order_lines.line_type"),
            ("purchase_quantity", "return_quantity"),
        ),
        **each_from(
            ("order_lines.total_price", "order_lines.line_type"),
            ("purchase_value", "return_value"),
        ),
    },
    FACT_ORDER_LINE.name: {
        **copied(
            ORDER_LINES,
            (
                "order_id",
                "line_number",
                "line_id",
                "sku",
                "line_type",
                "quantity",
                "price_per_unit",
                "original_price_per_unit",
                "total_price",
                "original_total_price",
                "discount_amount",
                "tax_amount",
                "external_status",
                "return_type",
                "return_reason",
                "line_group",
            ),
        ),
        **copied(
            FACT_ORDER,
            (
                "order_key",
                "contact_key",
                "contact_id",
                "store_key",
                "created_date_key",
                "is_ongoing",
                "currency_code",
            ),
        ),
        "order_status": ("fact_order.status",),
        "article_key": ("order_lines.sku", "dim_article.article_key"),
        "is_return": ("order_lines.line_type",),
        "signed_quantity": _with_sign("order_lines", "quantity"),
        "signed_total_price": _with_sign("order_lines", "total_price"),
    },
    FACT_RECEIPT_LINE.name: {
        **copied(
            RECEIPT_LINES,
            (
                "unique_receipt_id",
                "line_number",
                "contact_id",
                "sku",
                "store_external_id",
                "business_date",
                "line_type",
                "quantity",
                "gross_paid_price",
                "signed_amount",
                "tax_amount",
                "discount_amount",
                "currency",
                "article_group",
                "awards_bonus",
            ),
        ),
        **copied(RECEIPTS, ("receipt_number", "created_at")),
        "contact_key": ("receipt_lines.contact_id", "dim_contact.contact_key"),
        "article_key": ("receipt_lines.sku", "dim_article.article_key"),
        "store_key": ("receipt_lines.store_external_id", "dim_store.store_key"),
        "date_key": ("receipt_lines.business_date",),
        "is_return": ("receipt_lines.line_type",),
        "signed_amount_group_currency": (
            "receipt_lines.signed_amount",
            "receipt_lines.exchange_rate_to_group_currency",
        ),
    },
    SALES_DAILY.name: {
        **copied(RECEIPT_LINES, ("business_date", "store_external_id", "currency")),
        "main_category": ("articles.main_category", "receipt_lines.article_group"),
        **each_from(_with_sign("receipt_lines", "gross_paid_price"), ("gross_sales", "returns")),
        "net_sales": ("receipt_lines.signed_amount",),
        "net_sales_group_currency": (
            "receipt_lines.signed_amount",
            "receipt_lines.exchange_rate_to_group_currency",
        ),
        **each_from(_with_sign("receipt_lines", "quantity"), ("units_sold", "units_returned")),
        "receipts": ("receipt_lines.unique_receipt_id",),
    },
}

SEGMENTS: dict[str, Lineage] = {
    CONTACT_SEGMENTATION.name: {
        **copied(
            DIM_CONTACT,
            (
                "contact_key",
                "contact_id",
                "contact_type",
                "country_code",
                "gender",
                "birth_year",
                "created_at",
            ),
        ),
        "ongoing_order_count": ("fact_order.is_ongoing",),
        "ongoing_order_value": ("fact_order.value", "fact_order.is_ongoing"),
        "ongoing_order_statuses": ("fact_order.status", "fact_order.is_ongoing"),
        "ongoing_skus": (
            "fact_order_line.sku",
            "fact_order_line.is_ongoing",
            "fact_order_line.is_return",
        ),
        "ongoing_main_categories": (
            "dim_article.main_category",
            "fact_order_line.is_ongoing",
            "fact_order_line.is_return",
        ),
        "order_count": ("fact_order.order_key",),
        "return_count": ("fact_order.return_line_count",),
        **each_from(("fact_order.created_at",), ("first_order_at", "last_order_at")),
        **each_from(
            ("fact_receipt_line.unique_receipt_id", "fact_receipt_line.is_return"),
            ("receipt_count",),
        ),
        **each_from(
            ("fact_receipt_line.created_at", "fact_receipt_line.is_return"),
            ("first_purchase_at", "last_purchase_at", "recency_days", "frequency"),
        ),
        **each_from(
            ("fact_receipt_line.signed_amount_group_currency", "fact_receipt_line.created_at"),
            ("monetary",),
        ),
        "lifetime_net_spend": ("fact_receipt_line.signed_amount_group_currency",),
        **computed("as_of"),
    },
    SEGMENT_MEMBERSHIPS.name: {
        **copied(CONTACT_SEGMENTATION, ("contact_id", "contact_key")),
        **computed("segment_name", "revision", "materialized_at"),
    },
}

COLUMN_LINEAGE: Mapping[str, Lineage] = {**SILVER, **GOLD, **SEGMENTS}
"""Every derived table's column lineage, by table name."""
