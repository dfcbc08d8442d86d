"""Contacts (SPEC 2.4): synchronous create, read, merge-patch and lookup of a contact's id.

Unlike orders, contacts are written straight to the operational database: the answer carries the
contact id, and key uniqueness must be decided before answering.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ingest_api.body import parse_json, read_json
from ingest_api.deps import (
    SessionDep,
    SettingsDep,
    contact_not_found,
    live_contact,
    require_scope,
)
from ingest_api.errors import ProblemError
from schemas.contacts import (
    INVALID_EMAIL_MESSAGE,
    INVALID_PHONE_MESSAGE,
    ContactId,
    ContactOut,
    ContactPatch,
    NewContact,
    field_path,
    has_control_characters,
)
from schemas.problems import FieldError
from storage.apikeys import Principal, Scope
from storage.contacts import (
    DuplicateContactKeys,
    InvalidEmailAddress,
    InvalidPhoneNumber,
    add_contact,
    any_key_candidates,
    find_live_ids,
    find_live_ids_any,
    normalize_phone,
    update_contact,
    validated_email,
)
from storage.models import Contact

router = APIRouter(prefix="/contacts", tags=["contacts"])

Writer = Annotated[Principal, Depends(require_scope(Scope.CONTACTS_WRITE))]
Reader = Annotated[Principal, Depends(require_scope(Scope.CONTACTS_READ))]
ContactIdPath = Annotated[str, Path(alias="contactId", description="The contact's id (a GUID).")]

LOOKUP_COLUMNS = {
    "email": "email",
    "mobilePhone": "mobile_phone",
    "socialSecurityNumber": "social_security_number",
    "externalId": "external_id",
    "customKey": "external_id",
    "memberNumber": "member_number",
}
"""Lookup parameter → contact column; `customKey` is the Engage name for our external id."""
ANY_KEY = "any"


async def _json_body(request: Request, settings: SettingsDep) -> bytes:
    """The raw JSON body (415/413 checked), read as a dependency so that the handlers can stay
    synchronous and run their database work in the thread pool, off the event loop."""
    return await read_json(request, settings.max_body_bytes)


JsonBody = Annotated[bytes, Depends(_json_body)]


@router.post(
    "",
    status_code=201,
    response_model=ContactId,
    summary="Create a contact",
    responses={409: {"description": "A key field belongs to another contact"}},
)
def create_contact(session: SessionDep, _writer: Writer, body: JsonBody) -> JSONResponse:
    """Store a new contact at once (synchronous): `201` with its `contactId`, also in
    `Location`. The key fields (email, mobilePhone, externalId, memberNumber,
    socialSecurityNumber) must not belong to another live contact (else `409`, naming the
    fields). Orders and receipts sent before or after find the contact by such a key."""
    new = parse_json(NewContact, body)
    try:
        contact = add_contact(session, new.model_dump(by_alias=False))
    except DuplicateContactKeys as error:
        raise duplicate_keys(error) from None
    return JSONResponse(
        ContactId(contact_id=contact.id).model_dump(),
        status_code=201,
        headers={"Location": f"/api/v3/contacts/{contact.id}"},
    )


# Declared before /{contactId}, or "id" would be read as a contact id.
@router.get("/id", response_model=ContactId, summary="Find a contact's id by one of its keys")
def lookup_contact_id(
    session: SessionDep,
    _reader: Reader,
    email: Annotated[str | None, Query()] = None,
    mobile_phone: Annotated[str | None, Query(alias="mobilePhone")] = None,
    social_security_number: Annotated[str | None, Query(alias="socialSecurityNumber")] = None,
    external_id: Annotated[str | None, Query(alias="externalId")] = None,
    custom_key: Annotated[str | None, Query(alias="customKey")] = None,
    member_number: Annotated[str | None, Query(alias="memberNumber")] = None,
    any_key: Annotated[
        str | None, Query(alias="any", description="Matched against every key field.")
    ] = None,
) -> JSONResponse:
    """The id of the live contact with this key. Exactly one parameter must be given; e-mail
    addresses compare case-insensitively and phone numbers in international form. 404 if no live
    contact has the key, 409 if several do (only possible with `any`)."""
    given = {
        name: value
        for name, value in (
            ("email", email),
            ("mobilePhone", mobile_phone),
            ("socialSecurityNumber", social_security_number),
            ("externalId", external_id),
            ("customKey", custom_key),
            ("memberNumber", member_number),
            (ANY_KEY, any_key),
        )
        if value is not None
    }
    name, value = _single_lookup(given)
    ids = _lookup_ids(session, name, value)
    if not ids:
        raise contact_not_found()
    if len(ids) > 1:
        raise ProblemError(
            409,
            "Conflict",
            "More than one contact has this key; look the contact up by a more specific key.",
            code="MultipleMatches",
        )
    return JSONResponse(ContactId(contact_id=ids[0]).model_dump())


@router.get("/{contactId}", response_model=ContactOut, summary="Read a contact")
def read_contact(contact_id: ContactIdPath, session: SessionDep, _reader: Reader) -> JSONResponse:
    """The contact with every field (null when unset). A deleted contact answers 404 from the
    moment of its deletion, though it can be restored during the grace period."""
    return contact_json(live_contact(session, contact_id))


@router.patch(
    "/{contactId}",
    response_model=ContactOut,
    summary="Change a contact (JSON merge patch)",
    responses={409: {"description": "A key field belongs to another contact"}},
)
def patch_contact(
    contact_id: ContactIdPath, session: SessionDep, _writer: Writer, body: JsonBody
) -> JSONResponse:
    """Change a contact at once (JSON merge patch): fields sent are set, `null` clears one
    (except `contactType`), fields left out are kept. Answers the contact as changed. A key
    field that belongs to another live contact is refused with `409` and nothing is changed."""
    patch = parse_json(ContactPatch, body)
    contact = live_contact(session, contact_id)
    try:
        contact = update_contact(session, contact, patch.changes())
    except DuplicateContactKeys as error:
        raise duplicate_keys(error) from None
    return contact_json(contact)


def contact_json(contact: Contact) -> JSONResponse:
    return JSONResponse(ContactOut.of(contact).model_dump(mode="json"))


def _single_lookup(given: dict[str, str]) -> tuple[str, str]:
    """The one lookup parameter given, with its value stripped; a 400 otherwise."""
    if len(given) != 1:
        names = ", ".join([*LOOKUP_COLUMNS, ANY_KEY])
        raise _bad_lookup(
            [
                FieldError(
                    path=f"/query/{name}" if given else "/query",
                    code="ExactlyOneLookupKey",
                    message=f"Give exactly one of: {names}.",
                )
                for name in (given or [""])
            ]
        )
    [(name, value)] = given.items()
    value = value.strip()
    if not value or has_control_characters(value):
        raise _bad_lookup([_query_error(name, "InvalidParameter", "Not a valid key.")])
    return name, value


def _lookup_ids(session: Session, name: str, value: str) -> list[str]:
    if name == ANY_KEY:
        return find_live_ids_any(session, any_key_candidates(value))
    column = LOOKUP_COLUMNS[name]
    return find_live_ids(session, column, _stored_form(name, column, value))


def _stored_form(name: str, column: str, value: str) -> str:
    """The key as it is stored: e-mail lowercased, phone in E.164; a 400 if it cannot be one."""
    try:
        if column == "email":
            return validated_email(value)
        if column == "mobile_phone":
            return normalize_phone(value)
    except InvalidEmailAddress:
        raise _bad_lookup(
            [_query_error(name, "InvalidEmailAddress", INVALID_EMAIL_MESSAGE)]
        ) from None
    except InvalidPhoneNumber:
        raise _bad_lookup(
            [_query_error(name, "InvalidPhoneNumber", INVALID_PHONE_MESSAGE)]
        ) from None
    return value


def _query_error(name: str, code: str, message: str) -> FieldError:
    return FieldError(path=f"/query/{name}", code=code, message=message)


def _bad_lookup(errors: list[FieldError]) -> ProblemError:
    return ProblemError(
        400, "Bad Request", "The lookup parameters are not valid.", errors, code="InvalidParameter"
    )


def duplicate_keys(error: DuplicateContactKeys) -> ProblemError:
    """409 naming each clashing field (never its value: keys are personal data)."""
    errors = [
        FieldError(
            path=field_path(column),
            code="DuplicateContactKey",
            message="Another contact already has this value.",
        )
        for column in error.fields
    ] or [
        FieldError(
            path="",
            code="DuplicateContactKey",
            message="Another contact took one of these keys at the same moment; retry.",
        )
    ]
    return ProblemError(
        409,
        "Conflict",
        "A key field belongs to another contact; nothing was stored.",
        errors,
        code="DuplicateContactKey",
    )
