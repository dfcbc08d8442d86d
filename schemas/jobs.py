"""Responses about intake jobs (SPEC 2.1, job status)."""

from __future__ import annotations

from datetime import datetime

from schemas.common import ResponseModel
from schemas.paging import Link
from schemas.problems import FieldError


class Accepted(ResponseModel):
    """202 body of every asynchronous write."""

    job_id: str
    links: list[Link]


class JobState(ResponseModel):
    job_id: str
    status: str
    order_id: str | None = None
    created_at: datetime
    version_tag: str | None = None
    errors: list[FieldError] | None = None
