"""The personal data extract document (SPEC 2.4, GDPR right of access): everything stored about
one contact as one JSON document.

What "everything about the contact" is comes from `storage.gdpr_footprint`, the same footprint
erasure removes, so an extract never shows less than erasure would delete. Each part has the shape
the API serves it in, so a contact reads its data as the integrator sees it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from schemas.actions import CommunicationOut
from schemas.common import utc_iso
from schemas.contacts import ContactOut
from schemas.tables import ORDER_VERSIONS, RECEIPTS
from storage.gdpr_footprint import ContactFootprint, contact_footprint
from storage.integration_log import entry_document
from storage.lake import Lake
from storage.models import (
    Communication,
    Contact,
    IntegrationLogEntry,
    LoyaltyEntry,
    OrderAction,
    ReceiptView,
    utcnow,
)

CHUNK = 500
"""Ids per `IN (...)` list: far below every database's parameter limit."""


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
