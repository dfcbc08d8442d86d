"""Query parameters and the response shape shared by every paged list endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from schemas.paging import DEFAULT_COUNT, MAX_COUNT, page_links

MAX_OFFSET = 2**31 - 1
"""Larger offsets overflow the databases' integers (found by tests/api/test_fuzzing.py)."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")]
Count = Annotated[int, Query(ge=1, le=MAX_COUNT, description="Page size (at most 100).")]
Since = Annotated[
    AwareDatetime | None,
    Query(description="Only items from this time on; ISO 8601 with an offset."),
]
DEFAULT_OFFSET = 0
DEFAULT_PAGE = DEFAULT_COUNT


def page_body(
    items: list[dict[str, Any]],
    total: int,
    offset: int,
    count: int,
    path: str,
    filters: dict[str, Any],
) -> dict[str, Any]:
    """`{items, totalCount, offset, count, links}` with next/prev links keeping the filters."""
    params = {key: _param(value) for key, value in filters.items() if value is not None}
    links = page_links(path, params, offset, count, total)
    return {
        "items": items,
        "totalCount": total,
        "offset": offset,
        "count": count,
        "links": [link.model_dump() for link in links],
    }


def paged(
    items: list[dict[str, Any]],
    total: int,
    offset: int,
    count: int,
    path: str,
    filters: dict[str, Any],
) -> JSONResponse:
    return JSONResponse(page_body(items, total, offset, count, path, filters))


def _param(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
