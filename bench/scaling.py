"""Figure `scaling`: does processing cost grow with the changes, not with the table?

Issue 7: "pipeline seconds at 3 sizes of changes against a fixed state, and at a fixed change
size against 3 state sizes: cost should grow with the changes, not with the table."

With N = 200k (full), 10k (quick), 100 (smoke):
- `by_changes`: seconds of the real `process_orders` run for N/4, N/2 and N changes against one
  state of 5N orders (each run on a fresh copy of that state);
- `by_state`: seconds for N/4 changes against states of 5N/4, 5N/2 and 5N orders (S, 2S, 4S; the
  4S point is the N/4 run of `by_changes`, measured once);
- `change_growth_ratio` = seconds at N / seconds at N/4 (4 when cost is proportional to the
  changes; less while a fixed per-run cost dominates);
- `state_growth_ratio` = seconds at 4S / seconds at S (1 when the table size does not matter,
  4 when the run rewrites or scans the whole table);
- `by_state_steps`: the Dagster step split at each state size, to show which step grows.

Set-up (bench/order_state.py) is not timed; it runs in this process because this figure has no
memory target. A tiny warm-up run comes first so one-time imports are not in the first point.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench.harness import BenchContext
from bench.order_state import (
    StatePlan,
    build_cached_state,
    prepare,
    run_process_orders,
    warm_up,
)

STATE_PER_CHANGE = 5


def _timed_run(home: Path, plan: StatePlan, changes: int, template: Path | None) -> dict[str, Any]:
    """Prepare `home` (from `template`, or a fresh state), land `changes`, run; then clean up."""
    prepare(home, plan, changes, template=template)
    timing = run_process_orders(home)
    shutil.rmtree(home, ignore_errors=True)
    return {"seconds": timing.seconds, "steps": timing.steps}


def run(context: BenchContext) -> dict[str, Any]:
    n = context.size(200_000, 10_000, 100)
    work = context.work_dir
    warm_up(work / "warm-up")
    largest = StatePlan(orders=STATE_PER_CHANGE * n, seed=context.seed)
    template = work / "template"
    build_cached_state(template, largest)

    change_sizes = (n // 4, n // 2, n)
    by_changes = {
        size: _timed_run(work / f"changes-{size}", largest, size, template) for size in change_sizes
    }
    fixed = change_sizes[0]
    state_sizes = (largest.orders // 4, largest.orders // 2, largest.orders)
    by_state = {
        size: _timed_run(work / f"state-{size}", StatePlan(size, context.seed), fixed, None)
        for size in state_sizes[:-1]
    }
    by_state[largest.orders] = by_changes[fixed]
    shutil.rmtree(template, ignore_errors=True)

    def seconds(runs: dict[int, dict[str, Any]], size: int) -> float:
        return runs[size]["seconds"]

    return {
        "state_for_changes": largest.orders,
        "changes_for_states": fixed,
        "by_changes": {str(size): seconds(by_changes, size) for size in change_sizes},
        "by_state": {str(size): seconds(by_state, size) for size in state_sizes},
        "change_growth_ratio": round(
            seconds(by_changes, change_sizes[-1]) / seconds(by_changes, change_sizes[0]), 2
        ),
        "state_growth_ratio": round(
            seconds(by_state, state_sizes[-1]) / seconds(by_state, state_sizes[0]), 2
        ),
        "by_state_steps": {str(size): by_state[size]["steps"] for size in state_sizes},
    }
