"""From landed bronze rows to parsed receipt submissions, and the warnings pandera finds in them.

Every body is parsed again with the intake's strict model: bronze may hold rows landed by an older
intake or repaired by hand, and a body that breaks the hard format rules fails its job. The
conventions of `schemas/frames.py` (line sums, tax arithmetic, signs) only ever warn: a receipt is a
record of what happened and is registered as sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pandera.errors
import pandera.polars as pa
import polars as pl
from pydantic import ValidationError

from assets.frame_checks import FrameResult
from assets.incremental import change_seq
from assets.receipts.registration import Submission
from schemas.frames import (
    RECEIPT_LINE_POLARS_SCHEMA,
    RECEIPT_POLARS_SCHEMA,
    RECEIPT_TAX_DETAIL_POLARS_SCHEMA,
    ReceiptFrame,
    ReceiptLineFrame,
    ReceiptTaxDetailFrame,
)
from schemas.problems import FieldError, ProcessingWarning, field_errors_from_validation
from schemas.receipts import Receipt, ReceiptItem, ReceiptLineType

Describe = Callable[[str, dict[str, Any]], str]
"""The warning message for a failed check (by name) on a frame row."""


def parse_submissions(rows: pl.DataFrame) -> list[Submission]:
    """Parse each landed body with the same strict model as the intake, in landing order."""
    return [
        _submission(row)
        for row in rows.sort("_commit_version", "batch_position").iter_rows(named=True)
    ]


def _submission(row: dict[str, Any]) -> Submission:
    receipt, errors = _parse(row["body"])
    return Submission(
        job_id=row["job_id"],
        unique_receipt_id=receipt.unique_receipt_id if receipt else row["unique_receipt_id"],
        api_key_id=row["api_key_id"],
        change_seq=change_seq(row["_commit_version"], row["batch_position"]),
        landed_at=row["landed_at"],
        receipt=receipt,
        errors=tuple(errors),
    )


def _parse(body: str | None) -> tuple[Receipt | None, list[FieldError]]:
    if body is None:
        return None, [FieldError(path="", code="Required", message="The submission has no body.")]
    try:
        return Receipt.model_validate_json(body), []
    except ValidationError as error:
        return None, field_errors_from_validation(error)


def signed_amount(item: ReceiptItem) -> Decimal:
    """What a line adds to the receipt's total: its price, negative on a RETURN line."""
    price = item.gross_paid_price
    return -price if item.type is ReceiptLineType.RETURN else price


def convention_warnings(
    submissions: Iterable[Submission],
) -> dict[str, tuple[ProcessingWarning, ...]]:
    """Check the parsed receipts with the pandera models; the violations by job id."""
    return check_conventions(submissions)[0]


def check_conventions(
    submissions: Iterable[Submission],
) -> tuple[dict[str, tuple[ProcessingWarning, ...]], dict[str, FrameResult]]:
    """The violations by job id, and what each pandera model found (assets.frame_checks)."""
    receipts = [(s.job_id, s.receipt) for s in submissions if s.receipt is not None]
    found: dict[str, list[ProcessingWarning]] = defaultdict(list)
    checks: list[tuple[pa.DataFrameSchema, pl.DataFrame, Describe]] = [
        (
            ReceiptFrame.to_schema(),
            pl.DataFrame(list(_receipt_rows(receipts)), schema=RECEIPT_POLARS_SCHEMA),
            _describe_receipt,
        ),
        (
            ReceiptLineFrame.to_schema(),
            pl.DataFrame(list(_line_rows(receipts)), schema=RECEIPT_LINE_POLARS_SCHEMA),
            _describe_line,
        ),
        (
            ReceiptTaxDetailFrame.to_schema(),
            pl.DataFrame(list(_tax_detail_rows(receipts)), schema=RECEIPT_TAX_DETAIL_POLARS_SCHEMA),
            _describe_tax_detail,
        ),
    ]
    frames: dict[str, FrameResult] = {}
    for model, (schema, frame, describe) in zip(RECEIPT_FRAMES, checks, strict=True):
        failing: set[int] = set()
        for index, check, row in _failures(schema, frame):
            found[row["job_id"]].append(_warning(check, describe(check, row)))
            failing.add(index)
        frames[model.__name__] = FrameResult(frame.height, len(failing))
    return {job_id: tuple(warnings) for job_id, warnings in found.items()}, frames


