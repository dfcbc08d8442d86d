"""Erasure of one contact from the operational database (SPEC 2.4).

Everything the API could serve about the contact goes: the contact row, its orders and receipts
in the views, their jobs and integration-log entries, order actions and their communications
(queued ones are thereby cancelled), loyalty entries and the documents of personal data extracts.
SQLite overwrites deleted content (`secure_delete`, see `storage.db`); `release_free_space`
then empties the write-ahead log, which still holds copies of the deleted pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlalchemy.orm import Session

from storage.gdpr_footprint import ContactFootprint
from storage.models import (
    Communication,
    Contact,
    GdprRequest,
    IntegrationLogEntry,
    Job,
    LoyaltyEntry,
    OrderAction,
    OrderView,
    PersonalDataExtract,
    ReceiptJobOutcome,
    ReceiptView,
)

CHUNK = 500
"""Ids per IN list; a contact's ids are few, but an IN list per chunk keeps statements plannable."""

UNSENT = ("Queued", "Sending")


def erase_operational(session: Session, footprint: ContactFootprint) -> dict[str, int]:
    """Delete the contact's rows; returns how many were deleted per table (no commit)."""
    contact_id = footprint.contact_id
    orders, receipts, jobs = footprint.order_ids, footprint.receipt_ids, footprint.job_ids
    actions = _action_ids(session, contact_id, orders)
    communications = or_(
        Communication.contact_id == contact_id,
        _any_in(Communication.action_id, actions),
        _any_in(Communication.order_id, orders),
    )
    counts = {
        "communicationsCancelled": _count(
            session, Communication, communications, Communication.status.in_(UNSENT)
        ),
        "communications": _delete(session, Communication, communications),
        "order_actions": _delete(
            session,
            OrderAction,
            or_(OrderAction.contact_id == contact_id, _any_in(OrderAction.order_id, orders)),
        ),
        "order_view": _delete(
            session,
            OrderView,
            or_(OrderView.contact_id == contact_id, _any_in(OrderView.order_id, orders)),
        ),
        "receipt_view": _delete(
            session,
            ReceiptView,
            or_(
                ReceiptView.contact_id == contact_id,
                _any_in(ReceiptView.unique_receipt_id, receipts),
            ),
        ),
        "receipt_job_outcomes": _delete(
            session,
            ReceiptJobOutcome,
            or_(
                _any_in(ReceiptJobOutcome.job_id, jobs),
                _any_in(ReceiptJobOutcome.unique_receipt_id, receipts),
            ),
        ),
        "integration_log": _delete(
            session,
            IntegrationLogEntry,
            or_(
                _any_in(IntegrationLogEntry.job_id, jobs),
                _any_in(IntegrationLogEntry.order_id, orders),
            ),
        ),
        "jobs": _delete(
            session,
            Job,
            or_(
                _any_in(Job.job_id, jobs),
                (Job.resource == "orders") & _any_in(Job.order_id, orders),
            ),
        ),
        "loyalty_entries": _delete(
            session,
            LoyaltyEntry,
            or_(
                LoyaltyEntry.contact_id == contact_id,
                _any_in(LoyaltyEntry.unique_receipt_id, receipts),
            ),
        ),
        "personal_data_extracts": _delete(
            session,
            PersonalDataExtract,
            PersonalDataExtract.request_id.in_(
                select(GdprRequest.request_id).where(GdprRequest.contact_id == contact_id)
            ),
        ),
        "contacts": _delete(session, Contact, Contact.id == contact_id),
    }
    return counts


def _action_ids(session: Session, contact_id: str, orders: frozenset[str]) -> frozenset[str]:
    condition = or_(OrderAction.contact_id == contact_id, _any_in(OrderAction.order_id, orders))
    return frozenset(session.scalars(select(OrderAction.action_id).where(condition)))


def _any_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN values`, as an OR of chunked IN lists (false when there are no values)."""
    ordered = sorted(values)
    if not ordered:
        return false()
    return or_(
        *(column.in_(ordered[start : start + CHUNK]) for start in range(0, len(ordered), CHUNK))
    )


def _count(session: Session, model: Any, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _delete(session: Session, model: Any, condition: ColumnElement[bool]) -> int:
    result = session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
