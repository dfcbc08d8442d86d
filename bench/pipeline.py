"""Figure `pipeline`: processing N order changes into a state of 5N orders, beside its floor.

Issue 7: "processing N order changes (mix of creates, replaces, status changes) into a state of
5N orders (quick: N = 100k; full: N = 1M; smoke: N = 200)". Target: ratio ≤ 2, peak RSS ≤ 4 GB.

- Set-up (not timed, in a process of its own so its memory is not the figure's): a lake and a
  SQLite operational database with 5N current orders, their contacts and the registers, then N
  changes landed in group commits of 2000 (bench/order_state.py, data from
  schemas/sample_orders.py). Later runs restore it from bench/state_cache.py (`setup_cached`).
- `seconds`: the real `process_orders` job run in-process, from the watermark to the last landed
  commit (after a tiny warm-up run, so one-time imports are not counted); `steps` splits it by
  Dagster step.
- `peak_rss_mb`: the highest resident memory while the job ran (sampled every 50 ms).
  `floor_peak_rss_mb` is the floor's, `process_peak_rss_mb` the figure process's over
  everything it did (warm-up, job and floor: at N = 1M the floor's MERGE peaks higher than
  the job).
- `floor_seconds`: one hand-written polars + deltalake MERGE of the same final rows (the newest
  version of every changed order, as silver `orders` rows) into a copy of the same `orders`
  table, upsert by order_id: the least any processing of these changes must write.

    .venv/bin/python -m bench.pipeline [--changes N] [--profile FILE.prof] [--keep DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from assets.orders.state import latest_versions_in_range
from bench.harness import BenchContext, process_peak_rss_mb
from bench.order_state import (
    Prepared,
    RssSampler,
    StatePlan,
    bench_settings,
    prepare_in_child,
    processed_summary,
    run_process_orders,
    warm_up,
)
from schemas.tables import ORDER_CHANGES, ORDERS
from storage.lake import Lake

STATE_PER_CHANGE = 5


def floor_merge(home: Path, watermark: int) -> tuple[float, int]:
    """MERGE the run's final order rows into the copy of `orders` taken before the run; returns
    (seconds, rows in the merged table). Only the merge is timed: the source is what any
    processing has to produce first, whatever it costs."""
    lake = Lake(bench_settings(home).resolved_lake_uri)
    through = lake.version(ORDER_CHANGES)
    source = (
        latest_versions_in_range(lake, watermark, through)
        .filter(~pl.col("is_deleted"))
        .select(ORDERS.column_names)
    )
    target = str(home / "floor" / ORDERS.path)
    started = time.perf_counter()
    (
        source.write_delta(
            target,
            mode="merge",
            delta_merge_options={
                "predicate": "t.order_id = s.order_id",
                "source_alias": "s",
                "target_alias": "t",
            },
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    seconds = time.perf_counter() - started
    return seconds, pl.scan_delta(target).select(pl.len()).collect().item()


def measure(work_dir: Path, changes: int, seed: int, profile: Path | None = None) -> dict[str, Any]:
    """Set up, warm up, run the job, run the floor; the figure's numbers."""
    plan = StatePlan(orders=STATE_PER_CHANGE * changes, seed=seed)
    home = work_dir / "state"
    prepared: Prepared = prepare_in_child(home, plan, changes, floor_copy=True)
    warm_up(work_dir / "warm-up")
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    timing = run_process_orders(home)
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    summary = processed_summary(home, prepared.watermark)
    with RssSampler() as floor_sampler:
        floor_seconds, floor_rows = floor_merge(home, prepared.watermark)
    if floor_rows != summary["orders_after"]:
        raise AssertionError(f"floor has {floor_rows} orders, the run {summary['orders_after']}")
    return {
        "changes": changes,
        "state_orders": plan.orders,
        "seconds": timing.seconds,
        "floor_seconds": round(floor_seconds, 3),
        "ratio": round(timing.seconds / floor_seconds, 2),
        "steps": timing.steps,
        "step_peak_rss_mb": timing.step_peak_rss_mb,
        "peak_rss_mb": timing.peak_rss_mb,
        "floor_peak_rss_mb": floor_sampler.peak(),
        "process_peak_rss_mb": process_peak_rss_mb(),
        "runs": timing.runs,
        "bronze_commits": prepared.bronze_version - prepared.watermark,
        **summary,
        "setup_seconds": round(prepared.seconds, 1),
        "setup_cached": prepared.cached,
    }


def run(context: BenchContext) -> dict[str, Any]:
    changes = context.size(1_000_000, 100_000, 200)
    return measure(context.work_dir, changes, context.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=BenchContext("quick", Path()).seed)
    parser.add_argument("--profile", type=Path, help="cProfile the timed run into this file")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    arguments = parser.parse_args()
    work_dir = arguments.keep or Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        print(measure(work_dir, arguments.changes, arguments.seed, arguments.profile))
    finally:
        if arguments.keep is None:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
