"""GDPR requests over HTTP: soft delete, restore within the grace period, the request status."""

from __future__ import annotations

import hashlib
import hmac
import stat
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from storage.apikeys import Scope
from storage.gdpr import HASH_KEY_FILE
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import create_contact, soft_delete
from tests.support.server import client

UNKNOWN_ID = "3f2b9c4e-0000-4000-8000-000000000000"
"""A well-formed id that names nothing (fixed, so parallel workers collect the same tests)."""

ANNA = {
    "firstName": "Anna",
    "lastName": "Svensson",
    "email": "anna.svensson@example.org",
    "mobilePhone": "+46701234567",
    "memberNumber": "M-4711",
    "street": "Storgatan 1",
}
REQUEST_FIELDS = {
    "requestId",
    "kind",
    "status",
    "requestedAt",
    "eraseAfter",
    "restoredAt",
    "erasedAt",
    "contactHash",
    "reason",
    "runId",
    "audit",
}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:engage-orders:problem:{code}"
    return body


def request_of(api: httpx.Client, request_id: str) -> dict[str, Any]:
    response = api.get(f"/gdpr/requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_delete_hides_the_contact_at_once_and_records_a_pending_request(
    api: httpx.Client, settings: EngageSettings
) -> None:
    contact_id = create_contact(api, ANNA)
    before = datetime.now().astimezone()

    response = api.delete(f"/contacts/{contact_id}")

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"requestId", "status", "eraseAfter"}
    assert body["status"] == "Pending"
    assert response.headers["location"] == f"/api/v3/gdpr/requests/{body['requestId']}"
    erase_after = datetime.fromisoformat(body["eraseAfter"])
    grace = timedelta(days=settings.gdpr_grace_days)
    assert before + grace <= erase_after <= datetime.now().astimezone() + grace

    problem(api.get(f"/contacts/{contact_id}"), 404, "ContactNotFound")
    problem(api.get("/contacts/id", params={"email": ANNA["email"]}), 404, "ContactNotFound")
    problem(api.patch(f"/contacts/{contact_id}", json={"city": "Lund"}), 404, "ContactNotFound")
    problem(api.delete(f"/contacts/{contact_id}"), 404, "ContactNotFound")


def test_a_deleted_contacts_keys_are_free_for_a_new_contact(api: httpx.Client) -> None:
    old_id = create_contact(api, ANNA)
    soft_delete(api, old_id)

    new_id = create_contact(api, ANNA)

    assert new_id != old_id
    found = api.get("/contacts/id", params={"memberNumber": ANNA["memberNumber"]})
    assert found.json() == {"contactId": new_id}


def test_restore_within_the_grace_period_brings_the_contact_back(api: httpx.Client) -> None:
    contact_id = create_contact(api, ANNA)
    request_id = soft_delete(api, contact_id)["requestId"]

    response = api.post(f"/contacts/{contact_id}/restore")

    assert response.status_code == 200, response.text
    assert response.json()["contactId"] == contact_id
    assert response.json()["email"] == ANNA["email"]
    assert api.get(f"/contacts/{contact_id}").json() == response.json()
    assert api.get("/contacts/id", params={"email": ANNA["email"]}).json() == {
        "contactId": contact_id
    }
    request = request_of(api, request_id)
    assert request["status"] == "Restored"
    assert request["restoredAt"] is not None
    assert request["erasedAt"] is None
    # Restored once: there is nothing left to restore, and it can be deleted again.
    problem(api.post(f"/contacts/{contact_id}/restore"), 404, "ContactNotFound")
    assert soft_delete(api, contact_id)["requestId"] != request_id


def test_a_purged_deletion_cannot_be_restored(api: httpx.Client) -> None:
    contact_id = create_contact(api, ANNA)
    body = soft_delete(api, contact_id, purge=True)

    request = request_of(api, body["requestId"])
    assert request["eraseAfter"] == request["requestedAt"] == body["eraseAfter"]
    problem(api.post(f"/contacts/{contact_id}/restore"), 404, "ContactNotFound")
    problem(api.get(f"/contacts/{contact_id}"), 404, "ContactNotFound")
    assert request_of(api, body["requestId"])["status"] == "Pending"


@pytest.mark.parametrize(
    "contact_id",
    [UNKNOWN_ID, "not-a-guid"],
)
def test_restore_of_a_contact_never_deleted_or_unknown_is_404(
    api: httpx.Client, contact_id: str
) -> None:
    problem(api.post(f"/contacts/{contact_id}/restore"), 404, "ContactNotFound")
    live = create_contact(api, ANNA)
    problem(api.post(f"/contacts/{live}/restore"), 404, "ContactNotFound")


def test_restore_is_refused_when_a_new_contact_took_a_key(api: httpx.Client) -> None:
    old_id = create_contact(api, ANNA)
    request_id = soft_delete(api, old_id)["requestId"]
    create_contact(api, {"email": ANNA["email"]})

    body = problem(api.post(f"/contacts/{old_id}/restore"), 409, "DuplicateContactKey")

    assert [error["path"] for error in body["errors"]] == ["/email"]
    assert ANNA["email"] not in str(body)
    problem(api.get(f"/contacts/{old_id}"), 404, "ContactNotFound")
    assert request_of(api, request_id)["status"] == "Pending"


def test_the_request_holds_no_personal_data(api: httpx.Client, settings: EngageSettings) -> None:
    contact_id = create_contact(api, ANNA)
    request_id = soft_delete(api, contact_id)["requestId"]

    response = api.get(f"/gdpr/requests/{request_id}")

    request = response.json()
    assert set(request) == REQUEST_FIELDS
    assert (request["requestId"], request["kind"], request["status"]) == (
        request_id,
        "erasure",
        "Pending",
    )
    for value in (contact_id, *ANNA.values()):
        assert value not in response.text
    key_file = settings.resolved_home / HASH_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip().encode()
    assert request["contactHash"] == hmac.new(key, contact_id.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("request_id", [UNKNOWN_ID, "nope"])
def test_an_unknown_request_is_404(api: httpx.Client, request_id: str) -> None:
    problem(api.get(f"/gdpr/requests/{request_id}"), 404, "GdprRequestNotFound")


def test_gdpr_calls_need_the_gdpr_scope(
    api: httpx.Client, intake_url: str, settings: EngageSettings
) -> None:
    contact_id = create_contact(api, ANNA)
    request_id = soft_delete(api, create_contact(api, {"email": "other@example.org"}))["requestId"]
    calls = [
        ("DELETE", f"/contacts/{contact_id}"),
        ("POST", f"/contacts/{contact_id}/restore"),
        ("GET", f"/gdpr/requests/{request_id}"),
    ]
    writer_key = make_key(settings, Scope.CONTACTS_WRITE, Scope.CONTACTS_READ)
    with client(intake_url, None) as anonymous, client(intake_url, writer_key) as writer:
        for method, path in calls:
            problem(anonymous.request(method, path), 401, "MissingApiKey")
            problem(writer.request(method, path), 403, "MissingScope")
    assert api.get(f"/contacts/{contact_id}").status_code == 200

    with client(intake_url, make_key(settings, Scope.GDPR)) as officer:
        assert soft_delete(officer, contact_id)["status"] == "Pending"
        assert officer.post(f"/contacts/{contact_id}/restore").status_code == 200
        assert request_of(officer, request_id)["status"] == "Pending"
