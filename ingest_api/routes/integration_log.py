"""`GET /integration-log`: warnings and errors from processing, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from ingest_api.deps import SessionDep, require_scope
from schemas.paging import DEFAULT_COUNT, MAX_COUNT, page_links
from storage.apikeys import Principal, Scope
from storage.integration_log import list_entries

router = APIRouter(prefix="/integration-log", tags=["integration log"])

LogReader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ, Scope.ORDERS_WRITE))]


@router.get("", summary="Processing warnings and errors")
def read_integration_log(
    session: SessionDep,
    _p: LogReader,
    type_: Annotated[str | None, Query(alias="type")] = None,
    severity: Annotated[str | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    count: Annotated[int, Query(ge=1, le=MAX_COUNT)] = DEFAULT_COUNT,
) -> Response:
    entries, total = list_entries(session, type_, severity, since, offset, count)
    params = {
        key: value
        for key, value in (
            ("type", type_),
            ("severity", severity),
            ("since", since and since.isoformat()),
        )
        if value
    }
    return JSONResponse(
        {
            "items": [
                {
                    "id": entry.id,
                    "type": entry.type,
                    "severity": entry.severity,
                    "code": entry.code,
                    "message": entry.message,
                    "jobId": entry.job_id,
                    "orderId": entry.order_id,
                    "createdAt": entry.created_at.isoformat(),
                }
                for entry in entries
            ],
            "totalCount": total,
            "offset": offset,
            "count": count,
            "links": [
                link.model_dump()
                for link in page_links("/api/v3/integration-log", params, offset, count, total)
            ],
        }
    )
