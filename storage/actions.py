"""Order actions and their communications in the operational database.

Both doors of an action use `queue_actions`: the intake for `POST /orders/{orderId}/action`, and
the order pipeline for actions embedded in a change, in the same transaction that settles the
change's job. Queuing writes the action, with the order version it is pinned to, and one
`Queued` communication per channel; delivery (rendering, sending) takes it from there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from storage.models import Communication, Contact, OrderAction, utcnow

ActionSource = Literal["api", "embedded"]
"""`api`: POST /orders/{orderId}/action; `embedded`: the `action` inside an order change."""


class CommunicationStatus(StrEnum):
    """Queued → Sending (recorded before anything is sent) → Sent or Failed."""

    QUEUED = "Queued"
    SENDING = "Sending"
    SENT = "Sent"
    FAILED = "Failed"


@dataclass(frozen=True)
class ListedCommunication:
    """A communication with the name of its action (kept on the action, not copied)."""

    communication: Communication
    action: str


@dataclass(frozen=True)
class NewAction:
    """An action to queue, pinned to `document` (the order version `version_tag` as Orders v3
    JSON), with one Queued communication per channel."""

    action_id: str
    order_id: str
    version_tag: str
    action: str
    language: str | None
    data: Mapping[str, Any] | None
    contact_id: str
    source: ActionSource
    job_id: str | None
    api_key_id: str
    document: str
    channels: Sequence[str]


def queue_action(session: Session, **fields: Any) -> OrderAction:
    """Queue one action (`NewAction`'s fields); returns it, or the one already queued for the
    same job. Flushed, not committed (the caller owns the transaction)."""
    action = NewAction(**fields)
    queue_actions(session, [action])
    if action.job_id is not None:
        queued = session.scalar(select(OrderAction).where(OrderAction.job_id == action.job_id))
    else:
        queued = session.get(OrderAction, action.action_id)
    assert queued is not None
    return queued


def queue_actions(session: Session, actions: Sequence[NewAction]) -> int:
    """Insert the actions and their communications in two statements; returns how many were
    queued. Not committed (the caller owns the transaction).

    An embedded action is idempotent on its `job_id`: queuing the same job's action again (a
    re-run after a crash) inserts nothing. Concurrent queuing of one job cannot duplicate it
    either: `job_id` is unique, so the second transaction fails on commit and its retry skips it.
    """
    if any(not action.channels for action in actions):
        raise ValueError("an action needs at least one channel")
    queued_jobs = _queued_jobs(session, [a.job_id for a in actions if a.job_id is not None])
    new = [a for a in actions if a.job_id is None or a.job_id not in queued_jobs]
    if not new:
        return 0
    session.execute(insert(OrderAction), [_action_row(action) for action in new])
    session.execute(
        insert(Communication),
        [
            _communication_row(action, channel)
            for action in new
            for channel in dict.fromkeys(action.channels)
        ],
    )
    return len(new)


def _queued_jobs(session: Session, job_ids: list[str]) -> set[str]:
    queued: set[str] = set()
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start : start + 500]
        queued.update(
            session.scalars(select(OrderAction.job_id).where(OrderAction.job_id.in_(chunk)))
        )
    return queued


def _action_row(action: NewAction) -> dict[str, Any]:
    data = action.data
    return {
        "action_id": action.action_id,
        "order_id": action.order_id,
        "version_tag": action.version_tag,
        "action": action.action,
        "language": action.language,
        "data": None if data is None else json.dumps(data, ensure_ascii=True, allow_nan=False),
        "contact_id": action.contact_id,
        "source": action.source,
        "job_id": action.job_id,
        "api_key_id": action.api_key_id,
        "document": action.document,
        "created_at": utcnow(),
    }


def _communication_row(action: NewAction, channel: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "action_id": action.action_id,
        "channel": channel,
        "status": CommunicationStatus.QUEUED.value,
        "attempts": 0,
        "order_id": action.order_id,
        "contact_id": action.contact_id,
        "version_tag": action.version_tag,
        "created_at": now,
        "updated_at": now,
    }


def get_action(session: Session, action_id: str) -> OrderAction | None:
    return session.get(OrderAction, action_id)


def list_communications(
    session: Session,
    *,
    contact_id: str | None = None,
    order_id: str | None = None,
    action_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    count: int = 10,
) -> tuple[list[ListedCommunication], int]:
    """One page of communications, newest first, and how many match in all.

    Communications of a soft-deleted contact are left out: a deleted contact is hidden
    everywhere until it is erased (SPEC 2.4).
    """
    query = _communications_query(contact_id, order_id, action_id, status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.execute(
        query.order_by(Communication.created_at.desc(), Communication.id.desc())
        .offset(offset)
        .limit(count)
    )
    rows = [ListedCommunication(communication, action) for communication, action in page.tuples()]
    return rows, total


def _communications_query(
    contact_id: str | None, order_id: str | None, action_id: str | None, status: str | None
) -> Select[tuple[Communication, str]]:
    query = (
        select(Communication, OrderAction.action)
        .join(OrderAction, OrderAction.action_id == Communication.action_id)
        .join(Contact, Contact.id == Communication.contact_id)
        .where(Contact.deleted_at.is_(None))
    )
    filters = (
        (Communication.contact_id, contact_id),
        (Communication.order_id, order_id),
        (Communication.action_id, action_id),
        (Communication.status, status),
    )
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query
