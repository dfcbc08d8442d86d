"""GDPR (SPEC 2.4): delete a contact (soft at once, erased after the grace period), restore it
within the grace period, request a personal data extract and download it, and read a request's
status.

These calls need the `gdpr` scope: deleting and restoring people is not a contact writer's
everyday business, and the request trail is for the data protection officer.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from ingest_api.deps import SessionDep, SettingsDep, contact_not_found, live_contact, require_scope
from ingest_api.errors import ProblemError
from ingest_api.routes.contacts import contact_json, duplicate_keys
from schemas.contacts import ContactOut
from schemas.gdpr import ExtractRequestAccepted, GdprRequestAccepted, GdprRequestOut
from schemas.problems import Problem
from storage.apikeys import Principal, Scope
from storage.contacts import DuplicateContactKeys
from storage.gdpr import (
    EXTRACT,
    ContactAlreadyDeleted,
    NothingToRestore,
    RequestStatus,
    get_request,
    hash_key,
    request_erasure,
    restore_contact,
)
from storage.models import GdprRequest
from storage.personal_data_extract import extract_available, get_extract, request_extract

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
    return _accepted(accepted.model_dump(), request.request_id)


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
        raise _request_not_found()
    downloadable = (
        request.kind == EXTRACT
        and request.status == RequestStatus.COMPLETED.value
        and extract_available(session, request.request_id)
    )
    return JSONResponse(_request_out(request, downloadable=downloadable).model_dump())


@router.post(
    "/contacts/{contactId}/personal-data-extract",
    status_code=202,
    response_model=ExtractRequestAccepted,
    summary="Request a personal data extract of a contact",
    responses={404: {"model": Problem, "description": "No such live contact"}},
)
def request_personal_data_extract(
    contact_id: ContactIdPath, session: SessionDep, settings: SettingsDep, _officer: Officer
) -> JSONResponse:
    """Everything stored about the contact, as one JSON document: the contact, every order with
    all its versions, receipts, communications, loyalty ledger and integration-log entries. The
    `extract_personal_data` Dagster job builds it; poll the request (`Location`) until it is
    `Completed`, then download it from its `extractUrl`."""
    contact = live_contact(session, contact_id)
    request = request_extract(session, contact, hash_key(settings))
    accepted = ExtractRequestAccepted(request_id=request.request_id, status=request.status)
    return _accepted(accepted.model_dump(), request.request_id)


@router.get(
    "/gdpr/requests/{requestId}/extract",
    summary="Download a completed personal data extract",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "The extract document (an attachment)",
        },
        404: {"model": Problem, "description": "No such extract (or it was erased)"},
        409: {"model": Problem, "description": "The extract is not ready, or it failed"},
    },
)
def download_extract(request_id: RequestIdPath, session: SessionDep, _officer: Officer) -> Response:
    """The document exactly as built. `409 ExtractNotReady` while it is being built,
    `409 ExtractFailed` if it could not be (request a new one); `404` once the contact was erased,
    since erasure deletes the document too."""
    try:
        canonical = str(uuid.UUID(request_id))
    except ValueError:
        raise _request_not_found() from None
    request = get_request(session, canonical)
    if request is None or request.kind != EXTRACT:
        raise _request_not_found()
    if request.status == RequestStatus.PENDING.value:
        raise ProblemError(
            409,
            "Conflict",
            "The extract is still being built; poll the request until it is Completed.",
            code="ExtractNotReady",
        )
    if request.status == RequestStatus.FAILED.value:
        raise ProblemError(
            409,
            "Conflict",
            "The extract could not be built; request a new one.",
            code="ExtractFailed",
        )
    extract = get_extract(session, canonical)
    if extract is None:
        raise _request_not_found()
    return Response(
        extract.document,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="personal-data-{canonical}.json"',
            # Personal data: no shared cache may keep a copy.
            "Cache-Control": "no-store",
        },
    )


def _accepted(body: dict[str, object], request_id: str) -> JSONResponse:
    """202 with the request's status URL in `Location`, where the caller follows it."""
    return JSONResponse(
        body, status_code=202, headers={"Location": f"{REQUESTS_PATH}/{request_id}"}
    )


def _canonical(contact_id: str) -> str:
    try:
        return str(uuid.UUID(contact_id))
    except ValueError:
        raise contact_not_found() from None


def _request_not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such GDPR request.", code="GdprRequestNotFound")


def _request_out(request: GdprRequest, *, downloadable: bool = False) -> GdprRequestOut:
    """The request as answered; an extract adds `completedAt`, and `extractUrl` while its
    document can be downloaded (`downloadable`)."""
    out = GdprRequestOut(
        request_id=request.request_id,
        kind=request.kind,
        status=request.status,
        requested_at=request.requested_at,
        erase_after=request.erase_after,
        restored_at=request.restored_at,
        erased_at=request.erased_at,
        contact_hash=request.contact_hash,
        reason=request.reason,
        run_id=request.run_id,
        audit=json.loads(request.audit) if request.audit else None,
    )
    if request.kind == EXTRACT:
        out.completed_at = request.completed_at
        if downloadable:
            out.extract_url = f"{REQUESTS_PATH}/{request.request_id}/extract"
    return out
