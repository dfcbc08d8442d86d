"""Loyalty entries as the API serves them: a contact's balance, bonus checks and ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import LoyaltyEntry
from storage.paging import fetch_page


@dataclass(frozen=True)
class LoyaltyRow:
    entry_id: str
    contact_id: str
    unique_receipt_id: str
    entry_type: str
    points: int
    balance_after: int
    change_seq: int
    entry_number: int
    occurred_at: datetime


@dataclass(frozen=True)
class LoyaltySummary:
    balance: int
    bonus_checks_issued: int


def publish_entries(session: Session, rows: Sequence[LoyaltyRow]) -> None:
    """Insert entries not yet published (a re-run publishes the same entries again)."""
    ids = [row.entry_id for row in rows]
    existing: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        existing.update(
            session.scalars(select(LoyaltyEntry.entry_id).where(LoyaltyEntry.entry_id.in_(chunk)))
        )
    session.add_all(LoyaltyEntry(**row.__dict__) for row in rows if row.entry_id not in existing)


def summary(session: Session, contact_id: str) -> LoyaltySummary:
    balance, checks = session.execute(
        select(
            func.coalesce(func.sum(LoyaltyEntry.points), 0),
            func.count().filter(LoyaltyEntry.entry_type == "BonusCheckIssued"),
        ).where(LoyaltyEntry.contact_id == contact_id)
    ).one()
    return LoyaltySummary(balance=int(balance), bonus_checks_issued=int(checks))


def list_entries(
    session: Session, contact_id: str, offset: int, count: int
) -> tuple[list[LoyaltyEntry], int]:
    """Newest first."""
    query = select(LoyaltyEntry).where(LoyaltyEntry.contact_id == contact_id)
    order = (LoyaltyEntry.change_seq.desc(), LoyaltyEntry.entry_number.desc())
    return fetch_page(session, query, order, offset, count)
