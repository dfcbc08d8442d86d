"""Landing a batch of bronze rows: one durable Delta commit, with the batch's jobs registered."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy.exc import SQLAlchemyError

from schemas.table_spec import TableSpec
from storage.db import session_scope
from storage.jobs import NewJob, register_queued
from storage.lake import Lake

log = logging.getLogger(__name__)


def land_batch(
    lake: Lake,
    database_url: str,
    spec: TableSpec,
    rows: Sequence[dict[str, Any]],
    jobs: Sequence[NewJob],
) -> datetime:
    """Append `rows` in one commit and register `jobs` as Queued; raise if the rows did not land.

    Sets each row's `landed_at` and `batch_position` (its landing order within the commit). The
    jobs are inserted first and committed only after the Delta commit succeeded, so a failed
    append leaves no job behind, and an unreachable database fails before anything lands.

    If the database fails between the two commits, the rows are landed all the same: processing
    registers jobs it finds missing (storage.jobs.record_outcomes), as after an intake killed at
    that moment. Raising then would tell the client that nothing was stored, and its retry would
    land the payload twice.
    """
    landed_at = datetime.now(UTC)
    for position, row in enumerate(rows):
        row["landed_at"] = landed_at
        row["batch_position"] = position
    table = pa.Table.from_pylist(list(rows), schema=spec.arrow_schema)
    landed = False
    try:
        with session_scope(database_url) as session:
            queued = [dataclasses.replace(job, created_at=landed_at) for job in jobs]
            register_queued(session, queued)
            session.flush()
            lake.append(spec, table)
            landed = True
    except SQLAlchemyError as error:
        if not landed:
            raise
        log.warning(
            "%d jobs of rows landed in %s not recorded (%s); processing records them",
            len(jobs),
            spec.name,
            type(error).__name__,
        )
    return landed_at
