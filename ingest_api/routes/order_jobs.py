"""Status of asynchronous order writes: `GET /orders/jobs/{jobId}` and the recent-jobs list."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from ingest_api.deps import SessionDep, require_scope
from ingest_api.errors import ProblemError, problem_response
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, Since, paged
from schemas.jobs import JobState
from schemas.problems import FieldError, Problem
from storage.apikeys import Principal, Scope
from storage.jobs import JobStatus, get_job, list_jobs
from storage.models import Job

router = APIRouter(prefix="/orders/jobs", tags=["order jobs"])

JobReader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_WRITE, Scope.ORDERS_READ))]


@router.get("/{jobId}", summary="Status of an order write")
def read_job(
    job_id: Annotated[str, Path(alias="jobId")], session: SessionDep, _p: JobReader
) -> Response:
    """Where an order write stands. `Queued` or `Processing`: 200, poll again (every few seconds
    is plenty). `Succeeded`: 302 with `Location` the order and the body naming the version the
    change produced. `Failed`: 422, a problem document whose `errors` say why (nothing of the
    change was applied). Unknown job: 404."""
    job = get_job(session, job_id)
    if job is None or job.resource != "orders":
        raise ProblemError(404, "Not Found", "No such job.", code="JobNotFound")
    if job.status == JobStatus.FAILED:
        problem = Problem(
            type="urn:engage-orders:problem:JobFailed",
            title="Unprocessable Content",
            status=422,
            detail="The change was not applied.",
            errors=_errors(job),
            jobId=job.job_id,
            orderId=job.order_id,
            jobStatus=JobStatus.FAILED.value,
        )
        return problem_response(problem)
    if job.status == JobStatus.SUCCEEDED:
        body = {
            "jobId": job.job_id,
            "status": job.status,
            "orderId": job.order_id,
            "versionTag": job.version_tag,
        }
        return JSONResponse(
            body, status_code=302, headers={"Location": f"/api/v3/orders/{job.order_id}"}
        )
    return JSONResponse(_state(job).model_dump(mode="json", by_alias=True, exclude_none=True))


@router.get("", summary="Recent order jobs, newest first")
def list_order_jobs(
    session: SessionDep,
    _p: JobReader,
    status: Annotated[JobStatus | None, Query()] = None,
    since: Since = None,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """Order jobs with their outcome and errors, newest first and paged: e.g.
    `?status=Failed&since=...` finds the changes processing rejected, to fix and resend."""
    jobs, total = list_jobs(session, "orders", status, since, offset, count)
    items = [_state(job).model_dump(mode="json", by_alias=True, exclude_none=True) for job in jobs]
    filters = {"status": status, "since": since}
    return paged(items, total, offset, count, "/api/v3/orders/jobs", filters)


def _state(job: Job) -> JobState:
    return JobState(
        job_id=job.job_id,
        status=job.status,
        order_id=job.order_id,
        created_at=job.created_at,
        version_tag=job.version_tag,
        errors=_errors(job) or None,
    )


def _errors(job: Job) -> list[FieldError]:
    return [FieldError(**error) for error in json.loads(job.errors or "[]")]
