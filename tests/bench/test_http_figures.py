"""The HTTP benchmark figures (`intake`, `get_order`, `freshness`) run end to end in smoke mode.

They start real servers (`engage-orders serve`, `engage-orders run` with Dagster) and drive them
with autocannon and the paced client, so a change that breaks a figure (a route, a CLI option,
the autocannon wrapper, the seeding of the order view) shows up here rather than on the day
someone runs `make bench`. Only the report's shape and correctness are checked, never timings:
smoke sizes are tiny and this machine is shared.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.loadgen import AUTOCANNON_MODULE, PROJECT_ROOT

FIGURE_KEYS = {
    "intake": (
        "orders_per_s",
        "p50_ms",
        "p99_ms",
        "floor_orders_per_s",
        "floor_p99_ms",
        "ratio",
        "non_2xx",
    ),
    "get_order": ("orders", "rate_per_s", "p50_ms", "p99_ms", "floor_p50_ms", "floor_p99_ms"),
    "freshness": ("orders", "rate_per_s", "p50_s", "p95_s", "max_s", "unsettled"),
}


@pytest.mark.parametrize("figure", list(FIGURE_KEYS))
def test_figure_reports_its_numbers_in_smoke_mode(figure: str, tmp_path: Path) -> None:
    """One harness run per figure, so that pytest-xdist can run the three side by side."""
    assert AUTOCANNON_MODULE.is_dir(), "autocannon is not installed: run `make bench-setup`"
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--mode",
        "smoke",
        "--only",
        figure,
        "--out",
        str(out),
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, "ENGAGE_BENCH_CACHE": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        check=False,
        timeout=420,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["mode"] == "smoke"
    result = report[figure]
    assert "error" not in result, result
    for key in FIGURE_KEYS[figure]:
        value = result.get(key)
        assert isinstance(value, int | float), (key, value)
        assert not isinstance(value, bool), (key, value)
        assert math.isfinite(value), (key, result)
    _assert_answered_correctly(figure, result)
    assert f"## {figure}" in (out / "report.md").read_text()


def _assert_answered_correctly(figure: str, result: dict[str, Any]) -> None:
    """Correctness, not speed: every request was answered as it should be."""
    assert result.get("non_2xx") == 0, result
    if figure == "intake":
        # Every 202 is a landed row (more rows than 202s: requests cut off when the load ended).
        assert result["landed_rows"] >= result["accepted"] > 0, result
    elif figure == "get_order":
        assert result["requests"] > 0, result
    else:
        assert result["orders"] > 0, result
        assert result["status_mismatches"] == 0, result
        # The processing runs were read back, with where their time went.
        assert result["processing_runs"] > 0, result
        assert isinstance(result["run_step_p50_s"], dict), result
