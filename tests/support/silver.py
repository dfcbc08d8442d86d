"""Small silver tables and live contacts as polars frames, for tests of the gold builders.

Rows name only the columns a test cares about; every other column of the catalogue is null, so a
frame always has exactly the shape a `Lake.scan` of the real table has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS, STORES
from storage.contact_attributes import CONTACT_ATTRIBUTE_SCHEMA


def frame(spec: TableSpec, rows: Iterable[dict[str, Any]]) -> pl.LazyFrame:
    """`rows` as a LazyFrame of exactly the spec's columns and types."""
    schema = pl.Schema(spec.arrow_schema)
    rows = list(rows)
    unknown = {name for row in rows for name in row} - set(schema)
    assert not unknown, f"{spec.name} has no columns {unknown}"
    data = {name: [row.get(name) for row in rows] for name in schema}
    return pl.LazyFrame(data, schema=schema)


def contacts_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Live contacts as `storage.contact_attributes.live_contact_attributes` returns them."""
    defaults = {"contact_type": "Member", "has_email": True, "has_mobile_phone": False}
    rows = [{**defaults, **row} for row in rows]
    data = {name: [row.get(name) for row in rows] for name in CONTACT_ATTRIBUTE_SCHEMA}
    return pl.DataFrame(data, schema=CONTACT_ATTRIBUTE_SCHEMA)


@dataclass
class Silver:
    """The silver inputs of a gold build, filled by small helper calls."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    stores: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_lines: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    receipt_lines: list[dict[str, Any]] = field(default_factory=list)

    def contact(self, contact_id: str, **attributes: Any) -> Silver:
        created = attributes.pop("created_at", datetime(2024, 3, 1, tzinfo=UTC))
        self.contacts.append({"contact_id": contact_id, "created_at": created, **attributes})
        return self

    def article(self, sku: str, **attributes: Any) -> Silver:
        self.articles.append({"sku": sku, **attributes})
        return self

    def store(self, external_id: str, **attributes: Any) -> Silver:
        self.stores.append({"external_id": external_id, **attributes})
        return self

    def order(
        self,
        order_id: str,
        contact_id: str | None,
        status: str,
        lines: list[tuple[str, str, int, float]],
        created_at: datetime,
        **attributes: Any,
    ) -> Silver:
        """An order with lines (line_type, sku, quantity, total_price); sub_total as sent."""
        self.orders.append(
            {
                "order_id": order_id,
                "version_tag": f"tag-{order_id}",
                "version_number": 1,
                "contact_id": contact_id,
                "status": status,
                "currency_code": "SEK",
                "sub_total": sum(line[3] for line in lines),
                "created_at": created_at,
                "last_changed_at": created_at,
                **attributes,
            }
        )
        for number, (line_type, sku, quantity, total) in enumerate(lines):
            self.order_lines.append(
                {
                    "order_id": order_id,
                    "line_number": number,
                    "version_tag": f"tag-{order_id}",
                    "contact_id": contact_id,
                    "line_type": line_type,
                    "sku": sku,
                    "quantity": quantity,
                    "total_price": total,
                    "price_per_unit": total / quantity if quantity else None,
                }
            )
        return self

    def receipt(
        self,
        receipt_id: str,
        contact_id: str | None,
        created_at: datetime,
        lines: list[tuple[str, str | None, float]],
        store: str | None = "S1",
        rate: float | None = 0.1,
    ) -> Silver:
        """A receipt with lines (PURCHASE/RETURN, sku, gross_paid_price as a positive amount)."""
        self.receipts.append(
            {
                "unique_receipt_id": receipt_id,
                "receipt_number": f"N-{receipt_id}",
                "contact_id": contact_id,
                "store_external_id": store,
                "currency": "SEK",
                "exchange_rate_to_group_currency": rate,
                "created_at": created_at,
                "business_date": created_at.date(),
            }
        )
        for number, (line_type, sku, paid) in enumerate(lines):
            is_return = line_type == "RETURN"
            self.receipt_lines.append(
                {
                    "unique_receipt_id": receipt_id,
                    "line_number": number,
                    "contact_id": contact_id,
                    "store_external_id": store,
                    "business_date": created_at.date(),
                    "line_type": line_type,
                    "sku": sku,
                    "quantity": -1.0 if is_return else 1.0,
                    "gross_paid_price": paid,
                    "signed_amount": -paid if is_return else paid,
                    "currency": "SEK",
                    "exchange_rate_to_group_currency": rate,
                }
            )
        return self

    def scan(self, spec: TableSpec) -> pl.LazyFrame:
        rows = {
            ARTICLES.name: self.articles,
            STORES.name: self.stores,
            ORDERS.name: self.orders,
            ORDER_LINES.name: self.order_lines,
            RECEIPTS.name: self.receipts,
            RECEIPT_LINES.name: self.receipt_lines,
        }[spec.name]
        return frame(spec, rows)

    def live_contacts(self) -> pl.DataFrame:
        return contacts_frame(self.contacts)


def day(value: date) -> int:
    """The yyyymmdd date key of a day."""
    return value.year * 10_000 + value.month * 100 + value.day
