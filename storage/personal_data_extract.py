"""Personal data extracts (SPEC 2.4, GDPR right of access): everything stored about one contact as
one JSON document.

The intake records a Pending request (`request_extract`); the `extract_personal_data` Dagster job
builds the document for every due request (`build_extract`) and stores it with the request
(`complete_extract`), so building never holds up an HTTP call and the work shows as a run.

What "everything about the contact" is comes from `storage.gdpr_footprint`, the same footprint
erasure removes, so an extract never shows less than erasure would delete. The document lives in
the operational database next to its request until the contact is erased: erasure deletes it and
clears the request's `contact_id`, and the request itself, without personal data, stays as the
audit trail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from schemas.actions import CommunicationOut
from schemas.common import utc_iso
from schemas.contacts import ContactOut
from schemas.tables import ORDER_VERSIONS, RECEIPTS
from storage.gdpr import EXTRACT, RequestStatus, contact_hash
from storage.gdpr_footprint import ContactFootprint, contact_footprint
from storage.integration_log import entry_document
from storage.lake import Lake
from storage.models import (
    Communication,
    Contact,
    GdprRequest,
    IntegrationLogEntry,
    LoyaltyEntry,
    OrderAction,
    PersonalDataExtract,
    ReceiptView,
    utcnow,
)

log = logging.getLogger(__name__)

CHUNK = 500
"""Ids per `IN (...)` list: far below every database's parameter limit."""


class ExtractNotBuilt(Exception):
    """The request is no longer a pending extract of a live contact (erased or soft-deleted since
    it was requested): there is nothing the extract may show any more."""


def request_extract(
    session: Session, contact: Contact, key: bytes, now: datetime | None = None
) -> GdprRequest:
    """Record a Pending extract request for a live contact; commits.

    `contact_id` is kept so the job can find the contact; `contact_hash` names it in the audit
    trail after erasure has cleared the id. Every call is a request of its own: an officer who asks
    again gets a fresh document.
    """
    request = GdprRequest(
        request_id=str(uuid.uuid4()),
        kind=EXTRACT,
        contact_hash=contact_hash(key, contact.id),
        status=RequestStatus.PENDING.value,
        requested_at=now or utcnow(),
        erase_after=None,
        contact_id=contact.id,
    )
    session.add(request)
    session.commit()
    log.info("extract request %s recorded", request.request_id)
    return request


def due_extracts(session: Session) -> list[GdprRequest]:
    """Pending extract requests, oldest first."""
    return list(
        session.scalars(
            select(GdprRequest)
            .where(GdprRequest.kind == EXTRACT, GdprRequest.status == RequestStatus.PENDING.value)
            .order_by(GdprRequest.requested_at, GdprRequest.request_id)
        )
    )


def pending_fingerprint(session: Session) -> str | None:
    """A short hash of the pending extract request ids; None when none is pending.

    It changes when a request arrives or is settled, so a sensor keyed on it launches one run per
    set of pending requests and never relaunches a run for the same set.
    """
    ids = session.scalars(
        select(GdprRequest.request_id)
        .where(GdprRequest.kind == EXTRACT, GdprRequest.status == RequestStatus.PENDING.value)
        .order_by(GdprRequest.request_id)
    ).all()
    if not ids:
        return None
    return hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]


