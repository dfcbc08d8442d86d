"""The receipt view: processed receipts as the GET endpoints serve them, and what settled receipt
jobs add to their status (the receipt, whether it was a duplicate, warnings).

Receipts never change once registered, so publishing only ever inserts; a re-run after a crash
publishes the same rows again and they are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.contacts import served_contact
from storage.models import ReceiptJobOutcome, ReceiptView
from storage.paging import fetch_page

CHUNK = 500
"""Ids per IN (...) query: well below every database's parameter limit."""

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class ReceiptViewRow:
    unique_receipt_id: str
    contact_id: str | None
    created_at: datetime
    total_gross_price: float
    currency: str | None
    store_external_id: str | None
    document: str
    processed_at: datetime


@dataclass(frozen=True)
class ReceiptJobOutcomeRow:
    job_id: str
    unique_receipt_id: str
    duplicate: bool
    warnings: str | None
    """JSON list of {code, message}, or None."""


def publish(session: Session, rows: Sequence[ReceiptViewRow]) -> None:
    """Insert receipts not yet in the view; a receipt already there is left as it is."""
    fresh = _not_stored(session, ReceiptView.unique_receipt_id, rows, "unique_receipt_id")
    session.add_all(ReceiptView(**row.__dict__) for row in fresh)


def record_job_outcomes(session: Session, rows: Sequence[ReceiptJobOutcomeRow]) -> None:
    """Insert the outcome details of jobs not yet recorded (idempotent by job id)."""
    fresh = _not_stored(session, ReceiptJobOutcome.job_id, rows, "job_id")
    session.add_all(ReceiptJobOutcome(**row.__dict__) for row in fresh)


def get_receipt(session: Session, unique_receipt_id: str) -> ReceiptView | None:
    """The receipt as readers may see it: None if unknown or if its contact is soft-deleted."""
    query = select(ReceiptView).where(
        ReceiptView.unique_receipt_id == unique_receipt_id,
        served_contact(ReceiptView.contact_id),
    )
    return session.scalar(query)


def get_job_outcome(session: Session, job_id: str) -> ReceiptJobOutcome | None:
    return session.get(ReceiptJobOutcome, job_id)


def list_for_contact(
    session: Session, contact_id: str, offset: int, count: int
) -> tuple[list[ReceiptView], int]:
    """The contact's receipts, newest first."""
    query = select(ReceiptView).where(ReceiptView.contact_id == contact_id)
    order = (ReceiptView.created_at.desc(), ReceiptView.unique_receipt_id.desc())
    return fetch_page(session, query, order, offset, count)


def _not_stored(
    session: Session, key: InstrumentedAttribute[Any], rows: Sequence[RowT], attribute: str
) -> list[RowT]:
    """The rows whose key is not yet in the key's table (each key once: its first row)."""
    by_key: dict[Any, RowT] = {}
    for row in rows:
        by_key.setdefault(getattr(row, attribute), row)
    stored: set[Any] = set()
    for chunk in _chunks(list(by_key)):
        stored.update(session.scalars(select(key).where(key.in_(chunk))))
    return [row for row_key, row in by_key.items() if row_key not in stored]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
