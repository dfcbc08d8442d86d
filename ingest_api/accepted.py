"""Accepting an asynchronous write: land its bronze rows durably, then answer 202 with its job.

Every asynchronous resource (orders, receipts, ...) answers the same way (SPEC 2.1): `202`, a
`Location` header naming the job's status URL and `{"jobId", "links"}`, and `503` with nothing
accepted when the group commit could not store the rows.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ingest_api.errors import ProblemError
from ingest_api.landing import GroupCommitter, LandingFailed
from schemas.jobs import Accepted
from schemas.paging import Link
from storage.jobs import NewJob


async def land_accepted(
    committer: GroupCommitter,
    rows: list[dict[str, Any]],
    job: NewJob,
    status_url: str,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """Return the 202 once `rows` are committed in bronze and `job` is Queued; raise 503 if not.

    `extra` adds resource-specific fields to the 202 body (e.g. a register batch's `count`).
    """
    try:
        await committer.land(rows, job)
    except LandingFailed:
        raise landing_failed() from None
    accepted = Accepted(job_id=job.job_id, links=[Link(href=status_url, rel="status")])
    body = {**accepted.model_dump(by_alias=True), **(extra or {})}
    return JSONResponse(body, status_code=202, headers={"Location": status_url})


def landing_failed() -> ProblemError:
    """503 when the group commit could not store the rows: nothing was accepted."""
    return ProblemError(
        503,
        "Service Unavailable",
        "The request could not be stored; nothing was accepted. Retry later.",
        headers={"Retry-After": "10"},
        code="LandingFailed",
    )
