"""Success answers several resources share the shape of: the 202 of a landed write, a page."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs.model import Answer, Example
from schemas.paging import DEFAULT_COUNT

ACCEPTED = "Accepted: the body is durably stored; poll the job named in `Location`."


def accepted(jobs_path: str, job_id: str, **extra: Any) -> Answer:
    """The 202 of an asynchronous write: the job and its status link (also `Location`);
    `extra` adds fields such as a register call's `count`."""
    href = f"{jobs_path}/{job_id}"
    value = {"jobId": job_id, "links": [{"href": href, "method": "GET", "rel": "status"}]}
    example = Example("Stored; poll the job", {**value, **extra})
    return Answer({"Accepted": example}, description=ACCEPTED)


def page(
    items: list[Any], total: int | None = None, count: int = DEFAULT_COUNT, next_href: str = ""
) -> dict[str, Any]:
    """A first page of a list (SPEC 2, paging); `next_href` when there are more items."""
    links = [{"href": next_href, "method": "GET", "rel": "next"}] if next_href else []
    total = len(items) if total is None else total
    return {"items": items, "totalCount": total, "offset": 0, "count": count, "links": links}
