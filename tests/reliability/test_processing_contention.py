"""Two processing runs at once: one writer per table at any moment, and the same result as one.

Operators may start `engage-orders process` while the daemon's sensors launch runs, or twice by
hand. Every asset that writes a Delta table declares a Dagster pool named after the table (one
slot), and holds the table's writer lock while it runs (storage/table_locks.py): a second writer
waits for the first, rather than both committing and one failing on the conflict.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import polars as pl
import pyarrow as pa
import pytest
from deltalake.table import TableMerger

from schemas.table_spec import TableSpec, string
from schemas.tables import ORDER_VERSIONS, ORDERS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.orders import order_body, post_order, put_order, succeeded_tag
from tests.support.processing_runs import (
    StepSpan,
    dagster_home,
    finish,
    open_instance,
    start_process,
    step_spans,
)

ORDERS_POSTED = 40
REPLACED = 20
PER_RUN = "5"
"""ENGAGE_MAX_CHANGES_PER_RUN: the backlog takes a dozen runs, so the two processes interleave."""


@dataclass(frozen=True)
class Write:
    """One Delta write (append, merge or overwrite) of one process."""

    table: str
    pid: int
    start: float
    end: float


def writes(log: Path) -> list[Write]:
    return [Write(**json.loads(line)) for line in log.read_text().splitlines()]


def overlapping(all_writes: list[Write]) -> list[tuple[Write, Write]]:
    """Pairs of writes of one table by two processes at the same time."""
    pairs = []
    for _, same_table in itertools.groupby(
        sorted(all_writes, key=lambda write: (write.table, write.start)), key=lambda w: w.table
    ):
        for first, second in itertools.pairwise(same_table):
            if second.pid != first.pid and second.start < first.end:
                pairs.append((first, second))
    return pairs


def wait_for_run(home: Path, job: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    with open_instance(home) as instance:
        while not instance.get_run_records(filters=dg.RunsFilter(job_name=job), limit=1):
            assert time.monotonic() < deadline, f"no {job} run started"
            time.sleep(0.2)


def ran_side_by_side(spans: list[StepSpan], job: str) -> bool:
    """Whether two runs of `job` were under way at the same moment."""
    runs: dict[str, tuple[float, float]] = {}
    for span in spans:
        if span.job == job:
            start, end = runs.get(span.run_id, (span.started, span.ended))
            runs[span.run_id] = (min(start, span.started), max(end, span.ended))
    ordered = sorted(runs.values())
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


# The writers are kept apart by file locks on the lake and by Dagster's pools in its own
# storage: the operational database plays no part.
@pytest.mark.databases("sqlite")
@pytest.mark.timeout(900)
def test_two_processing_runs_at_once_never_write_one_table_together(
    api: httpx.Client, settings: EngageSettings, tmp_path: Path
) -> None:
    jobs = [post_order(api, order_body(f"TWICE-{n:03d}")) for n in range(ORDERS_POSTED)]
    jobs += [
        put_order(api, order_body(f"TWICE-{n:03d}", status="Completed")) for n in range(REPLACED)
    ]
    home = dagster_home(tmp_path)
    log = tmp_path / "writes.jsonl"

    def start() -> subprocess.Popen[str]:
        return start_process(
            settings, home, record_writes_to=log, ENGAGE_MAX_CHANGES_PER_RUN=PER_RUN
        )

    first = start()
    # The second starts once the first is processing orders (it starts up slower than the
    # first works through a small backlog, and the two would just take turns).
    wait_for_run(home, "process_orders")
    outcomes = [finish(process) for process in (first, start())]

    for code, output in outcomes:
        assert code == 0, output[-3000:]
        assert "commit conflict" not in output
    with open_instance(home) as instance:
        spans = step_spans(instance)
    # Both processes ran the orders job side by side, or nothing here was contended.
    assert ran_side_by_side(spans, "process_orders")
    recorded = writes(log)
    assert len({write.pid for write in recorded}) == 2
    assert overlapping(recorded) == []

    lake = Lake(settings.resolved_lake_uri)
    versions = lake.scan(ORDER_VERSIONS).group_by("order_id").len().collect()
    assert Counter(versions["len"].to_list()) == Counter({2: REPLACED, 1: ORDERS_POSTED - REPLACED})
    current = lake.scan(ORDERS).select("order_id", "status").collect()
    assert current.height == ORDERS_POSTED
    assert current.filter(pl.col("status") == "Completed").height == REPLACED
    for job_id in jobs:
        succeeded_tag(api, job_id)


CONTENDED = TableSpec(
    name="contended",
    layer="silver",
    description="A table two writers commit to at once.",
    key=("id",),
    columns=(string("id", "Key.", nullable=False), string("note", "Who wrote last.")),
)


def test_a_merge_that_loses_a_commit_race_is_retried_and_keeps_the_winners_write(
    tmp_path: Path,
) -> None:
    """Without pools (another tool writing the table, or an operator's script), two writers can
    still meet: the loser's MERGE is retried on the new version instead of failing the run."""
    lake = Lake(str(tmp_path))
    rows = pa.Table.from_pydict({"id": ["a", "b"], "note": ["", ""]}, CONTENDED.arrow_schema)
    lake.append(CONTENDED, rows)
    attempts = 0

    def clauses_racing_another_writer(merger: TableMerger) -> TableMerger:
        nonlocal attempts
        attempts += 1
        if attempts == 1:  # after this MERGE read the table, another process commits to it
            update(Lake(str(tmp_path)), "b", "the other writer")
        return merger.when_matched_update({"note": "s.note"})

    lake.merge(
        CONTENDED,
        pa.Table.from_pydict({"id": ["a"], "note": ["this writer"]}, CONTENDED.arrow_schema),
        predicate="t.id = s.id",
        clauses=clauses_racing_another_writer,
    )

    assert attempts == 2
    assert lake.scan(CONTENDED).sort("id").collect().rows() == [
        ("a", "this writer"),
        ("b", "the other writer"),
    ]
    operations = [entry["operation"] for entry in lake.table(CONTENDED).history()]
    assert operations[:2] == ["MERGE", "MERGE"]


def update(lake: Lake, key: str, note: str) -> None:
    lake.merge(
        CONTENDED,
        pa.Table.from_pydict({"id": [key], "note": [note]}, CONTENDED.arrow_schema),
        predicate="t.id = s.id",
        clauses=lambda merger: merger.when_matched_update({"note": "s.note"}),
    )
