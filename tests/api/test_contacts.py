"""Contacts API (SPEC 2.4) against a real intake and a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest

from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import soft_delete
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.server import client

UNKNOWN_ID = "3f2b9c4e-0000-4000-8000-000000000000"
"""A well-formed id that names nothing (fixed, so parallel workers collect the same tests)."""

FULL_CONTACT: dict[str, Any] = {
    "contactType": "Contact",
    "firstName": "Anna",
    "lastName": "Svensson",
    "email": "anna.svensson@example.com",
    "mobilePhone": "+46701234567",
    "externalId": "ext-1001",
    "memberNumber": "M-1001",
    "socialSecurityNumber": "198504121234",
    "street": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "Sweden",
    "countryCode": "SE",
    "birthDay": "1985-04-12",
    "gender": "Female",
}
FIELDS = set(FULL_CONTACT)


def create(api: httpx.Client, **fields: Any) -> str:
    response = api.post("/contacts", json=fields)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    """(path, code) of each field error of a problem document."""
    assert response.headers["content-type"].startswith("application/problem+json")
    return [(error["path"], error["code"]) for error in response.json()["errors"]]


def assert_offset_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None
    return parsed


# --- create and read ---------------------------------------------------------------------------


def test_create_then_read_returns_every_field(api: httpx.Client) -> None:
    response = api.post("/contacts", json=FULL_CONTACT)

    assert response.status_code == 201
    contact_id = response.json()["contactId"]
    assert str(uuid.UUID(contact_id)) == contact_id
    assert response.headers["location"] == f"/api/v3/contacts/{contact_id}"

    read = api.get(f"/contacts/{contact_id}")
    assert read.status_code == 200
    body = read.json()
    assert body == {
        **FULL_CONTACT,
        "contactId": contact_id,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert_offset_timestamp(body["createdAt"])
    assert_offset_timestamp(body["updatedAt"])


def test_location_header_leads_to_the_contact(api: httpx.Client) -> None:
    response = api.post("/contacts", json={"firstName": "Bo"})

    location = response.headers["location"].removeprefix("/api/v3")
    assert api.get(location).json()["firstName"] == "Bo"


def test_an_empty_contact_gets_the_defaults(api: httpx.Client) -> None:
    contact_id = create(api)

    body = api.get(f"/contacts/{contact_id}").json()
    assert body["contactType"] == "Member"
    assert all(body[field] is None for field in FIELDS - {"contactType"})


def test_keys_are_stored_normalised(api: httpx.Client) -> None:
    contact_id = create(
        api,
        email="Anna.Svensson@Example.COM",
        mobilePhone="+46 70-123 45 67",
        externalId="  ext-7  ",
        countryCode="se",
    )

    body = api.get(f"/contacts/{contact_id}").json()
    assert body["email"] == "anna.svensson@example.com"
    assert body["mobilePhone"] == "+46701234567"
    assert body["externalId"] == "ext-7"
    assert body["countryCode"] == "SE"


@pytest.mark.parametrize(
    "email", ["anna", "anna@", "anna@example", "an na@example.com", "anna@@example.com", ""]
)
@REFUSED_BEFORE_STORAGE
def test_an_invalid_email_is_refused(api: httpx.Client, email: str) -> None:
    response = api.post("/contacts", json={"email": email})

    assert response.status_code == 400
    assert errors(response) == [("/email", "InvalidEmailAddress")]


def test_errors_do_not_echo_personal_data(api: httpx.Client) -> None:
    response = api.post("/contacts", json={"email": "anna.secret@@example.com"})

    assert response.status_code == 400
    assert "secret" not in response.text


@pytest.mark.parametrize("phone", ["0701234567", "+4670", "not a number", "+46 70 123 45 67 89 01"])
@REFUSED_BEFORE_STORAGE
def test_an_invalid_phone_number_is_refused(api: httpx.Client, phone: str) -> None:
    response = api.post("/contacts", json={"mobilePhone": phone})

    assert response.status_code == 400
    assert errors(response) == [("/mobilePhone", "InvalidPhoneNumber")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"nickname": "Anna"}, [("/nickname", "UnknownField")]),
        ({"contactId": str(uuid.uuid4())}, [("/contactId", "UnknownField")]),
        ({"firstName": 42}, [("/firstName", "InvalidType")]),
        ({"firstName": "A" * 256}, [("/firstName", "TooLong")]),
        ({"firstName": "An\u0000na"}, [("/firstName", "InvalidCharacter")]),
        ({"countryCode": "SWE"}, [("/countryCode", "InvalidFormat")]),
        ({"birthDay": "12/04/1985"}, [("/birthDay", "DateParsing")]),
        ({"birthDay": "2999-01-01"}, [("/birthDay", "OutOfRange")]),
        ({"externalId": "   "}, [("/externalId", "TooShort")]),
        ({"contactType": None}, [("/contactType", "InvalidType")]),
    ],
)
@REFUSED_BEFORE_STORAGE
def test_a_malformed_body_is_refused_field_by_field(
    api: httpx.Client, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = api.post("/contacts", json=body)

    assert response.status_code == 400
    assert errors(response) == expected


def test_malformed_json_is_refused(api: httpx.Client) -> None:
    response = api.post(
        "/contacts", content=b'{"firstName": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert errors(response)[0][1] == "MalformedJson"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_a_body_that_is_not_declared_json_is_refused(
    api: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = api.post("/contacts", content=b'{"firstName": "Anna"}', headers=headers)

    assert response.status_code == 415
    assert response.json()["status"] == 415


def test_an_oversized_body_is_refused(api: httpx.Client) -> None:
    body = b'{"firstName": "' + b"A" * (1024 * 1024) + b'"}'
    response = api.post("/contacts", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 413


@pytest.mark.parametrize("contact_id", [UNKNOWN_ID, "not-a-guid", "%00"])
def test_reading_an_unknown_contact_is_404(api: httpx.Client, contact_id: str) -> None:
    response = api.get(f"/contacts/{contact_id}")

    assert response.status_code == 404
    assert response.json()["type"].endswith(":ContactNotFound")


def test_the_id_is_matched_case_insensitively(api: httpx.Client) -> None:
    contact_id = create(api, firstName="Anna")

    assert api.get(f"/contacts/{contact_id.upper()}").json()["contactId"] == contact_id


# --- uniqueness of keys ------------------------------------------------------------------------


def test_a_taken_key_is_a_conflict_naming_each_field(api: httpx.Client) -> None:
    create(api, email="anna@example.com", memberNumber="M-1", externalId="E-1")

    response = api.post(
        "/contacts",
        json={"email": "ANNA@example.com", "memberNumber": "M-1", "externalId": "E-2"},
    )

    assert response.status_code == 409
    assert response.json()["type"].endswith(":DuplicateContactKey")
    assert sorted(errors(response)) == [
        ("/email", "DuplicateContactKey"),
        ("/memberNumber", "DuplicateContactKey"),
    ]
    assert "anna@example.com" not in response.text.lower()
    assert api.get("/contacts/id", params={"externalId": "E-2"}).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "bo@example.com"),
        ("mobilePhone", "+46701234567"),
        ("externalId", "E-9"),
        ("memberNumber", "M-9"),
        ("socialSecurityNumber", "199001011234"),
    ],
)
def test_every_key_field_is_unique(api: httpx.Client, field: str, value: str) -> None:
    create(api, **{field: value})

    response = api.post("/contacts", json={field: value})

    assert response.status_code == 409
    assert errors(response) == [(f"/{field}", "DuplicateContactKey")]


def test_non_key_fields_may_repeat(api: httpx.Client) -> None:
    first = create(api, firstName="Anna", lastName="Svensson", city="Stockholm")
    second = create(api, firstName="Anna", lastName="Svensson", city="Stockholm")

    assert first != second


def test_a_soft_deleted_contact_is_gone_and_frees_its_keys(
    api: httpx.Client, settings: EngageSettings
) -> None:
    keys = {"email": "anna@example.com", "mobilePhone": "+46701234567", "memberNumber": "M-1"}
    old_id = create(api, **keys)

    soft_delete(api, old_id)

    assert api.get(f"/contacts/{old_id}").status_code == 404
    assert api.get("/contacts/id", params={"email": "anna@example.com"}).status_code == 404
    assert api.patch(f"/contacts/{old_id}", json={"firstName": "Anna"}).status_code == 404
    new_id = create(api, **keys)
    assert new_id != old_id
    assert api.get("/contacts/id", params={"memberNumber": "M-1"}).json() == {"contactId": new_id}


def test_concurrent_creates_of_one_key_yield_one_contact(intake_url: str, admin_key: str) -> None:
    """The database's unique index settles a race the up-front check cannot see."""
    writers = 8
    barrier = threading.Barrier(writers)

    def post(_: int) -> httpx.Response:
        with client(intake_url, admin_key) as http:
            barrier.wait()
            return http.post("/contacts", json={"email": "race@example.com"})

    with ThreadPoolExecutor(writers) as pool:
        responses = list(pool.map(post, range(writers)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (writers - 1)
    for response in responses:
        if response.status_code == 409:
            assert errors(response) == [("/email", "DuplicateContactKey")]


# --- PATCH -------------------------------------------------------------------------------------


def test_patch_sets_and_clears_only_the_fields_sent(api: httpx.Client) -> None:
    contact_id = create(api, **FULL_CONTACT)
    before = api.get(f"/contacts/{contact_id}").json()

    response = api.patch(
        f"/contacts/{contact_id}",
        json={"firstName": "Annika", "street": None, "email": "Annika@Example.com"},
        headers={"content-type": "application/merge-patch+json"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["firstName"] == "Annika"
    assert body["street"] is None
    assert body["email"] == "annika@example.com"
    untouched = FIELDS - {"firstName", "street", "email"}
    assert {field: body[field] for field in untouched} == {
        field: before[field] for field in untouched
    }
    assert body["createdAt"] == before["createdAt"]
    assert assert_offset_timestamp(body["updatedAt"]) >= assert_offset_timestamp(
        before["updatedAt"]
    )
    assert api.get(f"/contacts/{contact_id}").json() == body


def test_patch_can_clear_a_key_and_free_it(api: httpx.Client) -> None:
    first = create(api, externalId="E-1")

    api.patch(f"/contacts/{first}", json={"externalId": None})

    assert api.get(f"/contacts/{first}").json()["externalId"] is None
    assert api.get("/contacts/id", params={"externalId": "E-1"}).status_code == 404
    create(api, externalId="E-1")


def test_an_empty_patch_changes_nothing(api: httpx.Client) -> None:
    contact_id = create(api, **FULL_CONTACT)
    before = api.get(f"/contacts/{contact_id}").json()

    response = api.patch(f"/contacts/{contact_id}", json={})

    assert response.status_code == 200
    assert response.json() == before


def test_patch_cannot_clear_the_contact_type(api: httpx.Client) -> None:
    contact_id = create(api)

    response = api.patch(f"/contacts/{contact_id}", json={"contactType": None})

    assert response.status_code == 400
    assert errors(response) == [("/contactType", "NotNullable")]
    assert api.get(f"/contacts/{contact_id}").json()["contactType"] == "Member"


def test_patch_validates_like_create(api: httpx.Client) -> None:
    contact_id = create(api, email="anna@example.com")

    response = api.patch(
        f"/contacts/{contact_id}",
        json={"email": "nope", "mobilePhone": "123", "shoeSize": 38},
    )

    assert response.status_code == 400
    assert sorted(errors(response)) == [
        ("/email", "InvalidEmailAddress"),
        ("/mobilePhone", "InvalidPhoneNumber"),
        ("/shoeSize", "UnknownField"),
    ]
    assert api.get(f"/contacts/{contact_id}").json()["email"] == "anna@example.com"


def test_patch_to_another_contacts_key_is_a_conflict(api: httpx.Client) -> None:
    create(api, email="anna@example.com", memberNumber="M-1")
    bo = create(api, email="bo@example.com", memberNumber="M-2")

    response = api.patch(f"/contacts/{bo}", json={"email": "anna@example.com", "firstName": "Bo"})

    assert response.status_code == 409
    assert errors(response) == [("/email", "DuplicateContactKey")]
    unchanged = api.get(f"/contacts/{bo}").json()
    assert unchanged["email"] == "bo@example.com"
    assert unchanged["firstName"] is None


def test_patch_may_resend_the_contacts_own_keys(api: httpx.Client) -> None:
    contact_id = create(api, email="anna@example.com", memberNumber="M-1")

    response = api.patch(
        f"/contacts/{contact_id}",
        json={"email": "ANNA@example.com", "memberNumber": "M-1", "city": "Lund"},
    )

    assert response.status_code == 200
    assert response.json()["city"] == "Lund"


def test_patching_an_unknown_contact_is_404(api: httpx.Client) -> None:
    response = api.patch(f"/contacts/{uuid.uuid4()}", json={"firstName": "Anna"})

    assert response.status_code == 404
    assert response.json()["type"].endswith(":ContactNotFound")


def test_patch_requires_a_json_body(api: httpx.Client) -> None:
    contact_id = create(api)

    response = api.patch(
        f"/contacts/{contact_id}", content=b"firstName=Anna", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415


# --- lookup ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("email", "anna.svensson@example.com"),
        ("email", "Anna.Svensson@EXAMPLE.com"),
        ("mobilePhone", "+46701234567"),
        ("mobilePhone", "+46 70 123 45 67"),
        ("socialSecurityNumber", "198504121234"),
        ("externalId", "ext-1001"),
        ("customKey", "ext-1001"),
        ("memberNumber", "M-1001"),
        ("any", "ANNA.svensson@example.com"),
        ("any", "+46 70-123 45 67"),
        ("any", "198504121234"),
        ("any", "ext-1001"),
        ("any", "M-1001"),
    ],
)
def test_lookup_finds_the_contact_by_each_key(
    api: httpx.Client, parameter: str, value: str
) -> None:
    contact_id = create(api, **FULL_CONTACT)
    create(api, email="other@example.com", externalId="ext-2002", memberNumber="M-2002")

    response = api.get("/contacts/id", params={parameter: value})

    assert response.status_code == 200
    assert response.json() == {"contactId": contact_id}


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("email", "nobody@example.com"),
        ("mobilePhone", "+46709999999"),
        ("externalId", "EXT-1001"),
        ("memberNumber", "nobody"),
        ("any", "nobody"),
    ],
)
def test_lookup_of_an_unknown_key_is_404(api: httpx.Client, parameter: str, value: str) -> None:
    create(api, **FULL_CONTACT)

    response = api.get("/contacts/id", params={parameter: value})

    assert response.status_code == 404
    assert response.json()["type"].endswith(":ContactNotFound")


def test_lookup_by_any_key_matching_two_contacts_is_a_conflict(api: httpx.Client) -> None:
    create(api, email="shared@example.com")
    create(api, externalId="shared@example.com")

    response = api.get("/contacts/id", params={"any": "shared@example.com"})

    assert response.status_code == 409
    assert response.json()["type"].endswith(":MultipleMatches")


def test_lookup_by_any_key_counts_one_contact_once(api: httpx.Client) -> None:
    contact_id = create(api, email="same@example.com", externalId="same@example.com")

    response = api.get("/contacts/id", params={"any": "same@example.com"})

    assert response.json() == {"contactId": contact_id}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"email": "anna"}, [("/query/email", "InvalidEmailAddress")]),
        ({"mobilePhone": "0701234567"}, [("/query/mobilePhone", "InvalidPhoneNumber")]),
        ({}, [("/query", "ExactlyOneLookupKey")]),
        (
            {"email": "anna@example.com", "memberNumber": "M-1"},
            [
                ("/query/email", "ExactlyOneLookupKey"),
                ("/query/memberNumber", "ExactlyOneLookupKey"),
            ],
        ),
        ({"externalId": ""}, [("/query/externalId", "InvalidParameter")]),
        ({"externalId": "E\u00001"}, [("/query/externalId", "InvalidParameter")]),
    ],
)
def test_a_bad_lookup_is_refused(
    api: httpx.Client, params: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    response = api.get("/contacts/id", params=params)

    assert response.status_code == 400
    assert errors(response) == expected


# --- authentication and scopes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/contacts"),
        ("GET", f"/contacts/{UNKNOWN_ID}"),
        ("PATCH", f"/contacts/{UNKNOWN_ID}"),
        ("GET", "/contacts/id?email=anna@example.com"),
    ],
)
def test_every_endpoint_needs_an_api_key(intake_url: str, method: str, path: str) -> None:
    with client(intake_url, None) as anonymous:
        response = anonymous.request(method, path, json={})

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_an_unknown_api_key_is_401(intake_url: str) -> None:
    with client(intake_url, "eo_not-a-key") as stranger:
        response = stranger.post("/contacts", json={})

    assert response.status_code == 401