def start_extract(session: Session, request_id: str, run_id: str) -> None:
    """Record which run works on the request, linking the audit trail to the Dagster run;
    commits."""
    session.execute(
        update(GdprRequest)
        .where(GdprRequest.request_id == request_id)
        .values(run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def extract_contact(session: Session, request: GdprRequest) -> Contact:
    """The live contact an extract request is about; ExtractNotBuilt if it was erased or
    soft-deleted since (a hidden contact is hidden from extracts too)."""
    contact = session.get(Contact, request.contact_id) if request.contact_id else None
    if contact is None or contact.deleted_at is not None:
        raise ExtractNotBuilt
    return contact


def build_extract(
    lake: Lake, session: Session, contact: Contact, now: datetime | None = None
) -> dict[str, Any]:
    """The extract document: the contact, every order with all its versions, receipts,
    communications, loyalty ledger and integration-log entries about them.

    Each part has the shape the API serves it in where the API serves it (contact,
    communications, loyalty, integration log); orders and receipts are the stored canonical
    documents, the same JSON the order and receipt endpoints answer.
    """
    footprint = contact_footprint(lake, session, contact)
    return {
        "generatedAt": utc_iso(now or utcnow()),
        "contact": ContactOut.of(contact).model_dump(mode="json"),
        "orders": _orders(lake, footprint),
        "receipts": _receipts(lake, session, footprint),
        "communications": _communications(session, footprint),
        "loyalty": _loyalty(session, contact.id),
        "integrationLog": _integration_log(session, footprint),
    }


def complete_extract(
    session: Session, request_id: str, document: dict[str, Any], now: datetime | None = None
) -> int:
    """Store the document and mark the request Completed, in one transaction; commits and
    returns the document's size in bytes.

    Raises ExtractNotBuilt, storing nothing, when the request is no longer a pending extract of
    a live contact: erasure (or a soft delete) got there while the document was being built, and
    the extract must not bring the data back. The conditional update decides that race in the
    database, on SQLite and PostgreSQL alike.
    """
    now = now or utcnow()
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    size = len(text.encode())
    claimed = session.execute(
        update(GdprRequest)
        .where(
            GdprRequest.request_id == request_id,
            GdprRequest.kind == EXTRACT,
            GdprRequest.status == RequestStatus.PENDING.value,
            _of_live_contact(),
        )
        .values(status=RequestStatus.COMPLETED.value, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ExtractNotBuilt
    session.add(
        PersonalDataExtract(request_id=request_id, document=text, size_bytes=size, created_at=now)
    )
    session.commit()
    return size


def fail_extract(session: Session, request_id: str) -> None:
    """Mark a pending extract Failed; commits. The officer asks again (a new request)."""
    session.execute(
        update(GdprRequest)
        .where(
            GdprRequest.request_id == request_id,
            GdprRequest.kind == EXTRACT,
            GdprRequest.status == RequestStatus.PENDING.value,
        )
        .values(status=RequestStatus.FAILED.value)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def get_extract(session: Session, request_id: str) -> PersonalDataExtract | None:
    """The stored document of a completed extract; None if there is none (or it was erased)."""
    return session.get(PersonalDataExtract, request_id)


def extract_available(session: Session, request_id: str) -> bool:
    """Whether the request has a stored document, without loading the document."""
    found = session.scalar(
        select(PersonalDataExtract.request_id).where(PersonalDataExtract.request_id == request_id)
    )
    return found is not None


def _of_live_contact() -> ColumnElement[bool]:
    live = select(Contact.id).where(Contact.deleted_at.is_(None))
    return GdprRequest.contact_id.in_(live.scalar_subquery())


def _orders(lake: Lake, footprint: ContactFootprint) -> list[dict[str, Any]]:
    """Every version of each of the contact's orders, oldest first (landing order), deletions
    included: the history is personal data too, not just the current state. A version reads as
    `GET /orders/{orderId}` answered it (document, versionTag, contactId), plus its place in the
    history."""
    if not footprint.order_ids:
        return []
    versions = (
        lake.scan(ORDER_VERSIONS)
        .filter(pl.col("order_id").is_in(sorted(footprint.order_ids)))
        .select(
            "order_id",
            "change_seq",
            "version_tag",
            "version_number",
            "is_deleted",
            "processed_at",
            "contact_id",
            "document",
        )
        .sort("order_id", "change_seq")
        .collect()
    )
    orders: dict[str, list[dict[str, Any]]] = {}
    for row in versions.iter_rows(named=True):
        version = json.loads(row["document"]) if row["document"] else {}
        version.update(
            versionTag=row["version_tag"],
            contactId=row["contact_id"],
            versionNumber=row["version_number"],
            isDeleted=row["is_deleted"],
            processedAt=_lake_timestamp(row["processed_at"]),
        )
        orders.setdefault(row["order_id"], []).append(version)
    return [{"orderId": order_id, "versions": history} for order_id, history in orders.items()]


def _receipts(lake: Lake, session: Session, footprint: ContactFootprint) -> list[dict[str, Any]]:
    """The registered receipts in landing order, as `GET /receipts/{id}` answers them (the
    canonical document and contactId); the receipt view fills in any the lake scan did not
    return (it is derived from the same rows)."""
    if not footprint.receipt_ids:
        return []
    registered = (
        lake.scan(RECEIPTS)
        .filter(pl.col("unique_receipt_id").is_in(sorted(footprint.receipt_ids)))
        .select("unique_receipt_id", "change_seq", "contact_id", "document")
        .sort("change_seq")
        .collect()
    )
    found: dict[str, tuple[str, str | None]] = {
        row["unique_receipt_id"]: (row["document"], row["contact_id"])
        for row in registered.iter_rows(named=True)
        if row["document"]
    }
    missing = sorted(footprint.receipt_ids - found.keys())
    for chunk in _chunks(missing):
        served = session.execute(
            select(ReceiptView.unique_receipt_id, ReceiptView.document, ReceiptView.contact_id)
            .where(ReceiptView.unique_receipt_id.in_(chunk))
            .order_by(ReceiptView.created_at)
        ).tuples()
        found.update((receipt_id, (document, contact)) for receipt_id, document, contact in served)
    return [
        {**json.loads(document), "contactId": contact_id} for document, contact_id in found.values()
    ]


def _communications(session: Session, footprint: ContactFootprint) -> list[dict[str, Any]]:
    """Messages to the contact and messages about its orders, as `GET /communications` shows
    them, plus the action's `data` (it may carry personal values such as a loyalty level)."""
    conditions: list[ColumnElement[bool]] = [Communication.contact_id == footprint.contact_id]
    conditions += [
        Communication.order_id.in_(chunk) for chunk in _chunks(sorted(footprint.order_ids))
    ]
    found: dict[int, tuple[Communication, OrderAction]] = {}
    for condition in conditions:
        rows = session.execute(
            select(Communication, OrderAction)
            .join(OrderAction, OrderAction.action_id == Communication.action_id)
            .where(condition)
        ).tuples()
        found.update((communication.id, (communication, action)) for communication, action in rows)
    return [_communication(*found[key]) for key in sorted(found)]


def _communication(communication: Communication, action: OrderAction) -> dict[str, Any]:
    shown = CommunicationOut.of(communication, action.action).model_dump(mode="json")
    shown["data"] = json.loads(action.data) if action.data else None
    return shown


def _loyalty(session: Session, contact_id: str) -> list[dict[str, Any]]:
    """The whole ledger, oldest first, in the shape of `GET /contacts/{id}/loyalty`."""
    entries = session.scalars(
        select(LoyaltyEntry)
        .where(LoyaltyEntry.contact_id == contact_id)
        .order_by(LoyaltyEntry.change_seq, LoyaltyEntry.entry_number, LoyaltyEntry.entry_id)
    )
    return [
        {
            "entryId": entry.entry_id,
            "uniqueReceiptId": entry.unique_receipt_id,
            "type": entry.entry_type,
            "points": entry.points,
            "balanceAfter": entry.balance_after,
            "occurredAt": utc_iso(entry.occurred_at),
        }
        for entry in entries
    ]


def _integration_log(session: Session, footprint: ContactFootprint) -> list[dict[str, Any]]:
    """Entries of the footprint's jobs or naming one of its orders, oldest first, in the shape
    of `GET /integration-log`."""
    conditions: list[ColumnElement[bool]] = [
        IntegrationLogEntry.job_id.in_(chunk) for chunk in _chunks(sorted(footprint.job_ids))
    ]
    conditions += [
        IntegrationLogEntry.order_id.in_(chunk) for chunk in _chunks(sorted(footprint.order_ids))
    ]
    found: dict[int, IntegrationLogEntry] = {}
    for condition in conditions:
        found.update(
            (entry.id, entry)
            for entry in session.scalars(select(IntegrationLogEntry).where(condition))
        )
    return [entry_document(found[key]) for key in sorted(found)]


def _lake_timestamp(value: datetime) -> str:
    """Delta timestamps are UTC; polars may hand them over without the zone attached."""
    return utc_iso(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
