"""The `pipeline` and `scaling` benchmark figures at smoke size, so they cannot rot.

They run the real `process_orders` job on a generated state (bench/order_state.py). No timing is
asserted: numbers are measured by `python -m bench`, never judged in tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PIPELINE_KEYS = (
    "changes",
    "seconds",
    "floor_seconds",
    "ratio",
    "peak_rss_mb",
    "floor_peak_rss_mb",
    "process_peak_rss_mb",
    "orders_after",
)
SCALING_KEYS = ("change_growth_ratio", "state_growth_ratio", "peak_rss_mb")


def numbers(value: Any) -> bool:
    """True if `value` is a number, or a (nested) dict of numbers."""
    if isinstance(value, dict):
        return bool(value) and all(numbers(item) for item in value.values())
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_pipeline_and_scaling_figures_run_at_smoke_size(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = ["-m", "bench", "--mode", "smoke", "--only", "pipeline,scaling", "--out", str(out)]
    cache = tmp_path / "cache"
    completed = subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        env={**os.environ, "ENGAGE_BENCH_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())

    pipeline = report["pipeline"]
    assert "error" not in pipeline
    for key in PIPELINE_KEYS:
        assert numbers(pipeline[key]), (key, pipeline.get(key))
    assert pipeline["changes"] == 200
    assert pipeline["state_orders"] == 1000
    assert numbers(pipeline["steps"])
    assert {"apply_order_changes", "orders", "order_lines", "order_view"} <= set(pipeline["steps"])
    # The job's peak covers its steps (the same sampler). It is not compared with the process's
    # peak: the kernel's high-water mark lags the samples and can read a little lower.
    assert max(pipeline["step_peak_rss_mb"].values()) <= pipeline["peak_rss_mb"]
    # Every landed change was processed: new orders were created, and the floor agreed.
    assert pipeline["orders_after"] > pipeline["state_orders"]
    # The set-ups were kept for the next run (bench/state_cache.py).
    assert not pipeline["setup_cached"]
    assert any(cache.iterdir())

    scaling = report["scaling"]
    assert "error" not in scaling
    for key in SCALING_KEYS:
        assert numbers(scaling[key]), (key, scaling.get(key))
    assert set(scaling["by_changes"]) == {"25", "50", "100"}
    assert set(scaling["by_state"]) == {"125", "250", "500"}
    for key in ("by_changes", "by_state", "by_state_steps"):
        assert numbers(scaling[key]), (key, scaling[key])
