"""Loyalty points from receipts: earned on bonus-awarding purchases, deducted by returns, and a
bonus check issued each time a contact's balance reaches the threshold.

Pure and deterministic: the same receipts and opening balances always give the same entries, so a
re-run after a crash writes exactly what the first attempt would have.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LoyaltyPolicy:
    points_per_unit: float
    """Points per unit of group currency spent on lines with awardsBonus."""
    bonus_check_threshold: int
    """A bonus check is issued, and this many points used, whenever the balance reaches it."""


@dataclass(frozen=True)
class BonusAmount:
    """What one receipt of one contact contributes: its bonus-awarding amount (signed)."""

    unique_receipt_id: str
    contact_id: str
    change_seq: int
    occurred_at: datetime
    amount_group_currency: float


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str
    contact_id: str
    unique_receipt_id: str
    change_seq: int
    entry_number: int
    entry_type: str
    points: int
    balance_after: int
    amount_group_currency: float | None
    occurred_at: datetime


def points_for(amount_group_currency: float, policy: LoyaltyPolicy) -> int:
    """Whole points, truncated toward zero, so a return takes back what its purchase gave."""
    return math.trunc(round(amount_group_currency * policy.points_per_unit, 6))


def ledger_entries(
    amounts: Iterable[BonusAmount], opening_balances: Mapping[str, int], policy: LoyaltyPolicy
) -> list[LedgerEntry]:
    """Entries for receipts in landing order, continuing each contact's balance."""
    balances = dict(opening_balances)
    entries: list[LedgerEntry] = []
    for amount in sorted(amounts, key=lambda amount: amount.change_seq):
        points = points_for(amount.amount_group_currency, policy)
        if points == 0:
            continue
        balance = balances.get(amount.contact_id, 0) + points
        kind = "Earned" if points > 0 else "Deducted"
        entries.append(_entry(amount, kind, points, balance, amount.amount_group_currency))
        checks = 0
        while policy.bonus_check_threshold > 0 and balance >= policy.bonus_check_threshold:
            checks += 1
            balance -= policy.bonus_check_threshold
            entries.append(
                _entry(
                    amount, "BonusCheckIssued", -policy.bonus_check_threshold, balance, None, checks
                )
            )
        balances[amount.contact_id] = balance
    return entries


def _entry(
    amount: BonusAmount,
    kind: str,
    points: int,
    balance: int,
    value: float | None,
    number: int = 0,
) -> LedgerEntry:
    suffix = f"{kind}:{number}" if number else kind
    return LedgerEntry(
        entry_id=f"{amount.unique_receipt_id}:{suffix}",
        contact_id=amount.contact_id,
        unique_receipt_id=amount.unique_receipt_id,
        change_seq=amount.change_seq,
        entry_number=number,
        entry_type=kind,
        points=points,
        balance_after=balance,
        amount_group_currency=value,
        occurred_at=amount.occurred_at,
    )
