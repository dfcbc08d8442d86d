"""One writer per Delta table on a local lake, across processes.

Dagster's pools (one slot per table) schedule the writers, but with Dagster's default SQLite
storage a slot claim is not atomic across processes: it selects a free slot row, then updates it,
with no lock between the two. Two runs in two processes can both take the one slot and write the
table together (tests/reliability/test_processing_contention.py saw it). Delta's conflict
detection keeps the table right even then: the later commit fails and is retried. This lock keeps
the writers apart in the first place, for the whole read-compute-commit of a step.

An advisory `flock` on `<lake>/_locks/<table>.lock`: the kernel releases it when its holder dies,
so a killed run never leaves a table locked. Object-storage lakes are shared by several machines,
where a file lock means nothing: there, Dagster keeps its storage in PostgreSQL, whose slot claim
is atomic (`SELECT ... FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from storage.lake import Lake

LOCKS_FOLDER = "_locks"


@contextmanager
def table_writer(lake: Lake, *names: str) -> Iterator[None]:
    """Hold the writer lock of each named table (in name order, so two holders of overlapping
    sets cannot deadlock) until the block ends; waits for a current holder."""
    if not lake.is_local:
        yield
        return
    folder = Path(lake.root_uri.removeprefix("file://")) / LOCKS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        for name in sorted(set(names)):
            held.enter_context(_flocked(folder / f"{name}.lock"))
        yield


@contextmanager
def _flocked(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
