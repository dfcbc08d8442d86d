"""Delta tables of the orders domain: landed changes, versions, current orders and lines."""

from __future__ import annotations

import pyarrow as pa

from schemas.table_spec import (
    CONTACT_MATCH_KEY,
    CONTACT_MATCH_KEY_TYPE,
    Column,
    TableSpec,
    money,
    string,
    timestamp,
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
        string("job_id", "Intake job id; one job per accepted request.", nullable=False),
        # No statistics: the log of this append-only table is never rewritten, so an order id in
        # its file statistics would outlive the order's erasure.
        string("order_id", "The integrator's order id.", nullable=False, personal=True),
        string(
            "change_type",
            "create, replace, delete, change_status or change_delivery.",
            nullable=False,
        ),
        timestamp("landed_at", "When the intake committed the change (UTC).", nullable=False),
        Column(
            "batch_position",
            pa.int32(),
            "Position within its group commit; orders changes landed in one commit.",
            nullable=False,
        ),
        string("api_key_id", "Id of the API key that sent the change.", nullable=False),
        string("if_match", "The If-Match versionTag the change requires, if any."),
        string("body", "The request body exactly as received (JSON).", personal=True),
        CONTACT_MATCH_KEY,
        CONTACT_MATCH_KEY_TYPE,
    ),
)

_ORDER_STATE_COLUMNS = (
    string("order_id", "The integrator's order id.", nullable=False),
    string("version_tag", "Opaque tag of this order version (16 bytes, base64).", nullable=False),
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
    string("job_id", "Intake job that made this version.", nullable=False),
    string("change_type", "The kind of change that made this version.", nullable=False),
    string("contact_id", "Resolved contact, or null when the contact was not found."),
    CONTACT_MATCH_KEY,
    CONTACT_MATCH_KEY_TYPE,
    string("status", "Order status (InProgress, Completed, Cancelled, ...)."),
    string("external_status", "The integrator's own status text."),
    string("external_store_id", "Store the order belongs to."),
    string("channel", "Sales channel, e.g. Ecom or Store."),
    string("currency_code", "ISO 4217 currency."),
    string("order_type", "Purchase, Return or Mixed, derived from the lines."),
    Column("line_count", pa.int32(), "Number of order lines."),
    money("sub_total", "Sum of the lines' totalPrice as sent in lineItems.subTotal."),
    timestamp("created_at", "When the order was placed."),
    timestamp("last_changed_at", "When the integrator last changed the order."),
    timestamp("delivery_date", "Promised or actual delivery time (delivery.deliveryDate)."),
    timestamp("landed_at", "When the change landed in bronze.", nullable=False),
    timestamp("processed_at", "When the pipeline processed the change.", nullable=False),
    string("document", "The whole order version as canonical Orders v3 JSON.", personal=True),
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
        string("order_id", "The order the line belongs to.", nullable=False),
        Column(
            "line_number",
            pa.int32(),
            "Position of the line in the order (0-based).",
            nullable=False,
        ),
        string("line_id", "The integrator's line id, if given."),
        string("version_tag", "Order version the line comes from.", nullable=False),
        Column("change_seq", pa.int64(), "Landing order of that version's change.", nullable=False),
        string("contact_id", "Resolved contact of the order."),
        string("line_type", "Purchase or Return.", nullable=False),
        string("sku", "Article SKU.", nullable=False),
        string("article_name", "Article name as sent with the order."),
        Column("quantity", pa.int64(), "Quantity ordered or returned.", nullable=False),
        money("price_per_unit", "Price per unit paid."),
        money("original_price_per_unit", "Price per unit before discounts."),
        money("total_price", "Line total paid."),
        money("original_total_price", "Line total before discounts."),
        money("discount_amount", "Sum of the line's discounts."),
        money("tax_amount", "Sum of the line's taxes."),
        string("external_status", "The integrator's status of the line."),
        string("return_type", "Normal, Complaint or Change for Return lines."),
        string("return_reason", "Why the line was returned."),
        string("line_group", "The integrator's grouping of lines."),
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
        string("job_id", "Intake job id.", nullable=False),
        string("order_id", "The order the change was for.", nullable=False),
        string("api_key_id", "Id of the API key that sent the change.", nullable=False),
        string(
            "change_type",
            "create, replace, delete, change_status or change_delivery.",
            nullable=False,
        ),
        Column("change_seq", pa.int64(), "Landing order of the change.", nullable=False),
        timestamp("landed_at", "When the change landed.", nullable=False),
        timestamp("processed_at", "When it was processed.", nullable=False),
        string("status", "Succeeded or Failed.", nullable=False),
        string("version_tag", "The order's versionTag after the change (Succeeded only)."),
        string("contact_id", "Resolved contact of the order, if any."),
        string("errors", "JSON list of {path, code, message} (Failed only)."),
        string("warnings", "JSON list of {code, message}, e.g. ContactMissing."),
        string("action", "The embedded action to run for this change (JSON), if any."),
    ),
)
