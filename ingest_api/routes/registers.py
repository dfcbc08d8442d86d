"""What the article and store registers share: landing one call as one job, and its status.

A register call is validated whole, then landed as one job in one Delta commit: either every
registration of the call is in bronze, or none is. Processing merges them into silver later.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import polars as pl
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from ingest_api.accepted import land_accepted
from ingest_api.body import refuse_repeated_members
from ingest_api.errors import ProblemError
from ingest_api.landing import GroupCommitter
from schemas.problems import FieldError, field_errors_from_validation
from schemas.register_jobs import RegisterJobState
from schemas.table_spec import TableSpec
from storage.apikeys import Principal
from storage.jobs import NewJob
from storage.lake import Lake
from storage.models import Job

CHANGE_TYPE = "register"
ModelT = TypeVar("ModelT", bound=BaseModel)
LANDING_SLACK = timedelta(seconds=1)
"""A job's `created_at` is its rows' `landed_at`; the window only guards against rounding."""


def invalid_body(errors: Sequence[FieldError], what: str) -> ProblemError:
    """400 for a register call that cannot be accepted; nothing of it is landed."""
    return ProblemError(
        400,
        "Bad Request",
        f"The {what} are not valid; nothing was stored.",
        errors,
        code="FormatError",
    )


def parse_batch(model: type[ModelT], body: bytes, what: str) -> ModelT:
    """The strict pydantic parse of a JSON body; errors are JSON pointers (`/3/gtin`)."""
    try:
        parsed = model.model_validate_json(body)
    except ValidationError as error:
        raise invalid_body(field_errors_from_validation(error), what) from None
    refuse_repeated_members(body, lambda errors: invalid_body(errors, what))
    return parsed


async def land_registrations(
    committer: GroupCommitter,
    principal: Principal,
    resource: str,
    build_rows: Callable[[str], list[dict[str, Any]]],
) -> JSONResponse:
    """Land the rows `build_rows(job_id)` gives as one job; answer 202 with the job and count."""
    job_id = str(uuid.uuid4())
    # Rendering up to 200,000 registrations as JSON is CPU work: off the event loop.
    rows = await asyncio.to_thread(build_rows, job_id)
    job = NewJob(job_id, resource, None, CHANGE_TYPE, principal.key_id)
    status_url = f"/api/v3/{resource}/jobs/{job_id}"
    return await land_accepted(committer, rows, job, status_url, {"count": len(rows)})


def job_state(job: Job | None, resource: str, lake_uri: str, spec: TableSpec) -> JSONResponse:
    """200 with the job's status and how many registrations it landed; 404 if unknown."""
    if job is None or job.resource != resource:
        raise ProblemError(404, "Not Found", "No such job.", code="JobNotFound")
    errors = [FieldError(**error) for error in json.loads(job.errors or "[]")]
    state = RegisterJobState(
        job_id=job.job_id,
        status=job.status,
        created_at=job.created_at,
        count=landed_count(lake_uri, spec, job),
        errors=errors or None,
    )
    return JSONResponse(state.model_dump(mode="json", by_alias=True, exclude_none=True))


def landed_count(lake_uri: str, spec: TableSpec, job: Job) -> int:
    """Rows the job landed, counted in bronze (the jobs table has no place for a count).

    The filter on `landed_at` lets Delta skip every file of other commits by their statistics,
    so the status of one job does not read the whole bronze table.
    """
    landed = pl.col("landed_at")
    return (
        Lake(lake_uri)
        .scan(spec)
        .filter(
            landed.is_between(job.created_at - LANDING_SLACK, job.created_at + LANDING_SLACK),
            pl.col("job_id") == job.job_id,
        )
        .select(pl.len())
        .collect()
        .item()
    )
