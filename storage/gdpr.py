"""GDPR requests (SPEC 2.4): soft delete of a contact, restore within the grace period, and the
keyed hash that names the contact in the audit trail without personal data.

A deletion hides the contact at once (`contacts.deleted_at`; every read filters on it) and records
an erasure request. Physical erasure, after the grace period or at once with `purge`, is a
separate step that will clear `contact_id` and set the request to Erased.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.contacts import DuplicateContactKeys, revive_contact
from storage.models import Contact, GdprRequest, utcnow
from storage.settings import EngageSettings

log = logging.getLogger(__name__)

HASH_KEY_FILE = "gdpr-hash.key"
"""File under ENGAGE_HOME holding the generated hash key when ENGAGE_GDPR_HASH_KEY is not set."""

ERASURE = "erasure"
EXTRACT = "extract"
REASON_REQUEST = "request"
"""An erasure asked for through the API (`DELETE /contacts/{id}`)."""
REASON_INACTIVITY = "inactivity"
"""An erasure the inactivity schedule asked for: no order, receipt or contact change for N days."""


class RequestStatus(StrEnum):
    PENDING = "Pending"
    RESTORED = "Restored"
    ERASED = "Erased"
    COMPLETED = "Completed"
    """An extract whose document is ready."""
    FAILED = "Failed"
    """An extract that could not be built; a new request is needed."""


class ContactAlreadyDeleted(Exception):
    """The contact was soft-deleted by a concurrent request between our read and our write."""


class NothingToRestore(Exception):
    """No pending erasure request of this contact is still within its grace period."""


def hash_key(settings: EngageSettings) -> bytes:
    """The HMAC key for contact hashes: ENGAGE_GDPR_HASH_KEY, else the key file under ENGAGE_HOME
    (created on first use).

    The key must never change for an installation: a hash made with another key no longer
    answers "was this contact erased?".
    """
    if settings.gdpr_hash_key is not None:
        return settings.gdpr_hash_key.get_secret_value().encode()
    return _key_from_file(settings.resolved_home / HASH_KEY_FILE)


@cache
def _key_from_file(path: Path) -> bytes:
    """Read the key file, creating it first if it does not exist.

    The key is written to a private temporary file (0600 from its creation, so it is never
    readable by others) and then hard-linked into place: linking fails if another process won the
    race, and either way every process ends up reading the same complete key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            try:
                os.link(temporary, path)
                log.info("generated the GDPR hash key file")
            except FileExistsError:
                pass
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"the GDPR hash key file {path} is empty")
    return key.encode()


def contact_hash(key: bytes, contact_id: str) -> str:
    """HMAC-SHA256 (hex) of the canonical, lowercase contact id."""
    return hmac.new(key, contact_id.lower().encode(), hashlib.sha256).hexdigest()


def request_erasure(
    session: Session,
    contact: Contact,
    key: bytes,
    grace: timedelta,
    purge: bool,
    now: datetime | None = None,
    reason: str = REASON_REQUEST,
) -> GdprRequest:
    """Soft-delete a live contact and record its erasure request; commits.

    The conditional update makes two concurrent deletions of one contact yield one request:
    the loser raises ContactAlreadyDeleted.
    """
    requests = record_erasures(
        session, [contact.id], key, grace, purge, now or utcnow(), reason=reason
    )
    if not requests:
        session.rollback()
        raise ContactAlreadyDeleted
    session.commit()
    [request] = requests
    log.info("erasure request %s recorded (purge=%s)", request.request_id, purge)
    return request


def record_erasures(
    session: Session,
    contact_ids: Sequence[str],
    key: bytes,
    grace: timedelta,
    purge: bool,
    now: datetime,
    reason: str = REASON_REQUEST,
    only_if: ColumnElement[bool] | None = None,
) -> list[GdprRequest]:
    """Soft-delete those of the contacts that are still live and record an erasure request for
    each; not committed, so that a batch (the inactivity schedule) is one transaction.

    One conditional UPDATE ... RETURNING: a contact that is no longer live (a concurrent deletion
    won) or does not meet `only_if` (checked in the same statement, e.g. "still inactive") is
    left unchanged and gets no request. Returns the requests recorded.
    """
    if not contact_ids:
        return []
    statement = update(Contact).where(Contact.id.in_(contact_ids), Contact.deleted_at.is_(None))
    if only_if is not None:
        statement = statement.where(only_if)
    hidden = session.scalars(
        statement.values(deleted_at=now)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    )
    requests = [
        GdprRequest(
            request_id=str(uuid.uuid4()),
            kind=ERASURE,
            reason=reason,
            contact_hash=contact_hash(key, contact_id),
            status=RequestStatus.PENDING.value,
            requested_at=now,
            erase_after=now if purge else now + grace,
            contact_id=contact_id,
        )
        for contact_id in sorted(hidden)
    ]
    session.add_all(requests)
    return requests


def restore_contact(session: Session, contact_id: str, now: datetime | None = None) -> Contact:
    """Undo a soft delete still within its grace period; commits and returns the live contact.

    Raises NothingToRestore if there is no such deletion, DuplicateContactKeys if another live
    contact took one of the contact's unique keys meanwhile (nothing changes then).
    """
    now = now or utcnow()
    request = session.scalar(
        select(GdprRequest)
        .where(
            GdprRequest.contact_id == contact_id,
            GdprRequest.kind == ERASURE,
            GdprRequest.status == RequestStatus.PENDING.value,
            GdprRequest.erase_after > now,
        )
        .order_by(GdprRequest.requested_at.desc())
        .limit(1)
    )
    contact = session.get(Contact, contact_id)
    if request is None or contact is None or contact.deleted_at is None:
        raise NothingToRestore
    # Conditional, so that a concurrent restore (or an erasure claiming the request) wins cleanly.
    claimed = session.execute(
        update(GdprRequest)
        .where(
            GdprRequest.request_id == request.request_id,
            GdprRequest.status == RequestStatus.PENDING.value,
        )
        .values(status=RequestStatus.RESTORED.value, restored_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise NothingToRestore
    try:
        revive_contact(session, contact)
    except DuplicateContactKeys:
        session.rollback()
        raise
    session.commit()
    log.info("erasure request %s restored", request.request_id)
    return contact


def get_request(session: Session, request_id: str) -> GdprRequest | None:
    return session.get(GdprRequest, request_id)
