"""Group commit: concurrent requests share one durable Delta append before each gets its 202.

A request hands its bronze row to the committer and waits. One writer task takes everything that
queued up while the previous commit was in flight and lands it in a single Delta commit (fsynced),
registering the batch's jobs as Queued in the same step. So throughput grows with concurrency
instead of paying one commit (~10-30 ms) per request, and no request is answered before its row is
on disk.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest_api.metrics import IntakeMetrics
from schemas.table_spec import TableSpec
from storage.jobs import NewJob
from storage.lake import Lake
from storage.landing import land_batch

log = logging.getLogger(__name__)


class LandingFailed(Exception):
    """The batch could not be committed; none of its requests were acknowledged."""


@dataclass
class _Pending:
    rows: list[dict[str, Any]]
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
        metrics: IntakeMetrics | None = None,
    ) -> None:
        self.lake = lake
        self.metrics = metrics
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

    async def land(self, rows: list[dict[str, Any]], job: NewJob | None) -> datetime:
        """Return once the rows are durably committed (their landing time); raise LandingFailed.

        One request's rows always share a commit, so a request lands whole or not at all.
        """
        pending = _Pending(rows=rows, job=job)
        await self._queue.put(pending)
        await asyncio.shield(pending.done)
        return pending.rows[0]["landed_at"]

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self.max_wait_seconds > 0:
                await asyncio.sleep(self.max_wait_seconds)
            rows = len(batch[0].rows)
            while rows < self.max_rows and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                rows += len(batch[-1].rows)
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
                if self.metrics is not None:
                    self.metrics.observe_landing_failure(self.spec.name)
            else:
                for pending in batch:
                    pending.done.set_result(None)
                if self.metrics is not None:
                    self.metrics.observe_commit(self.spec.name, rows)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _commit(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        jobs = [pending.job for pending in batch if pending.job is not None]
        land_batch(self.lake, self.database_url, self.spec, rows, jobs)
        self.batches_committed += 1
        self.rows_committed += len(rows)
