"""Delta tables of receipts (transactions), the loyalty ledger and sales reporting (SPEC 2.3)."""

from __future__ import annotations

import pyarrow as pa

from schemas.table_spec import (
    CONTACT_MATCH_KEY,
    CONTACT_MATCH_KEY_TYPE,
    Column,
    TableSpec,
    date,
    money,
    string,
    timestamp,
)

RECEIPT_SUBMISSIONS = TableSpec(
    name="receipt_submissions",
    layer="bronze",
    description=(
        "Every accepted POST /receipts, appended by the intake before it answers 202, duplicates "
        "included (they are dropped when processed). Landing order: commit version, position."
    ),
    key=("job_id",),
    change_data_feed=True,
    columns=(
        string("job_id", "Intake job id; one per accepted request.", nullable=False),
        # No statistics: the log of this append-only table is never rewritten (see order_changes).
        string(
            "unique_receipt_id",
            "The integrator's unique receipt id.",
            nullable=False,
            personal=True,
        ),
        timestamp("landed_at", "When the intake committed it (UTC).", nullable=False),
        Column("batch_position", pa.int32(), "Position within its group commit.", nullable=False),
        string("api_key_id", "Id of the API key that sent it.", nullable=False),
        string("body", "The request body exactly as received (JSON).", personal=True),
        CONTACT_MATCH_KEY,
        CONTACT_MATCH_KEY_TYPE,
    ),
)

RECEIPTS = TableSpec(
    name="receipts",
    layer="silver",
    description=(
        "Every registered receipt, once: the first submission of each uniqueReceiptId. "
        "Append-only; receipts never change."
    ),
    key=("unique_receipt_id",),
    columns=(
        string("unique_receipt_id", "The integrator's unique receipt id.", nullable=False),
        string("receipt_number", "Receipt number printed on the receipt."),
        string("job_id", "Intake job that registered it.", nullable=False),
        Column(
            "change_seq",
            pa.int64(),
            "Landing order (bronze version << 20 | position).",
            nullable=False,
        ),
        string("contact_id", "Resolved contact, or null when not found."),
        CONTACT_MATCH_KEY,
        CONTACT_MATCH_KEY_TYPE,
        string("store_external_id", "Store the purchase or return happened in."),
        string("currency", "ISO 4217 currency of the amounts."),
        Column("exchange_rate_to_group_currency", pa.float64(), "Multiply to get group currency."),
        money("total_gross_price", "What was paid (negative for a return receipt)."),
        money("total_gross_price_group", "total_gross_price in group currency."),
        string("receipt_type", "Purchase, Return or Mixed, from the line types."),
        Column("line_count", pa.int32(), "Number of receipt lines."),
        timestamp("created_at", "When the receipt was created (UTC)."),
        date("business_date", "The receipt's calendar date in its own UTC offset."),
        timestamp("landed_at", "When it landed in bronze.", nullable=False),
        timestamp("processed_at", "When it was processed.", nullable=False),
        string("document", "The receipt as canonical JSON.", personal=True),
    ),
)

RECEIPT_LINES = TableSpec(
    name="receipt_lines",
    layer="silver",
    description="Lines of every registered receipt. Append-only, keyed by receipt and line number.",
    key=("unique_receipt_id", "line_number"),
    columns=(
        string("unique_receipt_id", "The receipt the line belongs to.", nullable=False),
        Column(
            "line_number",
            pa.int32(),
            "Position of the line on the receipt (0-based).",
            nullable=False,
        ),
        Column("change_seq", pa.int64(), "Landing order of the receipt.", nullable=False),
        string("contact_id", "Resolved contact of the receipt."),
        string("store_external_id", "Store of the receipt."),
        date("business_date", "The receipt's calendar date in its own UTC offset."),
        string("line_type", "PURCHASE or RETURN.", nullable=False),
        string("sku", "Article SKU."),
        string("article_number", "Article number as sent."),
        string("article_name", "Article name as sent."),
        string("article_group", "Article group as sent."),
        Column(
            "quantity",
            pa.float64(),
            "Quantity as sent: negative on RETURN lines by convention (a warning otherwise); "
            "line_type, not the sign, says which way the goods went.",
            nullable=False,
        ),
        money("gross_paid_price", "Amount paid for the line (positive, also for returns)."),
        money("signed_amount", "gross_paid_price, negative for RETURN lines."),
        money("tax_amount", "Tax included in the line."),
        Column("tax_percent", pa.float64(), "Tax rate in percent."),
        Column("margin_percent", pa.float64(), "Margin in percent."),
        Column("awards_bonus", pa.bool_(), "Whether the line earns loyalty points."),
        money("discount_amount", "Sum of the line's discounts (as sent; negative reduces)."),
        string("currency", "ISO 4217 currency."),
        Column("exchange_rate_to_group_currency", pa.float64(), "Multiply to get group currency."),
    ),
)

