"""Receipts (SPEC 2.3): asynchronous registration landed in bronze, job status, and reads of the
processed receipts. Receipts are immutable: there is no update or delete (405)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from ingest_api.accepted import land_accepted
from ingest_api.body import parse_json, read_json
from ingest_api.deps import SessionDep, SettingsDep, committer_for, live_contact, require_scope
from ingest_api.errors import ProblemError, problem_response
from ingest_api.landing import GroupCommitter
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, Since, paged
from schemas.jobs import Accepted
from schemas.orders import ContactReference
from schemas.problems import FieldError, Problem
from schemas.receipts import Receipt, ReceiptJobState, WarningOut
from schemas.tables import RECEIPT_SUBMISSIONS
from storage.apikeys import Principal, Scope
from storage.jobs import JobStatus, NewJob, get_job, list_jobs
from storage.models import Job, ReceiptView
from storage.receipt_view import get_job_outcome, get_receipt, list_for_contact

RESOURCE = "receipts"
CHANGE_TYPE = "register"

router = APIRouter(prefix="/receipts", tags=["receipts"])

Writer = Annotated[Principal, Depends(require_scope(Scope.RECEIPTS_WRITE))]
JobReader = Annotated[Principal, Depends(require_scope(Scope.RECEIPTS_WRITE, Scope.ORDERS_READ))]
"""Whoever sends receipts follows their jobs; readers of processed data may too."""
Reader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ))]
"""Processed receipts are a contact's purchases (personal data): a read scope, not the write one."""
ReceiptCommitterDep = Annotated[GroupCommitter, Depends(committer_for(RECEIPT_SUBMISSIONS))]
ReceiptIdPath = Annotated[str, Path(alias="uniqueReceiptId", description="The receipt's id.")]


@router.post("", status_code=202, response_model=Accepted, summary="Register a receipt")
async def post_receipt(
    request: Request, settings: SettingsDep, principal: Writer, committer: ReceiptCommitterDep
) -> JSONResponse:
    """Register a receipt. Asynchronous: `202` means it is durably stored; poll the job in
    `Location` until it has `Succeeded` (possibly with warnings) or `Failed`. Format errors are
    answered at once with `400`, nothing stored. Receipts are immutable: a `uniqueReceiptId`
    registered before is accepted and ignored (its job succeeds with `duplicate: true`), so
    resending is always safe. A return is a receipt of its own with `RETURN` lines."""
    body = await read_json(request, settings.max_body_bytes)
    unique_receipt_id, contact = _validated_receipt(body)
    job_id = str(uuid.uuid4())
    row: dict[str, Any] = {
        "job_id": job_id,
        "unique_receipt_id": unique_receipt_id,
        "api_key_id": principal.key_id,
        "body": body.decode(),
        "contact_match_key": contact.match_key if contact else None,
        "contact_match_key_type": contact.match_key_type.value if contact else None,
    }
    job = NewJob(job_id, RESOURCE, None, CHANGE_TYPE, principal.key_id)
    return await land_accepted(committer, [row], job, f"/api/v3/receipts/jobs/{job_id}")


def _validated_receipt(body: bytes) -> tuple[str, ContactReference | None]:
    """The receipt's id and contact; the parsed receipt dies before the group-commit wait (see
    `orders._validated_order`)."""
    receipt = parse_json(Receipt, body)
    return receipt.unique_receipt_id, receipt.contact


# The job routes come before /{uniqueReceiptId}, so that /receipts/jobs is not read as a receipt.
@router.get("/jobs/{jobId}", summary="Status of a receipt submission")
def read_receipt_job(
    job_id: Annotated[str, Path(alias="jobId")], session: SessionDep, _p: JobReader
) -> Response:
    """Where a receipt submission stands: `Queued`, `Processing` or `Succeeded`, all 200 (a
    duplicate succeeds with `duplicate: true`; warnings never stop a receipt). `Failed`: 422
    problem with the errors. Unknown: 404."""
    job = get_job(session, job_id)
    if job is None or job.resource != RESOURCE:
        raise ProblemError(404, "Not Found", "No such job.", code="JobNotFound")
    state = _state(session, job)
    if job.status == JobStatus.FAILED:
        problem = Problem(
            type="urn:engage-orders:problem:JobFailed",
            title="Unprocessable Content",
            status=422,
            detail="The receipt was not registered.",
            errors=state.errors or [],
            jobId=job.job_id,
            uniqueReceiptId=state.unique_receipt_id,
            jobStatus=JobStatus.FAILED.value,
        )
        return problem_response(problem)
    return JSONResponse(_json(state))


