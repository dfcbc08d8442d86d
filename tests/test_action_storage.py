"""Queuing actions and listing communications in the operational database (SQLite and
PostgreSQL): the embedded door is idempotent on its job, the API door queues every request."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.actions import list_communications, queue_action
from storage.contacts import create_contact
from storage.db import migrate, session_scope
from storage.models import Communication, Contact, OrderAction, utcnow

DOCUMENT = json.dumps({"orderId": "ST-1", "status": "InProgress"})


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


@pytest.fixture
def contact_id(url: str) -> str:
    with session_scope(url) as session:
        return create_contact(session, {"email": "lena.berg@example.org"}).id


def queue(url: str, contact_id: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "action_id": str(uuid.uuid4()),
        "order_id": "ST-1",
        "version_tag": "tag-1",
        "action": "ConfirmOrder",
        "language": "sv-SE",
        "data": {"note": "Tack!"},
        "contact_id": contact_id,
        "source": "api",
        "job_id": None,
        "api_key_id": "key-1",
        "document": DOCUMENT,
        "channels": ["outbox"],
        **fields,
    }
    with session_scope(url) as session:
        return queue_action(session, **values).action_id


def counts(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        actions = session.scalar(select(func.count()).select_from(OrderAction))
        communications = session.scalar(select(func.count()).select_from(Communication))
    return actions or 0, communications or 0


def test_an_action_is_queued_with_a_queued_communication_per_channel(
    url: str, contact_id: str
) -> None:
    action_id = queue(url, contact_id, channels=["outbox", "webhook", "outbox"])
    with session_scope(url) as session:
        action = session.get(OrderAction, action_id)
        assert action is not None
        assert (action.source, action.document, action.data) == (
            "api",
            DOCUMENT,
            '{"note": "Tack!"}',
        )
        rows = session.scalars(select(Communication).order_by(Communication.channel)).all()
        assert [(row.channel, row.status, row.attempts) for row in rows] == [
            ("outbox", "Queued", 0),
            ("webhook", "Queued", 0),
        ]
        assert {(row.order_id, row.contact_id, row.version_tag) for row in rows} == {
            ("ST-1", contact_id, "tag-1")
        }


def test_an_embedded_action_is_queued_once_per_job(url: str, contact_id: str) -> None:
    """A re-run queuing the same job's action again gets the first one back, and nothing more."""
    first = queue(url, contact_id, source="embedded", job_id="job-1", channels=["outbox", "smtp"])
    again = queue(url, contact_id, source="embedded", job_id="job-1", channels=["outbox", "smtp"])
    assert again == first
    assert counts(url) == (1, 2)


def test_api_actions_are_queued_every_time(url: str, contact_id: str) -> None:
    assert queue(url, contact_id) != queue(url, contact_id)
    assert counts(url) == (2, 2)


def test_an_action_needs_a_channel(url: str, contact_id: str) -> None:
    with pytest.raises(ValueError, match="at least one channel"):
        queue(url, contact_id, channels=[])
    assert counts(url) == (0, 0)


def test_communications_are_listed_newest_first_and_filtered(url: str, contact_id: str) -> None:
    with session_scope(url) as session:
        other = create_contact(session, {"email": "per.holm@example.org"}).id
    first = queue(url, contact_id)
    second = queue(url, other, order_id="ST-2")
    third = queue(url, contact_id, action="ConfirmShipment")

    def listed(**filters: Any) -> tuple[list[tuple[str, str]], int]:
        with session_scope(url) as session:
            rows, total = list_communications(session, **filters)
        return [(row.communication.action_id, row.action) for row in rows], total

    assert listed() == (
        [(third, "ConfirmShipment"), (second, "ConfirmOrder"), (first, "ConfirmOrder")],
        3,
    )
    assert listed(offset=1, count=1) == ([(second, "ConfirmOrder")], 3)
    assert listed(contact_id=contact_id)[1] == 2
    assert listed(order_id="ST-2") == ([(second, "ConfirmOrder")], 1)
    assert listed(action_id=first) == ([(first, "ConfirmOrder")], 1)
    assert listed(status="Sent") == ([], 0)

    with session_scope(url) as session:
        session.get_one(Contact, contact_id).deleted_at = utcnow()
    assert listed() == ([(second, "ConfirmOrder")], 1)