RECEIPT_SUBMISSION_OUTCOMES = TableSpec(
    name="receipt_submission_outcomes",
    layer="silver",
    description=(
        "The outcome of every receipt submission: Succeeded (registered, or a duplicate that was "
        "ignored) or Failed, with warnings such as ContactMissing. Written idempotently by job_id."
    ),
    key=("job_id",),
    columns=(
        string("job_id", "Intake job id.", nullable=False),
        string("unique_receipt_id", "The receipt submitted.", nullable=False),
        string("api_key_id", "Id of the API key that sent it.", nullable=False),
        Column("change_seq", pa.int64(), "Landing order.", nullable=False),
        timestamp("landed_at", "When it landed.", nullable=False),
        timestamp("processed_at", "When it was processed.", nullable=False),
        string("status", "Succeeded or Failed.", nullable=False),
        Column(
            "duplicate", pa.bool_(), "True when the receipt was already registered.", nullable=False
        ),
        string("contact_id", "Resolved contact, if any."),
        string("errors", "JSON list of {path, code, message} (Failed only)."),
        string("warnings", "JSON list of {code, message}."),
    ),
)

LOYALTY_LEDGER = TableSpec(
    name="loyalty_ledger",
    layer="silver",
    description=(
        "Loyalty points per contact: points earned by purchases, deducted by returns, and the "
        "bonus checks issued each time the balance passes the threshold. Append-only."
    ),
    key=("entry_id",),
    columns=(
        string("entry_id", "Unique entry id (receipt id and entry kind).", nullable=False),
        string("contact_id", "The contact whose balance changes.", nullable=False),
        string("unique_receipt_id", "The receipt that caused the entry.", nullable=False),
        Column("change_seq", pa.int64(), "Landing order of that receipt.", nullable=False),
        Column(
            "entry_number",
            pa.int32(),
            "Order of the entries of one receipt: 0 for its points, then 1, 2, ... per check.",
            nullable=False,
        ),
        string("entry_type", "Earned, Deducted or BonusCheckIssued.", nullable=False),
        Column("points", pa.int64(), "Points added (+) or removed (-).", nullable=False),
        Column(
            "balance_after", pa.int64(), "The contact's balance after the entry.", nullable=False
        ),
        money("amount_group_currency", "Bonus-awarding amount behind the entry, group currency."),
        timestamp("occurred_at", "When the receipt was created.", nullable=False),
        timestamp("processed_at", "When the entry was made.", nullable=False),
    ),
)

SALES_DAILY = TableSpec(
    name="sales_daily",
    layer="gold",
    description=(
        "Sales per business day, store and article main category, from receipts: gross, returns, "
        "net, units and receipts. Rebuilt after every receipt processing run."
    ),
    key=("business_date", "store_external_id", "main_category", "currency"),
    columns=(
        date(
            "business_date", "The receipts' calendar date in their own UTC offset.", nullable=False
        ),
        string("store_external_id", "Store (Unknown when the receipt named none).", nullable=False),
        string(
            "main_category",
            "Main category from the article register, else the receipt's articleGroup, "
            "else Unknown.",
            nullable=False,
        ),
        string("currency", "Currency of the amounts.", nullable=False),
        money("gross_sales", "Sum of purchase lines."),
        money("returns", "Sum of returned lines (positive)."),
        money("net_sales", "gross_sales - returns."),
        money("net_sales_group_currency", "net_sales in group currency."),
        Column("units_sold", pa.float64(), "Units on purchase lines."),
        Column("units_returned", pa.float64(), "Units on return lines (positive)."),
        Column("receipts", pa.int64(), "Number of receipts with lines in the group."),
    ),
)
