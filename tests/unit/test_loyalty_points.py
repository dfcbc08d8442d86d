"""Loyalty points: earned, deducted by returns, bonus checks at the threshold, in landing order."""

from __future__ import annotations

from datetime import UTC, datetime

from assets.loyalty.points import BonusAmount, LoyaltyPolicy, ledger_entries, points_for

POLICY = LoyaltyPolicy(points_per_unit=1.0, bonus_check_threshold=500)
WHEN = datetime(2025, 11, 22, 17, 5, tzinfo=UTC)


def amount(receipt: str, value: float, seq: int, contact: str = "c-1") -> BonusAmount:
    return BonusAmount(receipt, contact, seq, WHEN, value)


def test_points_are_whole_and_truncated_toward_zero() -> None:
    assert points_for(109.359, POLICY) == 109
    assert points_for(-11.223, POLICY) == -11
    assert points_for(0.99, POLICY) == 0
    assert points_for(100.0, LoyaltyPolicy(points_per_unit=0.1, bonus_check_threshold=0)) == 10


def test_purchase_earns_and_return_deducts_from_the_balance() -> None:
    entries = ledger_entries([amount("R1", 109.36, 1), amount("R2", -11.22, 2)], {}, POLICY)
    assert [(e.entry_id, e.entry_type, e.points, e.balance_after) for e in entries] == [
        ("R1:Earned", "Earned", 109, 109),
        ("R2:Deducted", "Deducted", -11, 98),
    ]


def test_a_bonus_check_is_issued_each_time_the_balance_reaches_the_threshold() -> None:
    entries = ledger_entries([amount("R1", 1130.0, 1)], {"c-1": 400}, POLICY)
    assert [(e.entry_id, e.entry_type, e.points, e.balance_after) for e in entries] == [
        ("R1:Earned", "Earned", 1130, 1530),
        ("R1:BonusCheckIssued:1", "BonusCheckIssued", -500, 1030),
        ("R1:BonusCheckIssued:2", "BonusCheckIssued", -500, 530),
        ("R1:BonusCheckIssued:3", "BonusCheckIssued", -500, 30),
    ]


def test_receipts_apply_in_landing_order_per_contact() -> None:
    entries = ledger_entries(
        [amount("late", 10.0, 5), amount("early", 20.0, 1), amount("other", 7.0, 3, contact="c-2")],
        {},
        POLICY,
    )
    assert [(e.unique_receipt_id, e.balance_after) for e in entries] == [
        ("early", 20),
        ("other", 7),
        ("late", 30),
    ]


def test_zero_point_receipts_make_no_entry_and_same_input_gives_same_entries() -> None:
    receipts = [amount("R1", 0.5, 1), amount("R2", 50.0, 2)]
    first = ledger_entries(receipts, {}, POLICY)
    assert [entry.unique_receipt_id for entry in first] == ["R2"]
    assert ledger_entries(receipts, {}, POLICY) == first
