"""Landing a batch of bronze rows: one durable Delta commit, with the batch's jobs registered."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from schemas.table_spec import TableSpec
from storage.db import session_scope
from storage.jobs import NewJob, register_queued
from storage.lake import Lake


def land_batch(
    lake: Lake,
    database_url: str,
    spec: TableSpec,
    rows: Sequence[dict[str, Any]],
    jobs: Sequence[NewJob],
) -> datetime:
    """Append `rows` in one commit and register `jobs` as Queued: both happen, or neither.

    Sets each row's `landed_at` and `batch_position` (its landing order within the commit). The
    jobs are inserted first and committed only after the Delta commit succeeded, so a failed
    append leaves no job behind, and an unreachable database fails before anything lands.
    """
    landed_at = datetime.now(UTC)
    for position, row in enumerate(rows):
        row["landed_at"] = landed_at
        row["batch_position"] = position
    table = pa.Table.from_pylist(list(rows), schema=spec.arrow_schema)
    with session_scope(database_url) as session:
        register_queued(session, [dataclasses.replace(job, created_at=landed_at) for job in jobs])
        session.flush()
        lake.append(spec, table)
    return landed_at