def _receipt_rows(receipts: list[tuple[str, Receipt]]) -> Iterable[dict[str, Any]]:
    for job_id, receipt in receipts:
        types = [item.type for item in receipt.items]
        yield {
            "job_id": job_id,
            "total_gross_price": float(receipt.total_gross_price),
            "line_sum": float(sum((signed_amount(item) for item in receipt.items), Decimal(0))),
            "purchase_lines": types.count(ReceiptLineType.PURCHASE),
            "return_lines": types.count(ReceiptLineType.RETURN),
        }


def _line_rows(receipts: list[tuple[str, Receipt]]) -> Iterable[dict[str, Any]]:
    for job_id, receipt in receipts:
        for index, item in enumerate(receipt.items):
            yield {
                "job_id": job_id,
                "line_index": index,
                "line_type": item.type.value,
                "quantity": float(item.quantity),
                "gross_paid_price": float(item.gross_paid_price),
                "tax_amount": _float(item.tax_amount),
                "tax_percent": _float(item.tax_percent),
            }


def _tax_detail_rows(receipts: list[tuple[str, Receipt]]) -> Iterable[dict[str, Any]]:
    for job_id, receipt in receipts:
        for index, detail in enumerate(receipt.tax_details):
            yield {
                "job_id": job_id,
                "detail_index": index,
                "value": float(detail.value),
                "total_including_tax": _float(detail.total_including_tax),
                "total_excluding_tax": _float(detail.total_excluding_tax),
            }


def _failures(
    schema: pa.DataFrameSchema, frame: pl.DataFrame
) -> Iterable[tuple[int, str, dict[str, Any]]]:
    """(row index, check name, failing row) for every row-level failure of `frame`."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as error:
        cases = error.failure_cases.filter(pl.col("index").is_not_null())
        for case in cases.iter_rows(named=True):
            yield case["index"], str(case["check"]), frame.row(case["index"], named=True)


RECEIPT_FRAMES = (ReceiptFrame, ReceiptLineFrame, ReceiptTaxDetailFrame)
"""The pandera models receipts are checked with, in `check_conventions`' order."""

WARNING_CODES = ("LineSumMismatch", "TaxMismatch", "SignConvention")


def _warning(check: str, message: str) -> ProcessingWarning:
    return ProcessingWarning(check if check in WARNING_CODES else "InvalidValue", message)


def _describe_receipt(check: str, row: dict[str, Any]) -> str:
    if check == "LineSumMismatch":
        return (
            f"/totalGrossPrice: {_amount(row['total_gross_price'])} differs from the lines' "
            f"grossPaidPrice, returns negative, which add up to {_amount(row['line_sum'])}."
        )
    if check == "SignConvention":
        kind, sign = (
            ("RETURN", "positive") if row["purchase_lines"] == 0 else ("PURCHASE", "negative")
        )
        return f"/totalGrossPrice: a receipt of only {kind} lines should not have a {sign} total."
    return f"/: failed check {check}."


def _describe_line(check: str, row: dict[str, Any]) -> str:
    path = f"/items/{row['line_index']}"
    if check == "TaxMismatch":
        return f"{path}/taxAmount: not the tax included in grossPaidPrice at taxPercent."
    if check == "SignConvention":
        sign = "positive" if row["line_type"] == "PURCHASE" else "negative"
        return f"{path}/quantity: a {row['line_type']} line should have a {sign} quantity."
    return f"{path}: failed check {check}."


def _describe_tax_detail(check: str, row: dict[str, Any]) -> str:
    path = f"/taxDetails/{row['detail_index']}"
    if check == "TaxMismatch":
        return f"{path}/value: not totalIncludingTax - totalExcludingTax."
    return f"{path}: failed check {check}."


def _amount(value: float) -> str:
    return str(round(value, 4))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
