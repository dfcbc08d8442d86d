"""Gold tables written straight into a lake, for tests of what reads them (segments, SQL).

Rows name only the columns a test cares about; every other column is null, or a neutral value
where the catalogue says it cannot be null, so the frames always match the table specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)
from schemas.table_spec import TableSpec
from storage.lake import Lake

NOW = datetime.now(UTC)


def _neutral(column_type: pa.DataType) -> Any:
    if pa.types.is_boolean(column_type):
        return False
    if pa.types.is_integer(column_type) or pa.types.is_floating(column_type):
        return 0
    if pa.types.is_timestamp(column_type):
        return NOW
    return ""


def rows_table(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    """`rows` as an Arrow table of exactly the spec's schema."""
    unknown = {name for row in rows for name in row} - set(spec.column_names)
    assert not unknown, f"{spec.name} has no columns {unknown}"
    columns = {
        column.name: [
            row.get(column.name, None if column.nullable else _neutral(column.type)) for row in rows
        ]
        for column in spec.columns
    }
    return pa.table(columns, schema=spec.arrow_schema)


@dataclass
class Gold:
    """A small star schema: contacts, articles, orders with lines, receipt lines."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_lines: list[dict[str, Any]] = field(default_factory=list)
    receipt_lines: list[dict[str, Any]] = field(default_factory=list)

    def contact(self, key: int, contact_id: str, **attributes: Any) -> Gold:
        self.contacts.append(
            {"contact_key": key, "contact_id": contact_id, "as_of": NOW, **attributes}
        )
        return self

    def article(self, key: int, sku: str, **attributes: Any) -> Gold:
        self.articles.append({"article_key": key, "sku": sku, **attributes})
        return self

    def order(
        self,
        contact_key: int,
        order_key: int,
        *,
        ongoing: bool,
        skus: tuple[tuple[str, int], ...] = (),
        **attributes: Any,
    ) -> Gold:
        """An order of `contact_key` with one Purchase line per (sku, article_key)."""
        contact_id = self._contact_id(contact_key)
        status = "InProgress" if ongoing else "Completed"
        self.orders.append(
            {
                "order_key": order_key,
                "order_id": f"O-{order_key}",
                "contact_key": contact_key,
                "contact_id": contact_id,
                "is_ongoing": ongoing,
                "status": status,
                "created_at": NOW - timedelta(days=2),
                "version_tag": "v",
                "version_number": 1,
                **attributes,
            }
        )
        for number, (sku, article_key) in enumerate(skus):
            self.order_lines.append(
                {
                    "order_key": order_key,
                    "order_id": f"O-{order_key}",
                    "line_number": number,
                    "contact_key": contact_key,
                    "contact_id": contact_id,
                    "article_key": article_key,
                    "sku": sku,
                    "line_type": "Purchase",
                    "quantity": 1,
                    "signed_quantity": 1,
                    "order_status": status,
                    "is_ongoing": ongoing,
                }
            )
        return self

    def receipt(
        self, contact_key: int, receipt_id: str, *, days_ago: int, sku: str, article_key: int
    ) -> Gold:
        """A receipt with one purchase line of 100 in group currency."""
        self.receipt_lines.append(
            {
                "unique_receipt_id": receipt_id,
                "line_number": 0,
                "contact_key": contact_key,
                "contact_id": self._contact_id(contact_key),
                "article_key": article_key,
                "sku": sku,
                "created_at": NOW - timedelta(days=days_ago),
                "line_type": "PURCHASE",
                "signed_amount": 100.0,
                "signed_amount_group_currency": 100.0,
            }
        )
        return self

    def write(self, lake: Lake) -> None:
        for spec, rows in (
            (CONTACT_SEGMENTATION, self.contacts),
            (DIM_ARTICLE, self.articles),
            (FACT_ORDER, self.orders),
            (FACT_ORDER_LINE, self.order_lines),
            (FACT_RECEIPT_LINE, self.receipt_lines),
        ):
            lake.overwrite(spec, rows_table(spec, rows))

    def _contact_id(self, key: int) -> str:
        return next(row["contact_id"] for row in self.contacts if row["contact_key"] == key)


JACKET = ("JKT-1", 11)
SHOE = ("SHO-1", 12)


def example_gold(ids: list[str]) -> Gold:
    """Five contacts (keys 1-5, in the order of `ids`):

    1. an ongoing order with a jacket, no receipt;
    2. an ongoing order with a jacket and an Acme receipt 5 days ago;
    3. a completed order with a jacket;
    4. an ongoing order with shoes and an Acme receipt 100 days ago;
    5. nothing at all.
    """
    gold = Gold()
    for key, contact_id in enumerate(ids, start=1):
        gold.contact(key, contact_id, contact_type="Member", country_code="SE")
    return (
        gold.article(JACKET[1], JACKET[0], main_category="Jackets", brand="Acme")
        .article(SHOE[1], SHOE[0], main_category="Shoes", brand="Stride")
        .order(1, 101, ongoing=True, skus=(JACKET,))
        .order(2, 102, ongoing=True, skus=(JACKET,))
        .order(3, 103, ongoing=False, skus=(JACKET,))
        .order(4, 104, ongoing=True, skus=(SHOE,))
        .receipt(2, "R-2", days_ago=5, sku=JACKET[0], article_key=JACKET[1])
        .receipt(4, "R-4", days_ago=100, sku=JACKET[0], article_key=JACKET[1])
    )


ONGOING_JACKETS: dict[str, Any] = {
    "name": "ongoing-jackets",
    "description": "Ongoing order with a jacket, no purchase in 30 days",
    "criteria": {
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
}
"""The README's example: selects contact 1 of `example_gold`."""