@router.get("/jobs", summary="Recent receipt submissions, newest first")
def list_receipt_jobs(
    session: SessionDep,
    _p: JobReader,
    status: Annotated[JobStatus | None, Query()] = None,
    since: Since = None,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """Submissions with their outcome, e.g. `?status=Failed&since=...` to find rejections."""
    jobs, total = list_jobs(session, RESOURCE, status, since, offset, count)
    items = [_json(_state(session, job)) for job in jobs]
    filters = {"status": status, "since": since}
    return paged(items, total, offset, count, "/api/v3/receipts/jobs", filters)


@router.get("", summary="List a contact's processed receipts, newest first")
def list_receipts(
    session: SessionDep,
    _reader: Reader,
    contact_id: Annotated[str, Query(alias="contactId")],
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """The contact's processed receipts, newest first, paged with `offset` and `count`.
    404 if no live contact has the id."""
    contact = live_contact(session, contact_id)
    views, total = list_for_contact(session, contact.id, offset, count)
    items = [_receipt_json(view) for view in views]
    return paged(items, total, offset, count, "/api/v3/receipts", {"contactId": contact_id})


@router.get("/{uniqueReceiptId}", summary="Read a processed receipt")
def read_receipt(
    unique_receipt_id: ReceiptIdPath, session: SessionDep, _reader: Reader
) -> Response:
    """The receipt as it was sent, once processed, with the contact it was resolved to.
    404 until its job has succeeded."""
    view = get_receipt(session, unique_receipt_id)
    if view is None:
        raise ProblemError(404, "Not Found", "No such receipt.", code="ReceiptNotFound")
    return JSONResponse(_receipt_json(view))


IMMUTABLE = ["PUT", "PATCH", "DELETE"]


def receipts_are_immutable() -> Response:
    """Always `405`: receipts are never updated or deleted; `Allow` lists GET and POST. To
    reverse a purchase, register a return receipt."""
    raise _immutable("GET, POST")


def receipt_is_immutable(unique_receipt_id: ReceiptIdPath) -> Response:
    """Always `405`: a registered receipt is never updated or deleted; `Allow` lists GET. To
    reverse a purchase, register a return receipt."""
    raise _immutable("GET")


# One route per method, so that each has an OpenAPI operation id of its own.
for _method in IMMUTABLE:
    for _path, _endpoint in (
        ("", receipts_are_immutable),
        ("/{uniqueReceiptId}", receipt_is_immutable),
    ):
        router.add_api_route(
            _path,
            _endpoint,
            methods=[_method],
            summary="Not allowed: receipts are immutable",
            operation_id=f"{_endpoint.__name__}_{_method.lower()}",
        )


def _immutable(allow: str) -> ProblemError:
    return ProblemError(
        405,
        "Method Not Allowed",
        "Receipts are immutable: a registered receipt is never updated or deleted. Register a "
        "return receipt to reverse a purchase.",
        headers={"Allow": allow},
        code="ReceiptsAreImmutable",
    )


def _state(session: Session, job: Job) -> ReceiptJobState:
    outcome = get_job_outcome(session, job.job_id)
    warnings = json.loads(outcome.warnings or "[]") if outcome else []
    errors = json.loads(job.errors or "[]")
    return ReceiptJobState(
        job_id=job.job_id,
        status=job.status,
        unique_receipt_id=outcome.unique_receipt_id if outcome else None,
        created_at=job.created_at,
        duplicate=outcome.duplicate if outcome else None,
        warnings=[WarningOut(**warning) for warning in warnings] or None,
        errors=[FieldError(**error) for error in errors] or None,
    )


def _json(state: ReceiptJobState) -> dict[str, Any]:
    return state.model_dump(mode="json", by_alias=True, exclude_none=True)


def _receipt_json(view: ReceiptView) -> dict[str, Any]:
    return {**json.loads(view.document), "contactId": view.contact_id}