def test_writes_need_the_contacts_write_scope(intake_url: str, settings: EngageSettings) -> None:
    reader_key = make_key(settings, Scope.CONTACTS_READ, Scope.ORDERS_WRITE)
    with client(intake_url, reader_key) as reader:
        created = reader.post("/contacts", json={"firstName": "Anna"})
        patched = reader.patch(f"/contacts/{uuid.uuid4()}", json={"firstName": "Anna"})

    assert created.status_code == 403
    assert patched.status_code == 403
    assert "contacts:write" in created.json()["detail"]


def test_reads_need_the_contacts_read_scope(
    api: httpx.Client, intake_url: str, settings: EngageSettings
) -> None:
    contact_id = create(api, email="anna@example.com")
    writer_key = make_key(settings, Scope.CONTACTS_WRITE)
    with client(intake_url, writer_key) as writer:
        read = writer.get(f"/contacts/{contact_id}")
        lookup = writer.get("/contacts/id", params={"email": "anna@example.com"})
        created = writer.post("/contacts", json={"firstName": "Bo"})

    assert read.status_code == 403
    assert lookup.status_code == 403
    assert "contacts:read" in read.json()["detail"]
    assert created.status_code == 201


def test_a_contacts_key_reads_and_writes(intake_url: str, settings: EngageSettings) -> None:
    key = make_key(settings, Scope.CONTACTS_READ, Scope.CONTACTS_WRITE)
    with client(intake_url, key) as http:
        contact_id = create(http, memberNumber="M-1")
        patched = http.patch(f"/contacts/{contact_id}", json={"city": "Lund"})
        lookup = http.get("/contacts/id", params={"memberNumber": "M-1"})

    assert patched.status_code == 200
    assert lookup.json() == {"contactId": contact_id}
