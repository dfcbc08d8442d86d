"""Answers of the register endpoints (articles, stores): the 202 and the job status."""

from __future__ import annotations

from datetime import datetime

from schemas.common import ResponseModel
from schemas.jobs import Accepted
from schemas.problems import FieldError


class RegisterAccepted(Accepted):
    """202 body of `POST /articles`, `POST /articles/import` and `POST /stores`."""

    count: int
    """How many registrations were landed: distinct keys (a key sent twice counts once)."""


class RegisterJobState(ResponseModel):
    """`GET /articles/jobs/{jobId}` and `GET /stores/jobs/{jobId}`."""

    job_id: str
    status: str
    created_at: datetime
    count: int | None = None
    errors: list[FieldError] | None = None
