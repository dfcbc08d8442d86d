"""Contacts for tests: created through the real API, soft-deleted the way the product does it."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import update

from storage.db import session_scope
from storage.models import Contact, utcnow
from storage.settings import EngageSettings
from tests.support.orders import JSON


def create_contact(api: httpx.Client, fields: dict[str, Any]) -> str:
    """POST /contacts; returns the new contact id."""
    response = api.post("/contacts", content=json.dumps(fields), headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


def soft_delete(settings: EngageSettings, contact_id: str) -> None:
    """Hide a contact at once, as a soft delete does: `deleted_at` is set, nothing is erased.

    DELETE /contacts/{id} comes with the GDPR work (issue 6); until then tests mark the contact
    deleted in the operational database, which is the whole of a soft delete's first step.
    """
    with session_scope(settings.resolved_database_url) as session:
        session.execute(update(Contact).where(Contact.id == contact_id).values(deleted_at=utcnow()))
