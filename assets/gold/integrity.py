"""Referential integrity of the star schema: which keys resolve to their dimension.

Pure polars, shared by the asset checks and the tests. Every fact key must find its dimension
member (0, the unknown member, included), so an inner join never loses a fact; and a dimension
key must be unique, which is how a 64-bit hash collision between two natural keys would show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    DIM_CONTACT,
    DIM_DATE,
    DIM_STORE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)
from schemas.table_spec import TableSpec


@dataclass(frozen=True)
class KeyReference:
    """`column` of a table refers to `target_column` of `target`."""

    column: str
    target: TableSpec
    target_column: str

    @classmethod
    def to(cls, column: str, target: TableSpec, target_column: str | None = None) -> KeyReference:
        return cls(column, target, target_column or column)


def _dates(*columns: str) -> list[KeyReference]:
    return [KeyReference.to(column, DIM_DATE, "date_key") for column in columns]


REFERENCES: dict[str, list[KeyReference]] = {
    DIM_CONTACT.name: _dates("created_date_key"),
    FACT_ORDER.name: [
        KeyReference.to("contact_key", DIM_CONTACT),
        KeyReference.to("store_key", DIM_STORE),
        *_dates("created_date_key", "last_changed_date_key", "delivery_date_key"),
    ],
    FACT_ORDER_LINE.name: [
        KeyReference.to("order_key", FACT_ORDER),
        KeyReference.to("contact_key", DIM_CONTACT),
        KeyReference.to("article_key", DIM_ARTICLE),
        KeyReference.to("store_key", DIM_STORE),
        *_dates("created_date_key"),
    ],
    FACT_RECEIPT_LINE.name: [
        KeyReference.to("contact_key", DIM_CONTACT),
        KeyReference.to("article_key", DIM_ARTICLE),
        KeyReference.to("store_key", DIM_STORE),
        *_dates("date_key"),
    ],
    CONTACT_SEGMENTATION.name: [KeyReference.to("contact_key", DIM_CONTACT)],
}
"""Every foreign key of the gold tables, by table name."""

Scan = Callable[[TableSpec], pl.LazyFrame]


def unresolved_keys(
    table: pl.LazyFrame, references: Sequence[KeyReference], scan: Scan
) -> dict[str, int]:
    """Per referring column: rows whose key is not in the target table."""
    queries = [
        table.select(reference.column)
        .join(
            scan(reference.target).select(pl.col(reference.target_column).alias(reference.column)),
            on=reference.column,
            how="anti",
        )
        .select(pl.len().alias(reference.column))
        for reference in references
    ]
    return {
        reference.column: frame.item()
        for reference, frame in zip(references, pl.collect_all(queries), strict=True)
    }


def duplicate_keys(table: pl.LazyFrame, key: Sequence[str]) -> int:
    """Rows beyond the first for each key value (0 when the key is unique)."""
    counts = table.select(pl.len().alias("rows"), pl.struct(key).n_unique().alias("keys"))
    rows, keys = counts.collect().row(0)
    return rows - keys
