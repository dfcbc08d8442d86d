"""The store register (SPEC 2.4): `POST /stores`, upserting stores by `externalId`.

There is no stores scope in the Engage key model: the store register is master data like the
article register, so writing it takes `articles:write` (admin implies it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from ingest_api.body import read_json
from ingest_api.deps import SessionDep, SettingsDep, committer_for, require_scope
from ingest_api.landing import GroupCommitter
from ingest_api.routes.registers import job_state, land_registrations, parse_batch
from schemas.register_jobs import RegisterAccepted, RegisterJobState
from schemas.stores import StoreBatch, store_submission_rows
from schemas.tables import STORE_SUBMISSIONS
from storage.apikeys import Principal, Scope
from storage.jobs import get_job

router = APIRouter(prefix="/stores", tags=["stores"])

Writer = Annotated[Principal, Depends(require_scope(Scope.ARTICLES_WRITE))]
"""No stores scope exists: the store register is written with `articles:write` (or admin)."""
StoreCommitterDep = Annotated[GroupCommitter, Depends(committer_for(STORE_SUBMISSIONS))]

RESOURCE = "stores"


@router.post(
    "", status_code=202, response_model=RegisterAccepted, summary="Register stores (up to 1000)"
)
async def register_stores(
    request: Request, settings: SettingsDep, principal: Writer, committer: StoreCommitterDep
) -> JSONResponse:
    """Upsert stores by `externalId`; needs the `articles:write` scope (there is no stores
    scope). The body is a JSON array of 1 to 1000 stores; of an `externalId` sent twice the
    later one wins. Any invalid store rejects the whole call with 400 (`/0/currency`).
    Asynchronous: the stores are in the register once the job in `Location` has `Succeeded`."""
    body = await read_json(request, settings.max_body_bytes)
    batch = parse_batch(StoreBatch, body, "stores")
    return await land_registrations(
        committer,
        principal,
        RESOURCE,
        lambda job_id: store_submission_rows(batch.root, job_id, principal.key_id),
    )


@router.get("/jobs/{jobId}", response_model=RegisterJobState, summary="Status of a store job")
def read_store_job(
    job_id: Annotated[str, Path(alias="jobId")],
    session: SessionDep,
    settings: SettingsDep,
    _writer: Writer,
) -> JSONResponse:
    """Queued until processed, then Succeeded; `count` is how many stores the call landed."""
    return job_state(
        get_job(session, job_id), RESOURCE, settings.resolved_lake_uri, STORE_SUBMISSIONS
    )
