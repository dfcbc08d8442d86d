"""Delivery bookkeeping of communications: what is due, and each attempt before and after sending.

The attempt is committed *before* anything leaves the system (status Sending) and the outcome
after it (Sent or Failed). A delivery run that crashed in between leaves the row in Sending, and
the next run can tell "maybe sent" from "never tried": channels whose receivers deduplicate (a
webhook gets the action id as its idempotency key; the outbox sends nothing) are simply tried
again, while an e-mail that may have gone out is not sent a second time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Communication, OrderAction, utcnow

QUEUED = "Queued"
SENDING = "Sending"
SENT = "Sent"
FAILED = "Failed"


@dataclass(frozen=True)
class DueCommunication:
    """A communication to deliver, with its pinned action."""

    communication: Communication
    action: OrderAction
    interrupted: bool
    """A previous attempt crashed between recording and finishing it (it may have been sent)."""


def due_communications(session: Session, limit: int = 500) -> list[DueCommunication]:
    """Queued communications and those a crashed run left in Sending, oldest first."""
    rows = session.execute(
        select(Communication, OrderAction)
        .join(OrderAction, OrderAction.action_id == Communication.action_id)
        .where(Communication.status.in_((QUEUED, SENDING)))
        .order_by(Communication.id)
        .limit(limit)
    ).tuples()
    return [
        DueCommunication(communication, action, interrupted=communication.status == SENDING)
        for communication, action in rows
    ]


def queue_fingerprint(session: Session) -> str | None:
    """A short text that changes whenever the set of due communications changes; None when
    nothing is due. A delivery run that made no progress leaves it unchanged, so a sensor keyed
    on it does not relaunch a run that keeps failing the same way."""
    count, first, last, attempts = session.execute(
        select(
            func.count(),
            func.min(Communication.id),
            func.max(Communication.id),
            func.coalesce(func.sum(Communication.attempts), 0),
        ).where(Communication.status.in_((QUEUED, SENDING)))
    ).one()
    if not count:
        return None
    text = f"{count}:{first}:{last}:{attempts}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_attempt(
    session: Session,
    communication_id: int,
    *,
    recipient: str | None,
    subject: str,
    body: str,
    language: str | None,
) -> None:
    """Before sending: the rendered message and one more attempt, committed."""
    session.execute(
        update(Communication)
        .where(Communication.id == communication_id)
        .values(
            status=SENDING,
            attempts=Communication.attempts + 1,
            recipient=recipient,
            subject=subject,
            body=body,
            language=language,
            updated_at=utcnow(),
        )
    )
    session.commit()


def record_sent(session: Session, communication_id: int, retries: int = 0) -> None:
    """After sending; `retries` counts the attempts a channel made beyond the recorded one."""
    at = utcnow()
    session.execute(
        update(Communication)
        .where(Communication.id == communication_id)
        .values(
            status=SENT,
            sent_at=at,
            last_error=None,
            attempts=Communication.attempts + retries,
            updated_at=at,
        )
    )
    session.commit()


def record_failure(session: Session, communication_id: int, error: str, retries: int = 0) -> None:
    """A final failure: recorded, never retried by later runs."""
    session.execute(
        update(Communication)
        .where(Communication.id == communication_id)
        .values(
            status=FAILED,
            last_error=error,
            attempts=Communication.attempts + retries,
            updated_at=utcnow(),
        )
    )
    session.commit()
