"""Segments: saved definitions of contact sets, previews on the gold tables, and members.

Definitions are small and written synchronously to the operational database. Evaluating criteria
reads the gold Delta tables and is CPU-bound, so every handler that touches the lake is a plain
`def`: FastAPI runs it in the thread pool, off the event loop.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from ingest_api.body import parse_json, read_json
from ingest_api.deps import SessionDep, SettingsDep, require_scope
from ingest_api.errors import ProblemError, format_error
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, page_body
from schemas.paging import Page
from schemas.problems import FieldError
from schemas.segment_definitions import SEGMENT_NAME_PATTERN, SegmentCriteria, SegmentDefinition
from schemas.segments import SegmentMembersPage, SegmentOut, SegmentPreviewOut, size_errors
from storage.apikeys import Principal, Scope
from storage.lake import Lake
from storage.models import Segment
from storage.segment_lake import MemberPage, member_counts, member_page, preview_current
from storage.segments import (
    delete_segment,
    get_segment,
    hidden_contact_ids,
    page_segments,
    save_segment,
    written_definition,
)
from storage.settings import EngageSettings

router = APIRouter(prefix="/segments", tags=["segments"])

Writer = Annotated[Principal, Depends(require_scope(Scope.SEGMENTS_WRITE))]
Reader = Annotated[Principal, Depends(require_scope(Scope.SEGMENTS_READ, Scope.SEGMENTS_WRITE))]
"""Whoever writes segments may read them and preview criteria too."""
NamePath = Annotated[str, Path(description="The segment's name.")]

_NAME = re.compile(SEGMENT_NAME_PATTERN)
SEGMENTS_PATH = "/api/v3/segments"


async def _json_body(request: Request, settings: SettingsDep) -> bytes:
    """The raw JSON body (415/413 checked), read as a dependency so the handlers can be sync."""
    return await read_json(request, settings.max_body_bytes)


JsonBody = Annotated[bytes, Depends(_json_body)]


@router.post(
    "",
    status_code=201,
    response_model=SegmentOut,
    summary="Save a segment (create, or replace the one with this name)",
    responses={200: {"model": SegmentOut, "description": "An existing segment was replaced"}},
)
def save(
    session: SessionDep, settings: SettingsDep, writer: Writer, body: JsonBody
) -> JSONResponse:
    """`201` with the new segment, or `200` when a segment of that name was replaced. The
    criteria are stored as written; a bad definition is a `400` naming each problem by JSON
    pointer, and nothing is stored."""
    definition = parse_json(SegmentDefinition, body)
    _refuse(_nul_errors(definition.description) + size_errors(definition.criteria))
    saved = save_segment(session, definition, json.loads(body), writer.key_id)
    segment = saved.segment
    answer = _segment_out(segment, _counts(settings, session, [segment]))
    headers = {"Location": f"{SEGMENTS_PATH}/{segment.name}"}
    return JSONResponse(answer, status_code=201 if saved.created else 200, headers=headers)


@router.get("", response_model=Page[SegmentOut], summary="List saved segments")
def list_all(
    session: SessionDep,
    settings: SettingsDep,
    _reader: Reader,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> JSONResponse:
    """Segments by name, each with its member count and materialisation time once materialised."""
    page, total = page_segments(session, offset, count)
    counts = _counts(settings, session, page)
    items = [_segment_out(segment, counts) for segment in page]
    return JSONResponse(page_body(items, total, offset, count, SEGMENTS_PATH, {}))


@router.post("/preview", response_model=SegmentPreviewOut, summary="Preview criteria")
def preview(
    session: SessionDep, settings: SettingsDep, _reader: Reader, body: JsonBody
) -> JSONResponse:
    """How many contacts the criteria select in the current gold tables, with a sample of their
    ids. The body is a definition whose name is optional; nothing is saved. Before the gold tables
    are first built the answer is a count of 0."""
    criteria = parse_json(SegmentCriteria, body).criteria
    _refuse(size_errors(criteria))
    hidden = hidden_contact_ids(session)
    session.close()  # evaluation may take a while: hold no database connection meanwhile
    result = preview_current(_lake(settings), criteria, datetime.now(UTC), hidden)
    return JSONResponse(SegmentPreviewOut(count=result.count, sample=result.sample).model_dump())


@router.get("/{name}", response_model=SegmentOut, summary="Read a segment")
def read(
    name: NamePath, session: SessionDep, settings: SettingsDep, _reader: Reader
) -> JSONResponse:
    """The saved definition with its member count once materialised; `current` tells whether
    the memberships were computed from the criteria as they are now."""
    segment = _existing(session, name)
    return JSONResponse(_segment_out(segment, _counts(settings, session, [segment])))


@router.delete("/{name}", status_code=204, summary="Delete a segment")
def delete(name: NamePath, session: SessionDep, _writer: Writer) -> Response:
    """Its materialised memberships disappear at the next materialisation."""
    if not _NAME.fullmatch(name) or not delete_segment(session, name):
        raise segment_not_found()
    return Response(status_code=204)


@router.get(
    "/{name}/members", response_model=SegmentMembersPage, summary="Members of a segment (paged)"
)
def members(
    name: NamePath,
    session: SessionDep,
    settings: SettingsDep,
    _reader: Reader,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> JSONResponse:
    """The materialised members ordered by contact id. `current` is false while the memberships
    were computed from an earlier revision of the criteria (the next materialisation catches
    up); a segment never materialised has no members yet."""
    segment = _existing(session, name)
    page = _member_page(settings, session, segment, offset, count)
    path = f"{SEGMENTS_PATH}/{segment.name}/members"
    items = [{"contactId": contact_id} for contact_id in page.contact_ids]
    body: dict[str, Any] = page_body(items, page.total, offset, count, path, {})
    body |= {
        "revision": segment.materialized_revision,
        "materializedAt": _iso(segment.materialized_at),
        "current": _is_current(segment),
    }
    return JSONResponse(body)


def segment_not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such segment.", code="SegmentNotFound")


def _existing(session: Session, name: str) -> Segment:
    """The saved segment; a malformed name cannot name one, so it is a 404 as well."""
    segment = get_segment(session, name) if _NAME.fullmatch(name) else None
    if segment is None:
        raise segment_not_found()
    return segment


def _lake(settings: EngageSettings) -> Lake:
    """A Lake of the request's own: its table handles are not shared between threads."""
    return Lake(settings.resolved_lake_uri)


