"""The integration log: processing warnings and errors an integrator reads back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from storage.models import IntegrationLogEntry
from storage.paging import fetch_page


@dataclass(frozen=True)
class LogEntry:
    type: str
    severity: str
    code: str
    message: str
    job_id: str | None
    order_id: str | None


def outcome_entries(
    type_: str,
    job_id: str,
    order_id: str | None,
    warnings: Sequence[dict[str, str]],
    errors: Sequence[dict[str, str]],
) -> list[LogEntry]:
    """The entries of one processed job: its warnings, then its errors, one per code (the log
    keeps a single entry per job and code, the first)."""
    entries: list[LogEntry] = []
    seen: set[str] = set()
    problems = [("Warning", item) for item in warnings] + [("Error", item) for item in errors]
    for severity, item in problems:
        if item["code"] in seen:
            continue
        seen.add(item["code"])
        entries.append(LogEntry(type_, severity, item["code"], item["message"], job_id, order_id))
    return entries


def write_entries(session: Session, entries: Sequence[LogEntry]) -> None:
    """Insert entries once: an entry for a (job, code) pair already logged is skipped."""
    keyed = [entry for entry in entries if entry.job_id is not None]
    existing: set[tuple[str, str]] = set()
    for start in range(0, len(keyed), 400):
        chunk = keyed[start : start + 400]
        pairs = [(entry.job_id, entry.code) for entry in chunk]
        existing.update(
            session.execute(
                select(IntegrationLogEntry.job_id, IntegrationLogEntry.code).where(
                    tuple_(IntegrationLogEntry.job_id, IntegrationLogEntry.code).in_(pairs)
                )
            ).tuples()
        )
    session.add_all(
        IntegrationLogEntry(
            type=entry.type,
            severity=entry.severity,
            code=entry.code,
            message=entry.message,
            job_id=entry.job_id,
            order_id=entry.order_id,
        )
        for entry in entries
        if (entry.job_id, entry.code) not in existing
    )


def list_entries(
    session: Session,
    type_: str | None,
    severity: str | None,
    since: datetime | None,
    offset: int,
    count: int,
) -> tuple[list[IntegrationLogEntry], int]:
    query = select(IntegrationLogEntry)
    if type_ is not None:
        query = query.where(IntegrationLogEntry.type == type_)
    if severity is not None:
        query = query.where(IntegrationLogEntry.severity == severity)
    if since is not None:
        query = query.where(IntegrationLogEntry.created_at >= since)
    order = (IntegrationLogEntry.created_at.desc(), IntegrationLogEntry.id.desc())
    return fetch_page(session, query, order, offset, count)


def entry_document(entry: IntegrationLogEntry) -> dict[str, Any]:
    """The entry as `GET /integration-log` and the personal data extract show it."""
    return {
        "id": entry.id,
        "type": entry.type,
        "severity": entry.severity,
        "code": entry.code,
        "message": entry.message,
        "jobId": entry.job_id,
        "orderId": entry.order_id,
        "createdAt": entry.created_at.isoformat(),
    }
