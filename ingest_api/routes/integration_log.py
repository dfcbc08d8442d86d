"""`GET /integration-log`: warnings and errors from processing, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ingest_api.deps import SessionDep, require_scope
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, Since, paged
from storage.apikeys import Principal, Scope
from storage.integration_log import entry_document, list_entries

router = APIRouter(prefix="/integration-log", tags=["integration log"])

LogReader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ, Scope.ORDERS_WRITE))]


@router.get("", summary="Processing warnings and errors")
def read_integration_log(
    session: SessionDep,
    _p: LogReader,
    type_: Annotated[str | None, Query(alias="type", description="Orders, ...")] = None,
    severity: Annotated[str | None, Query(description="Warning or Error.")] = None,
    since: Since = None,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """Warnings and errors from processing, newest first and paged: an order stored with
    `ContactMissing`, `ArticleMissing` or `StoreMissing`, a receipt with `LineSumMismatch`, an
    embedded action that could not run. Entries carry ids and codes, never personal data."""
    entries, total = list_entries(session, type_, severity, since, offset, count)
    filters = {"type": type_, "severity": severity, "since": since}
    items = [entry_document(entry) for entry in entries]
    return paged(items, total, offset, count, "/api/v3/integration-log", filters)
