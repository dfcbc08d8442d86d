"""Figure `gold_rebuild`: the full gold rebuild at scale (1M orders / 5M order lines in full mode).

Generates silver tables and contacts (bench/synthetic.py), then runs the real `build_gold` job
in-process (dimensions, facts, segmentation model, memberships, checks). The floor, measured in
the same run: bare polars reading the same silver tables and writing them once to Delta, the I/O
every rebuild pays, with none of our joins or checks. (Previews are the `segment_preview` figure.)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from bench.harness import BenchContext
from bench.synthetic import Scale, write_silver
from pipelines.definitions import build_definitions
from schemas.tables import ORDER_LINES, ORDERS, RECEIPT_LINES
from storage.lake import Lake
from storage.settings import EngageSettings


def rebuild_floor(lake: Lake, scratch: Path) -> float:
    """Read the big silver tables and write each once: the I/O floor of any full rebuild."""
    started = time.perf_counter()
    for spec in (ORDERS, ORDER_LINES, RECEIPT_LINES):
        lake.scan(spec).drop("document", strict=False).collect().write_delta(
            str(scratch / spec.name), mode="overwrite"
        )
    return time.perf_counter() - started


def build_gold(settings: EngageSettings) -> float:
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("build_gold")
    started = time.perf_counter()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return time.perf_counter() - started


def run(context: BenchContext) -> dict[str, Any]:
    orders = context.size(1_000_000, 100_000, 1_000)
    scale = Scale(
        orders=orders,
        contacts=max(orders // 2, 1),
        receipts=orders,
        articles=min(20_000, max(orders // 10, 10)),
    )
    settings = EngageSettings(home=context.work_dir / "engage")
    lake = Lake(settings.resolved_lake_uri)
    write_silver(lake, settings.resolved_database_url, scale, datetime.now(UTC))
    floor = rebuild_floor(lake, context.work_dir / "floor")
    seconds = build_gold(settings)
    return {
        "orders": scale.orders,
        "order_lines": scale.orders * scale.lines_per_order,
        "seconds": round(seconds, 2),
        "floor_seconds": round(floor, 2),
        "ratio": round(seconds / floor, 2),
    }
