"""Contacts for tests: created through the real API, soft-deleted the way the product does it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.orders import JSON


def create_contact(api: httpx.Client, fields: dict[str, Any]) -> str:
    """POST /contacts; returns the new contact id."""
    response = api.post("/contacts", content=json.dumps(fields), headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


def soft_delete(api: httpx.Client, contact_id: str, *, purge: bool = False) -> dict[str, Any]:
    """DELETE /contacts/{id}: the contact is hidden at once (soft delete); returns the 202 body
    (`requestId`, `status`, `eraseAfter`). `api` needs the gdpr (or admin) scope."""
    params = {"purge": "true"} if purge else {}
    response = api.delete(f"/contacts/{contact_id}", params=params)
    assert response.status_code == 202, response.text
    return response.json()