def _counts(settings: EngageSettings, session: Session, segments: list[Segment]) -> dict[str, int]:
    """Members per materialised segment, soft-deleted contacts left out (as in the member list)."""
    materialised = [segment.name for segment in segments if segment.materialized_at is not None]
    if not materialised:
        return {}
    return member_counts(_lake(settings), materialised, hidden_contact_ids(session))


def _member_page(
    settings: EngageSettings, session: Session, segment: Segment, offset: int, count: int
) -> MemberPage:
    if segment.materialized_at is None:
        return MemberPage(contact_ids=[], total=0)
    hidden = hidden_contact_ids(session)
    return member_page(_lake(settings), segment.name, hidden, offset, count)


def _segment_out(segment: Segment, counts: dict[str, int]) -> dict[str, Any]:
    materialised = segment.materialized_at is not None
    return SegmentOut(
        name=segment.name,
        description=segment.description,
        criteria=written_definition(segment)["criteria"],
        revision=segment.revision,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
        materialized_at=segment.materialized_at,
        member_count=counts.get(segment.name, 0) if materialised else None,
        current=_is_current(segment),
    ).model_dump(mode="json")


def _is_current(segment: Segment) -> bool:
    return segment.materialized_revision == segment.revision


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _nul_errors(description: str | None) -> list[FieldError]:
    """PostgreSQL cannot store NUL in text, so it is a 400 here rather than a 500 there."""
    if description is None or "\x00" not in description:
        return []
    return [FieldError(path="/description", code="InvalidCharacter", message="NUL is not allowed.")]


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise format_error(errors)
