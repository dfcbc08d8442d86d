"""The catalogue of every Delta table in the lake, one module per domain.

It is the one source of truth for table shapes: the intake writes with it, the pipeline merges with
it, Dagster shows its column descriptions, and erasure uses its personal-column lists to keep
personal data out of the transaction log's file statistics.
"""

from __future__ import annotations

from schemas.gold_tables import ANALYST_TABLES, SEGMENT_TABLES, STAR_SCHEMA
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
from schemas.register_tables import ARTICLE_SUBMISSIONS, ARTICLES, STORE_SUBMISSIONS, STORES
from schemas.table_spec import Column, TableSpec

ALL_TABLES: tuple[TableSpec, ...] = (
    ORDER_CHANGES,
    ORDER_VERSIONS,
    ORDERS,
    ORDER_LINES,
    ORDER_CHANGE_OUTCOMES,
    ARTICLE_SUBMISSIONS,
    ARTICLES,
    STORE_SUBMISSIONS,
    STORES,
    RECEIPT_SUBMISSIONS,
    RECEIPTS,
    RECEIPT_LINES,
    RECEIPT_SUBMISSION_OUTCOMES,
    LOYALTY_LEDGER,
    SALES_DAILY,
    *STAR_SCHEMA,
    *SEGMENT_TABLES,
)

BRONZE_TABLES = tuple(spec for spec in ALL_TABLES if spec.layer == "bronze")

QUERYABLE_TABLES: tuple[TableSpec, ...] = (*ANALYST_TABLES, SALES_DAILY)
"""What analysts query by name (`engage-orders sql`): gold and segments, none with personal data."""

__all__ = [
    "ALL_TABLES",
    "ARTICLES",
    "ARTICLE_SUBMISSIONS",
    "BRONZE_TABLES",
    "LOYALTY_LEDGER",
    "ORDERS",
    "ORDER_CHANGES",
    "ORDER_CHANGE_OUTCOMES",
    "ORDER_LINES",
    "ORDER_VERSIONS",
    "QUERYABLE_TABLES",
    "RECEIPTS",
    "RECEIPT_LINES",
    "RECEIPT_SUBMISSIONS",
    "RECEIPT_SUBMISSION_OUTCOMES",
    "SALES_DAILY",
    "STORES",
    "STORE_SUBMISSIONS",
    "Column",
    "TableSpec",
]
