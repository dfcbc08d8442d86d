"""Physical erasure of contacts whose erasure request is due (SPEC 2.4).

One batch erases every due contact: each table of the lake is rewritten once for all of them and
its history purged once, then the operational database rows go, and each request records what
was removed (counts only) and loses its contact id. Erasure is idempotent: a batch that crashed
half-way is simply done again by the next run, which finds what is left.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from schemas.table_spec import TableSpec
from schemas.tables import ALL_TABLES
from storage.gdpr import ERASURE, RequestStatus
from storage.gdpr_footprint import ContactFootprint, contact_footprint
from storage.lake import Lake
from storage.lake_erasure import PRUNING_COLUMN, Purge, delete_rows, purge_history
from storage.models import Contact, GdprRequest, utcnow
from storage.operational_erasure import erase_operational

log = logging.getLogger(__name__)

IDENTIFYING_COLUMNS = ("contact_id", "order_id", "unique_receipt_id", "job_id")
"""Columns that tie a lake row to a contact: directly, or through its orders, receipts, jobs."""


@dataclass
class ErasureBatch:
    """The outcome of one erasure run, for the run's metadata (counts and request ids only)."""

    erased: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    rows_removed: int = 0
    files_removed: int = 0


def erasable_tables() -> tuple[TableSpec, ...]:
    """Every table that can hold a contact's data: it has a contact, order or receipt id, or
    personal columns."""
    ids = {"contact_id", "order_id", "unique_receipt_id"}
    return tuple(
        spec for spec in ALL_TABLES if ids & set(spec.column_names) or spec.personal_columns
    )


def rows_of(spec: TableSpec, footprint: ContactFootprint) -> pl.Expr:
    """The rows of `spec` that belong to the contact of `footprint`."""
    columns = set(spec.column_names)
    ids = {
        "order_id": footprint.order_ids,
        "unique_receipt_id": footprint.receipt_ids,
        "job_id": footprint.job_ids,
    }
    conditions = [pl.col("contact_id") == footprint.contact_id] if "contact_id" in columns else []
    conditions += [
        pl.col(column).is_in(sorted(values))
        for column, values in ids.items()
        if column in columns and values
    ]
    return pl.any_horizontal(conditions) if conditions else pl.lit(False)


def due_erasures(session: Session, now: datetime | None = None) -> list[GdprRequest]:
    """Pending erasure requests past their grace period, oldest first."""
    return list(
        session.scalars(
            select(GdprRequest)
            .where(
                GdprRequest.kind == ERASURE,
                GdprRequest.status == RequestStatus.PENDING.value,
                GdprRequest.erase_after <= (now or utcnow()),
            )
            .order_by(GdprRequest.erase_after, GdprRequest.request_id)
        )
    )


def erase_contacts(
    lake: Lake,
    session: Session,
    requests: Sequence[GdprRequest],
    processed_versions: Mapping[TableSpec, int],
    run_id: str | None = None,
) -> ErasureBatch:
    """Erase the contacts of `requests`; commits.

    `processed_versions` gives, for each bronze table the pipeline reads, the last version it
    has processed. A contact with landed but unprocessed data is deferred to a later run: its
    rows could not be removed from bronze without breaking the pipeline's reading, and would
    come back once processed.
    """
    batch = ErasureBatch()
    footprints: dict[str, ContactFootprint] = {}
    unprocessed = _unprocessed_jobs(lake, processed_versions)
    for request in requests:
        footprint = _footprint(lake, session, request)
        if footprint.job_ids & unprocessed:
            batch.deferred.append(request.request_id)
            continue
        footprints[request.request_id] = footprint
    if not footprints:
        return batch
    audits: dict[str, dict[str, object]] = {rid: {"lake": {}} for rid in footprints}
    for spec in erasable_tables():
        rows, purge = _erase_table(lake, spec, footprints, processed_versions.get(spec))
        batch.rows_removed += sum(rows.values())
        batch.files_removed += purge.data_files
        for request_id, count in rows.items():
            audits[request_id]["lake"][spec.path] = {  # type: ignore[index]
                "rows": count,
                "filesRemoved": purge.data_files,
                "logEntriesRemoved": purge.log_entries,
            }
    for request_id, footprint in footprints.items():
        audits[request_id]["database"] = erase_operational(session, footprint)
        _close_requests(session, footprint.contact_id, request_id, audits[request_id], run_id)
        batch.erased.append(request_id)
    session.commit()
    return batch


def _footprint(lake: Lake, session: Session, request: GdprRequest) -> ContactFootprint:
    contact_id = request.contact_id
    assert contact_id is not None, "a pending erasure request names its contact"
    contact = session.get(Contact, contact_id)
    if contact is None:
        # Erased by an earlier run that crashed before closing the request: what is left is
        # found by contact id, orders and jobs alone.
        contact = Contact(id=contact_id)
    return contact_footprint(lake, session, contact)


def _unprocessed_jobs(lake: Lake, processed_versions: Mapping[TableSpec, int]) -> set[str]:
    jobs: set[str] = set()
    for spec, processed in processed_versions.items():
        newest = lake.version(spec)
        if newest > processed:
            jobs |= set(lake.read_changes(spec, processed, newest)["job_id"])
    return jobs


def _erase_table(
    lake: Lake,
    spec: TableSpec,
    footprints: Mapping[str, ContactFootprint],
    processed_version: int | None,
) -> tuple[dict[str, int], Purge]:
    """Delete every contact's rows from one table, then purge its history (always: rows of the
    contacts may survive in files an earlier version removed, even if none is current)."""
    flags = {rid: rows_of(spec, footprint).alias(rid) for rid, footprint in footprints.items()}
    wanted = [*spec.key, *(c for c in IDENTIFYING_COLUMNS if c in spec.column_names)]
    if spec.layer == "bronze":
        wanted.append(PRUNING_COLUMN)
    matched = (
        lake.scan(spec)
        .select(list(dict.fromkeys(wanted)))
        .with_columns(*flags.values())
        .filter(pl.any_horizontal(list(flags)))
        .collect()
    )
    rows = {rid: int(matched[rid].sum()) for rid in flags}
    keys = matched.select(*spec.key, *([PRUNING_COLUMN] if spec.layer == "bronze" else []))
    deleted = delete_rows(lake, spec, keys)
    if deleted != len(matched):
        log.warning("%s: %d rows matched, %d deleted", spec.path, len(matched), deleted)
    return rows, purge_history(lake, spec, processed_version)


def _close_requests(
    session: Session,
    contact_id: str,
    request_id: str,
    audit: dict[str, object],
    run_id: str | None,
) -> None:
    """The request becomes Erased with its audit; every request of the contact (an earlier
    extract, a restored deletion) forgets the contact id, keeping only its hash."""
    now = utcnow()
    session.execute(
        update(GdprRequest)
        .where(GdprRequest.request_id == request_id)
        .values(
            status=RequestStatus.ERASED.value,
            erased_at=now,
            audit=json.dumps(audit, sort_keys=True),
            run_id=run_id,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(GdprRequest)
        .where(GdprRequest.contact_id == contact_id)
        .values(contact_id=None)
        .execution_options(synchronize_session=False)
    )
    log.info("erasure request %s: erased", request_id)
