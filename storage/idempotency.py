"""Idempotency keys: a POST retried with the same `Idempotency-Key` gets the first answer again.

An integrator whose connection broke after sending cannot know whether the payload landed. With
an idempotency key it simply sends again: the same key and body replay the first answer (the same
job), without landing twice; the same key with another body is refused. Keys are remembered for
24 hours. A request being answered holds its key; a second one with that key meanwhile is told to
retry shortly. If the intake died while answering, the key is free again after a minute (the
payload may then land twice, as without a key; processing treats an identical order or receipt as
a no-op).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from storage.db import upsert
from storage.models import IdempotencyRecord, utcnow

REMEMBERED_FOR = timedelta(hours=24)
ANSWER_TIMEOUT = timedelta(minutes=1)
"""How long a key stays held by a request that has not been answered (a crashed intake)."""


class ClaimResult(enum.Enum):
    NEW = "new"
    """The caller holds the key: answer the request, then `complete` or `release`."""
    REPLAY = "replay"
    """Answered before with this body: send that answer again."""
    MISMATCH = "mismatch"
    """Used before with another body."""
    IN_PROGRESS = "in_progress"
    """Another request with this key is being answered."""


@dataclass(frozen=True)
class Claim:
    result: ClaimResult
    record: IdempotencyRecord | None = None


def claim(session: Session, digest: str, key: str, request_hash: str) -> Claim:
    """Take the key for this request, or say why not. Commit before answering the request."""
    now = utcnow()
    table = IdempotencyRecord.__table__
    # RETURNING, not rowcount: through the ORM session PostgreSQL's rowcount reads -1 here.
    inserted = session.execute(
        upsert(session, table).on_conflict_do_nothing().returning(table.c.api_key_digest),
        {
            "api_key_digest": digest,
            "idempotency_key": key,
            "request_hash": request_hash,
            "created_at": now,
        },
    )
    if inserted.first() is not None:
        return Claim(ClaimResult.NEW)
    record = session.get(IdempotencyRecord, (digest, key), populate_existing=True)
    if record is None:  # deleted in between: try once more
        return claim(session, digest, key, request_hash)
    if _abandoned(record, now) and _take_over(session, record, request_hash, now):
        return Claim(ClaimResult.NEW)
    if record.request_hash != request_hash:
        return Claim(ClaimResult.MISMATCH, record)
    if record.status_code is None:
        return Claim(ClaimResult.IN_PROGRESS, record)
    return Claim(ClaimResult.REPLAY, record)


def complete(
    session: Session, digest: str, key: str, status_code: int, body: str, location: str | None
) -> None:
    """Remember the answer of the request that holds the key."""
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.api_key_digest == digest, IdempotencyRecord.idempotency_key == key)
        .values(status_code=status_code, response_body=body, location=location)
    )


def release(session: Session, digest: str, key: str) -> None:
    """Forget the key: the request was refused (4xx, 5xx), so a corrected retry may use it."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_digest == digest,
            IdempotencyRecord.idempotency_key == key,
            IdempotencyRecord.status_code.is_(None),
        )
    )


def purge_expired(session: Session) -> int:
    """Delete keys older than REMEMBERED_FOR; returns how many."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - REMEMBERED_FOR)
    )
    return result.rowcount  # type: ignore[attr-defined]


def _abandoned(record: IdempotencyRecord, now: datetime) -> bool:
    age = now - record.created_at
    return age >= REMEMBERED_FOR or (record.status_code is None and age >= ANSWER_TIMEOUT)


def _take_over(
    session: Session, record: IdempotencyRecord, request_hash: str, now: datetime
) -> bool:
    """Start afresh on an expired or abandoned key; False if another request did first."""
    taken = session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.api_key_digest == record.api_key_digest,
            IdempotencyRecord.idempotency_key == record.idempotency_key,
            IdempotencyRecord.created_at == record.created_at,
        )
        .values(
            request_hash=request_hash,
            status_code=None,
            response_body=None,
            location=None,
            created_at=now,
        )
        .returning(IdempotencyRecord.api_key_digest)
    )
    return taken.first() is not None
