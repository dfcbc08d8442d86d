"""Personal data extract requests at the edges: which requests have a downloadable extract, and
what happens when erasure gets to the contact first (real database, SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from storage.db import session_scope
from storage.gdpr import get_request, hash_key
from storage.models import Contact, GdprRequest, utcnow
from storage.personal_data_extract import (
    ExtractNotBuilt,
    complete_extract,
    due_extracts,
    extract_available,
    get_extract,
    request_extract,
)
from storage.settings import EngageSettings
from tests.support.contacts import create_contact, soft_delete

UNKNOWN_ID = "3f2b9c4e-0000-4000-8000-000000000000"
"""A well-formed id that names nothing (fixed, so parallel workers collect the same tests)."""

DOCUMENT = {"contact": {"email": "anna.svensson@example.org"}, "orders": []}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:engage-orders:problem:{code}"
    return body


@pytest.mark.parametrize("request_id", [UNKNOWN_ID, "nope"])
def test_an_unknown_request_has_no_extract(api: httpx.Client, request_id: str) -> None:
    problem(api.get(f"/gdpr/requests/{request_id}/extract"), 404, "GdprRequestNotFound")


def test_an_erasure_request_has_no_extract(api: httpx.Client) -> None:
    contact_id = create_contact(api, {"email": "anna.svensson@example.org"})
    request_id = soft_delete(api, contact_id)["requestId"]

    problem(api.get(f"/gdpr/requests/{request_id}/extract"), 404, "GdprRequestNotFound")
    request = api.get(f"/gdpr/requests/{request_id}").json()
    assert request["kind"] == "erasure"
    assert "completedAt" not in request
    assert "extractUrl" not in request


def test_an_erased_extract_is_gone(api: httpx.Client, settings: EngageSettings) -> None:
    """Erasure deletes the document with the contact: the request stays, the download is 404."""
    contact_id = create_contact(api, {"email": "anna.svensson@example.org"})
    request_id = api.post(f"/contacts/{contact_id}/personal-data-extract").json()["requestId"]
    url = settings.resolved_database_url
    with session_scope(url) as session:
        complete_extract(session, request_id, DOCUMENT)
    assert api.get(f"/gdpr/requests/{request_id}/extract").json() == DOCUMENT

    with session_scope(url) as session:  # what erasure does to the extract
        extract = get_extract(session, request_id)
        assert extract is not None
        session.delete(extract)
        session.execute(
            update(GdprRequest).where(GdprRequest.request_id == request_id).values(contact_id=None)
        )

    request = api.get(f"/gdpr/requests/{request_id}").json()
    assert request["status"] == "Completed"
    assert "extractUrl" not in request
    problem(api.get(f"/gdpr/requests/{request_id}/extract"), 404, "GdprRequestNotFound")


@pytest.mark.parametrize("erasure", ["soft_delete", "erased"])
def test_a_document_built_while_the_contact_was_deleted_is_not_stored(
    settings: EngageSettings, erasure: str
) -> None:
    url = settings.resolved_database_url
    contact_id = str(uuid.uuid4())
    with session_scope(url) as session:
        contact = Contact(id=contact_id, email="anna.svensson@example.org")
        session.add(contact)
        session.flush()
        request_id = request_extract(session, contact, hash_key(settings)).request_id
        [due] = due_extracts(session)
        assert due.request_id == request_id

    with session_scope(url) as session:  # the contact goes while the document is being built
        if erasure == "soft_delete":
            statement = update(Contact).where(Contact.id == contact_id)
            session.execute(statement.values(deleted_at=utcnow()))
        else:
            statement = update(GdprRequest).where(GdprRequest.request_id == request_id)
            session.execute(statement.values(contact_id=None))

    with session_scope(url) as session, pytest.raises(ExtractNotBuilt):
        complete_extract(session, request_id, DOCUMENT)

    with session_scope(url) as session:
        request = get_request(session, request_id)
        assert request is not None
        assert (request.status, request.completed_at) == ("Pending", None)
        assert not extract_available(session, request_id)
        assert get_extract(session, request_id) is None
