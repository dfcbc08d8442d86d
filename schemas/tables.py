"""Every Delta table of the lake: name, layer, Arrow schema, key, and which columns are personal.

This catalogue is the one source of truth for table shapes. The intake writes with it, the pipeline
merges with it, Dagster shows its column descriptions, and erasure uses its personal-column list to
keep personal data out of the transaction log's file statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

Layer = Literal["bronze", "silver", "gold"]

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    personal: bool = False
    """Holds personal data (or a raw body that may): never in statistics, logs or metadata."""

    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True)
class TableSpec:
    name: str
    layer: Layer
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    change_data_feed: bool = False
    partition_by: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"{self.layer}/{self.name}"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([column.arrow_field() for column in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def personal_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.personal]

    @property
    def stats_columns(self) -> list[str]:
        return [column.name for column in self.columns if not column.personal]

    def configuration(self) -> dict[str, str]:
        """Delta table properties: statistics only on non-personal columns, no deletion vectors."""
        config = {
            "delta.dataSkippingStatsColumns": ",".join(self.stats_columns),
            "delta.enableDeletionVectors": "false",
        }
        if self.change_data_feed:
            config["delta.enableChangeDataFeed"] = "true"
        return config


def _string(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, pa.string(), description, **kwargs)


def _timestamp(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, UTC_TIMESTAMP, description, **kwargs)


def _money(name: str, description: str) -> Column:
    return Column(name, pa.float64(), description)


_CONTACT_MATCH_KEY = _string(
    "contact_match_key", "The contact key as the integrator sent it.", personal=True
)
_CONTACT_MATCH_KEY_TYPE = _string(
    "contact_match_key_type", "ContactId, Email, MobilePhone, SocialSecurityNumber, ..."
)

ORDER_CHANGES = TableSpec(
    name="order_changes",
    layer="bronze",
    description=(
        "Every accepted order write (create, replace, delete, change-status, change-delivery), "
        "appended by the intake before it answers 202. Append-only; the landing order is the Delta "
        "commit version, then batch_position."
    ),
    key=("job_id",),
    change_data_feed=True,
    columns=(
        _string("job_id", "Intake job id; one job per accepted request.", nullable=False),
        _string("order_id", "The integrator's order id.", nullable=False),
        _string(
            "change_type",
            "create, replace, delete, change_status or change_delivery.",
            nullable=False,
        ),
        _timestamp("landed_at", "When the intake committed the change (UTC).", nullable=False),
        Column(
            "batch_position",
            pa.int32(),
            "Position within its group commit; orders changes landed in one commit.",
            nullable=False,
        ),
        _string("api_key_id", "Id of the API key that sent the change.", nullable=False),
        _string("if_match", "The If-Match versionTag the change requires, if any."),
        _string("body", "The request body exactly as received (JSON).", personal=True),
        _CONTACT_MATCH_KEY,
        _CONTACT_MATCH_KEY_TYPE,
    ),
)

_ORDER_STATE_COLUMNS = (
    _string("order_id", "The integrator's order id.", nullable=False),
    _string("version_tag", "Opaque tag of this order version (16 bytes, base64).", nullable=False),
    Column(
        "version_number",
        pa.int64(),
        "1 for the first version of an order, then +1.",
        nullable=False,
    ),
    Column(
        "change_seq",
        pa.int64(),
        "Landing order of the change that made this version (bronze version << 20 | position).",
        nullable=False,
    ),
    _string("job_id", "Intake job that made this version.", nullable=False),
    _string("change_type", "The kind of change that made this version.", nullable=False),
    _string("contact_id", "Resolved contact, or null when the contact was not found."),
    _CONTACT_MATCH_KEY,
    _CONTACT_MATCH_KEY_TYPE,
    _string("status", "Order status (InProgress, Completed, Cancelled, ...)."),
    _string("external_status", "The integrator's own status text."),
    _string("external_store_id", "Store the order belongs to."),
    _string("channel", "Sales channel, e.g. Ecom or Store."),
    _string("currency_code", "ISO 4217 currency."),
    _string("order_type", "Purchase, Return or Mixed, derived from the lines."),
    Column("line_count", pa.int32(), "Number of order lines."),
    _money("sub_total", "Sum of the lines' totalPrice as sent in lineItems.subTotal."),
    _timestamp("created_at", "When the order was placed."),
    _timestamp("last_changed_at", "When the integrator last changed the order."),
    _timestamp("landed_at", "When the change landed in bronze.", nullable=False),
    _timestamp("processed_at", "When the pipeline processed the change.", nullable=False),
    _string("document", "The whole order version as canonical Orders v3 JSON.", personal=True),
)

ORDER_VERSIONS = TableSpec(
    name="order_versions",
    layer="silver",
    description=(
        "Every processed order version, the history behind each versionTag; a delete is kept as a "
        "version with is_deleted. Append-only, written idempotently by version_tag."
    ),
    key=("version_tag",),
    columns=(
        *_ORDER_STATE_COLUMNS,
        Column(
            "is_deleted", pa.bool_(), "True for the version that deleted the order.", nullable=False
        ),
    ),
)

ORDERS = TableSpec(
    name="orders",
    layer="silver",
    description="Current state of every live order: its latest version. Merged by order_id.",
    key=("order_id",),
    columns=_ORDER_STATE_COLUMNS,
)

ORDER_LINES = TableSpec(
    name="order_lines",
    layer="silver",
    description="Lines of every live order's current version. Merged by (order_id, line_number).",
    key=("order_id", "line_number"),
    columns=(
        _string("order_id", "The order the line belongs to.", nullable=False),
        Column(
            "line_number",
            pa.int32(),
            "Position of the line in the order (0-based).",
            nullable=False,
        ),
        _string("line_id", "The integrator's line id, if given."),
        _string("version_tag", "Order version the line comes from.", nullable=False),
        Column("change_seq", pa.int64(), "Landing order of that version's change.", nullable=False),
        _string("contact_id", "Resolved contact of the order."),
        _string("line_type", "Purchase or Return.", nullable=False),
        _string("sku", "Article SKU.", nullable=False),
        _string("article_name", "Article name as sent with the order."),
        Column("quantity", pa.int64(), "Quantity ordered or returned.", nullable=False),
        _money("price_per_unit", "Price per unit paid."),
        _money("original_price_per_unit", "Price per unit before discounts."),
        _money("total_price", "Line total paid."),
        _money("original_total_price", "Line total before discounts."),
        _money("discount_amount", "Sum of the line's discounts."),
        _money("tax_amount", "Sum of the line's taxes."),
        _string("external_status", "The integrator's status of the line."),
        _string("return_type", "Normal, Complaint or Change for Return lines."),
        _string("return_reason", "Why the line was returned."),
        _string("line_group", "The integrator's grouping of lines."),
    ),
)

ORDER_CHANGE_OUTCOMES = TableSpec(
    name="order_change_outcomes",
    layer="silver",
    description=(
        "The outcome of every processed order change: Succeeded with its versionTag, or Failed "
        "with errors; warnings such as ContactMissing. Written idempotently by job_id."
    ),
    key=("job_id",),
    columns=(
        _string("job_id", "Intake job id.", nullable=False),
        _string("order_id", "The order the change was for.", nullable=False),
        _string("api_key_id", "Id of the API key that sent the change.", nullable=False),
        _string(
            "change_type",
            "create, replace, delete, change_status or change_delivery.",
            nullable=False,
        ),
        Column("change_seq", pa.int64(), "Landing order of the change.", nullable=False),
        _timestamp("landed_at", "When the change landed.", nullable=False),
        _timestamp("processed_at", "When it was processed.", nullable=False),
        _string("status", "Succeeded or Failed.", nullable=False),
        _string("version_tag", "The order's versionTag after the change (Succeeded only)."),
        _string("contact_id", "Resolved contact of the order, if any."),
        _string("errors", "JSON list of {path, code, message} (Failed only)."),
        _string("warnings", "JSON list of {code, message}, e.g. ContactMissing."),
        _string("action", "The embedded action to run for this change (JSON), if any."),
    ),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    ORDER_CHANGES,
    ORDER_VERSIONS,
    ORDERS,
    ORDER_LINES,
    ORDER_CHANGE_OUTCOMES,
)
