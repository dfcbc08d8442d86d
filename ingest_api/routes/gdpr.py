"""GDPR (SPEC 2.4): delete a contact (soft at once, erased after the grace period), restore it
within the grace period, and read a request's status.

These calls need the `gdpr` scope: deleting and restoring people is not a contact writer's
everyday business, and the request trail is for the data protection officer.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from ingest_api.deps import SessionDep, SettingsDep, contact_not_found, live_contact, require_scope
from ingest_api.errors import ProblemError
from ingest_api.routes.contacts import contact_json, duplicate_keys
from schemas.contacts import ContactOut
from schemas.gdpr import GdprRequestAccepted, GdprRequestOut
from schemas.problems import Problem
from storage.apikeys import Principal, Scope
from storage.contacts import DuplicateContactKeys
from storage.gdpr import (
    ContactAlreadyDeleted,
    NothingToRestore,
    get_request,
    hash_key,
    request_erasure,
    restore_contact,
)
from storage.models import GdprRequest

router = APIRouter(tags=["gdpr"])

Officer = Annotated[Principal, Depends(require_scope(Scope.GDPR))]
ContactIdPath = Annotated[str, Path(alias="contactId", description="The contact's id (a GUID).")]
RequestIdPath = Annotated[str, Path(alias="requestId", description="The GDPR request id.")]
REQUESTS_PATH = "/api/v3/gdpr/requests"


@router.delete(
    "/contacts/{contactId}",
    status_code=202,
    response_model=GdprRequestAccepted,
    summary="Delete a contact (soft at once, erased after the grace period)",
    responses={404: {"model": Problem, "description": "No such live contact"}},
)
def delete_contact(
    contact_id: ContactIdPath,
    session: SessionDep,
    settings: SettingsDep,
    _officer: Officer,
    purge: Annotated[
        bool, Query(description="Erase at once instead of after the grace period.")
    ] = False,
) -> JSONResponse:
    """The contact and its orders, receipts, loyalty and communications disappear from every read
    at once, and its unique keys are free for a new contact. It can be restored until
    `eraseAfter` (never with `purge=true`)."""
    contact = live_contact(session, contact_id)
    try:
        request = request_erasure(
            session,
            contact,
            hash_key(settings),
            timedelta(days=settings.gdpr_grace_days),
            purge,
        )
    except ContactAlreadyDeleted:
        raise contact_not_found() from None
    accepted = GdprRequestAccepted(
        request_id=request.request_id, status=request.status, erase_after=request.erase_after
    )
    return JSONResponse(
        accepted.model_dump(),
        status_code=202,
        headers={"Location": f"{REQUESTS_PATH}/{request.request_id}"},
    )


@router.post(
    "/contacts/{contactId}/restore",
    response_model=ContactOut,
    summary="Restore a deleted contact within the grace period",
    responses={
        404: {"model": Problem, "description": "No deletion of this contact can be restored"},
        409: {"model": Problem, "description": "A key field now belongs to another contact"},
    },
)
def restore(contact_id: ContactIdPath, session: SessionDep, _officer: Officer) -> JSONResponse:
    """Undo a deletion whose grace period has not passed; answers the contact as `GET` does."""
    canonical = _canonical(contact_id)
    try:
        contact = restore_contact(session, canonical)
    except NothingToRestore:
        raise ProblemError(
            404,
            "Not Found",
            "No deletion of this contact can be restored (none, restored already, or past its "
            "grace period).",
            code="ContactNotFound",
        ) from None
    except DuplicateContactKeys as error:
        raise duplicate_keys(error) from None
    return contact_json(contact)


@router.get(
    "/gdpr/requests/{requestId}",
    response_model=GdprRequestOut,
    summary="Status of a GDPR request",
    responses={404: {"model": Problem, "description": "No such request"}},
)
def read_request(request_id: RequestIdPath, session: SessionDep, _officer: Officer) -> JSONResponse:
    """The request without personal data: the contact appears only as its keyed hash."""
    try:
        canonical = str(uuid.UUID(request_id))
    except ValueError:
        canonical = None
    request = get_request(session, canonical) if canonical is not None else None
    if request is None:
        raise ProblemError(404, "Not Found", "No such GDPR request.", code="GdprRequestNotFound")
    return JSONResponse(_request_out(request).model_dump())


def _canonical(contact_id: str) -> str:
    try:
        return str(uuid.UUID(contact_id))
    except ValueError:
        raise contact_not_found() from None


def _request_out(request: GdprRequest) -> GdprRequestOut:
    return GdprRequestOut(
        request_id=request.request_id,
        kind=request.kind,
        status=request.status,
        requested_at=request.requested_at,
        erase_after=request.erase_after,
        restored_at=request.restored_at,
        erased_at=request.erased_at,
        contact_hash=request.contact_hash,
    )
