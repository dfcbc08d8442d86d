"""Receipts in the lake: what was registered before a batch, and a batch's results as table rows.

Invariant that makes re-runs safe: `receipts`, `receipt_lines` and last
`receipt_submission_outcomes` are appended with a Delta `txn` naming the bronze version they hold
rows through; the operational database (with the watermark) is written after them. Receipts
registered before a batch are exactly those with a `change_seq` before it, so a re-run finds the
same duplicates whatever a crashed attempt already appended.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa

from assets.incremental import first_seq_after
from assets.receipts.registration import RegisteredReceipt, SubmissionOutcome, canonical_json
from assets.receipts.validation import signed_amount
from schemas.receipts import Receipt, ReceiptItem, ReceiptLineType
from schemas.tables import RECEIPT_LINES, RECEIPT_SUBMISSION_OUTCOMES, RECEIPTS, TableSpec
from storage.lake import Lake

APP_ID = "engage-orders/receipt-processing"
"""Delta `txn` application id: the receipt tables record through which bronze version they hold
results of this pipeline."""


def registered_documents(lake: Lake, ids: Collection[str], watermark: int) -> dict[str, str]:
    """The stored documents of those of `ids` registered before the batch after `watermark`."""
    if not ids:
        return {}
    wanted = pl.Series(list(ids), dtype=pl.String)
    frame = (
        lake.scan(RECEIPTS)
        .filter(
            pl.col("unique_receipt_id").is_in(wanted),
            pl.col("change_seq") < first_seq_after(watermark),
        )
        .select("unique_receipt_id", "document")
        .collect()
    )
    return dict(zip(frame["unique_receipt_id"], frame["document"], strict=True))


def registered_through(lake: Lake) -> int:
    """The bronze version through which submissions are registered (their outcomes written last)."""
    return lake.app_version(RECEIPT_SUBMISSION_OUTCOMES, APP_ID) or 0


def rows_in_range(
    lake: Lake, spec: TableSpec, after_version: int, through_version: int
) -> pl.DataFrame:
    """Rows of `spec` that came from bronze commits in (after_version, through_version]."""
    return (
        lake.scan(spec)
        .filter(
            pl.col("change_seq") >= first_seq_after(after_version),
            pl.col("change_seq") < first_seq_after(through_version),
        )
        .sort("change_seq")
        .collect()
    )


def receipt_table(registered: Iterable[RegisteredReceipt], processed_at: datetime) -> pa.Table:
    rows = [_receipt_row(entry, processed_at) for entry in registered]
    return pa.Table.from_pylist(rows, schema=RECEIPTS.arrow_schema)


def _receipt_row(entry: RegisteredReceipt, processed_at: datetime) -> dict[str, Any]:
    submission = entry.submission
    receipt = _receipt(entry)
    contact = receipt.contact
    return {
        "unique_receipt_id": receipt.unique_receipt_id,
        "receipt_number": receipt.receipt_number,
        "job_id": submission.job_id,
        "change_seq": submission.change_seq,
        "contact_id": entry.contact_id,
        "contact_match_key": contact.match_key if contact else None,
        "contact_match_key_type": contact.match_key_type.value if contact else None,
        "store_external_id": receipt.store_external_id,
        "currency": receipt.currency,
        "exchange_rate_to_group_currency": _float(receipt.exchange_rate_to_group_currency),
        "total_gross_price": float(receipt.total_gross_price),
        "total_gross_price_group": _in_group_currency(receipt, receipt.total_gross_price),
        "receipt_type": receipt_type(receipt),
        "line_count": len(receipt.items),
        "created_at": receipt.created_date.astimezone(UTC),
        "business_date": receipt.created_date.date(),
        "landed_at": submission.landed_at,
        "processed_at": processed_at,
        "document": canonical_json(submission.document),
    }


def line_table(registered: Iterable[RegisteredReceipt]) -> pa.Table:
    rows = [
        _line_row(entry, index, item)
        for entry in registered
        for index, item in enumerate(_receipt(entry).items)
    ]
    return pa.Table.from_pylist(rows, schema=RECEIPT_LINES.arrow_schema)


def _line_row(entry: RegisteredReceipt, index: int, item: ReceiptItem) -> dict[str, Any]:
    receipt = _receipt(entry)
    discounts = [discount.value for discount in item.discounts]
    return {
        "unique_receipt_id": receipt.unique_receipt_id,
        "line_number": index,
        "change_seq": entry.submission.change_seq,
        "contact_id": entry.contact_id,
        "store_external_id": receipt.store_external_id,
        "business_date": receipt.created_date.date(),
        "line_type": item.type.value,
        "sku": item.sku,
        "article_number": item.article_number,
        "article_name": item.article_name,
        "article_group": item.article_group,
        "quantity": float(item.quantity),
        "gross_paid_price": float(item.gross_paid_price),
        "signed_amount": float(signed_amount(item)),
        "tax_amount": _float(item.tax_amount),
        "tax_percent": _float(item.tax_percent),
        "margin_percent": _float(item.margin_percent),
        "awards_bonus": item.awards_bonus,
        "discount_amount": float(sum(discounts, Decimal(0))) if discounts else None,
        "currency": receipt.currency,
        "exchange_rate_to_group_currency": _float(receipt.exchange_rate_to_group_currency),
    }


def outcome_table(outcomes: Iterable[SubmissionOutcome], processed_at: datetime) -> pa.Table:
    rows = [
        {
            "job_id": outcome.submission.job_id,
            "unique_receipt_id": outcome.submission.unique_receipt_id,
            "api_key_id": outcome.submission.api_key_id,
            "change_seq": outcome.submission.change_seq,
            "landed_at": outcome.submission.landed_at,
            "processed_at": processed_at,
            "status": "Succeeded" if outcome.succeeded else "Failed",
            "duplicate": outcome.duplicate,
            "contact_id": outcome.contact_id,
            "errors": _json([error.model_dump() for error in outcome.errors]),
            "warnings": _json([warning.__dict__ for warning in outcome.warnings]),
        }
        for outcome in outcomes
    ]
    return pa.Table.from_pylist(rows, schema=RECEIPT_SUBMISSION_OUTCOMES.arrow_schema)


def receipt_type(receipt: Receipt) -> str:
    """Purchase, Return or Mixed, from the line types."""
    types = {item.type for item in receipt.items}
    if types == {ReceiptLineType.RETURN}:
        return "Return"
    if ReceiptLineType.RETURN in types:
        return "Mixed"
    return "Purchase"


def _in_group_currency(receipt: Receipt, amount: Decimal) -> float | None:
    """`amount` in group currency; unknown (null) when the receipt sent no exchange rate."""
    rate = receipt.exchange_rate_to_group_currency
    return None if rate is None else float(amount * rate)


def _receipt(entry: RegisteredReceipt) -> Receipt:
    assert entry.submission.receipt is not None
    return entry.submission.receipt


def _json(items: list[dict[str, Any]]) -> str | None:
    return json.dumps(items) if items else None


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
