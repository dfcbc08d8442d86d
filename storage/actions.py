"""Order actions and their communications in the operational database.

Both doors of an action use `queue_action`: the intake for `POST /orders/{orderId}/action`, and
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

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage.models import Communication, Contact, OrderAction

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


def queue_action(
    session: Session,
    *,
    action_id: str,
    order_id: str,
    version_tag: str,
    action: str,
    language: str | None,
    data: Mapping[str, Any] | None,
    contact_id: str,
    source: ActionSource,
    job_id: str | None,
    api_key_id: str,
    document: str,
    channels: Sequence[str],
) -> OrderAction:
    """Insert an action pinned to `document` (the order version `version_tag` as Orders v3 JSON)
    and one Queued communication per channel; flushed, not committed (the caller owns the
    transaction).

    An embedded action is idempotent on its `job_id`: queuing the same job's action again (a
    re-run after a crash) returns the action already there and inserts nothing. Concurrent
    queuing of one job cannot duplicate it either: `job_id` is unique, so the second
    transaction fails on commit and its retry finds the first.
    """
    if job_id is not None:
        existing = session.scalar(select(OrderAction).where(OrderAction.job_id == job_id))
        if existing is not None:
            return existing
    if not channels:
        raise ValueError("an action needs at least one channel")
    queued = OrderAction(
        action_id=action_id,
        order_id=order_id,
        version_tag=version_tag,
        action=action,
        language=language,
        data=None if data is None else json.dumps(data, ensure_ascii=True, allow_nan=False),
        contact_id=contact_id,
        source=source,
        job_id=job_id,
        api_key_id=api_key_id,
        document=document,
    )
    session.add(queued)
    session.flush()  # the communications refer to it (foreign key)
    session.add_all(_communication(queued, channel) for channel in dict.fromkeys(channels))
    session.flush()
    return queued


def _communication(queued: OrderAction, channel: str) -> Communication:
    return Communication(
        action_id=queued.action_id,
        channel=channel,
        status=CommunicationStatus.QUEUED.value,
        attempts=0,
        order_id=queued.order_id,
        contact_id=queued.contact_id,
        version_tag=queued.version_tag,
    )


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
