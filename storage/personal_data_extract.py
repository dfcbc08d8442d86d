"""Personal data extract requests (SPEC 2.4, GDPR right of access), from Pending to Completed.

The intake records a Pending request (`request_extract`); the `extract_personal_data` Dagster job
builds the document for every due request (`storage.personal_data_document.build_extract`) and
stores it with the request (`complete_extract`), so building never holds up an HTTP call and the
work shows as a run.

The document lives in
the operational database next to its request until the contact is erased: erasure deletes it and
clears the request's `contact_id`, and the request itself, without personal data, stays as the
audit trail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.gdpr import EXTRACT, RequestStatus, contact_hash
from storage.models import (
    Contact,
    GdprRequest,
    PersonalDataExtract,
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
