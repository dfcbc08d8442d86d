"""Group commit: concurrent requests share one durable Delta append before each gets its 202.

A request hands its bronze row to the committer and waits. One writer task takes everything that
queued up while the previous commit was in flight and lands it in a single Delta commit (fsynced),
registering the batch's jobs as Queued in the same step. So throughput grows with concurrency
instead of paying one commit (~10-30 ms) per request, and no request is answered before its row is
on disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from schemas.tables import TableSpec
from storage.db import session_scope
from storage.jobs import NewJob, register_queued
from storage.lake import Lake

log = logging.getLogger(__name__)


class LandingFailed(Exception):
    """The batch could not be committed; none of its requests were acknowledged."""


@dataclass
class _Pending:
    row: dict[str, Any]
    job: NewJob | None
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    """Lands rows of one bronze table in shared commits."""

    def __init__(
        self,
        lake: Lake,
        database_url: str,
        spec: TableSpec,
        max_rows: int = 2000,
        max_wait_seconds: float = 0.001,
    ) -> None:
        self.lake = lake
        self.database_url = database_url
        self.spec = spec
        self.max_rows = max_rows
        self.max_wait_seconds = max_wait_seconds
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.batches_committed = 0
        self.rows_committed = 0

    async def start(self) -> None:
        await asyncio.to_thread(self.lake.ensure, self.spec)
        self._writer = asyncio.create_task(self._write_batches(), name=f"land-{self.spec.name}")

    async def stop(self) -> None:
        """Finish what is queued, then stop the writer."""
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        self._writer = None

    async def land(self, row: dict[str, Any], job: NewJob | None) -> datetime:
        """Return once the row is durably committed (its landing time); raise LandingFailed."""
        pending = _Pending(row=row, job=job)
        await self._queue.put(pending)
        await asyncio.shield(pending.done)
        return pending.row["landed_at"]

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self.max_wait_seconds > 0:
                await asyncio.sleep(self.max_wait_seconds)
            while len(batch) < self.max_rows and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await asyncio.to_thread(self._commit, batch)
            except Exception as error:  # every waiter must hear about it
                log.error(
                    "landing %d rows in %s failed: %s",
                    len(batch),
                    self.spec.name,
                    type(error).__name__,
                )
                for pending in batch:
                    pending.done.set_exception(LandingFailed(type(error).__name__))
            else:
                for pending in batch:
                    pending.done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _commit(self, batch: list[_Pending]) -> None:
        landed_at = datetime.now(UTC)
        for position, pending in enumerate(batch):
            pending.row["landed_at"] = landed_at
            pending.row["batch_position"] = position
        jobs = [
            dataclasses.replace(pending.job, created_at=landed_at)
            for pending in batch
            if pending.job is not None
        ]
        table = pa.Table.from_pylist(
            [pending.row for pending in batch], schema=self.spec.arrow_schema
        )
        # The jobs are inserted first and committed only after the Delta commit succeeded: a
        # failed append leaves no job behind, and the database being down fails before landing.
        with session_scope(self.database_url) as session:
            register_queued(session, jobs)
            session.flush()
            self.lake.append(self.spec, table)
        self.batches_committed += 1
        self.rows_committed += len(batch)
