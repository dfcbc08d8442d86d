"""The benchmark harness: runs each figure in a process of its own and writes the report.

Each figure is a function `run(context) -> dict` in a module of `bench/` (see `FIGURES`). It is
measured beside its floor (the bare library doing the same work) in the same run, because this
machine is shared and noisy: ratios are what we track. A figure runs in its own process so that
its peak memory is its own and a crash costs only that figure.

Modes: `full` (the issue's sizes, `make bench`), `quick` (10x smaller, `make bench-quick`, a few
minutes) and `smoke` (tiny, run by the test suite so the harness cannot rot; no targets judged).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any, Literal, TypeVar

from bench.report import Target, judge, render_markdown

Mode = Literal["full", "quick", "smoke"]
MODES: tuple[Mode, ...] = ("full", "quick", "smoke")
T = TypeVar("T")


@dataclass(frozen=True)
class Figure:
    """One measured figure: where its `run` lives and what it should reach."""

    name: str
    module: str
    targets: tuple[Target, ...] = ()
    in_default_run: bool = True
    """False for a figure too long for `make bench` (the soak has `make soak`)."""


FIGURES: tuple[Figure, ...] = (
    Figure(
        "intake",
        "bench.intake",
        (Target("ratio", ">=", 0.7), Target("p99_ms", "<=", 50)),
    ),
    Figure("get_order", "bench.get_order", (Target("p99_ms", "<=", 20),)),
    Figure(
        "pipeline",
        "bench.pipeline",
        (Target("ratio", "<=", 2), Target("peak_rss_mb", "<=", 4096)),
    ),
    Figure("scaling", "bench.scaling"),
    Figure("freshness", "bench.freshness", (Target("p95_s", "<=", 15),)),
    Figure(
        "segment_preview",
        "bench.segment_preview",
        (Target("ratio", "<=", 1.5), Target("seconds", "<=", 1)),
    ),
    Figure("gold_rebuild", "bench.gold_rebuild", (Target("seconds", "<=", 60),)),
    Figure("bronze_commit", "bench.bronze_commit", (Target("ratio", "<=", 1.5),)),
    Figure(
        "soak",
        "bench.soak",
        (
            Target("rss_growth_pct", "<=", 10),
            Target("fds_growth_pct", "<=", 10),
            Target("unsettled", "<=", 0),
        ),
        in_default_run=False,
    ),
)


@dataclass(frozen=True)
class BenchContext:
    """What a figure's `run` gets: the mode, a scratch folder of its own, and the seed."""

    mode: Mode
    work_dir: Path
    seed: int = 20261127

    def size(self, full: T, quick: T, smoke: T) -> T:
        """The value for this mode."""
        return {"full": full, "quick": quick, "smoke": smoke}[self.mode]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import deltalake
    import polars

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "deltalake": deltalake.__version__,
    }


def run_figures(mode: Mode, out_dir: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Run the figures (all, or `only`) one process each; write report.json and report.md."""
    figures = [
        figure
        for figure in FIGURES
        if (figure.in_default_run if only is None else figure.name in only)
    ]
    report: dict[str, Any] = {
        "meta": {
            "mode": mode,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
        }
    }
    for figure in figures:
        print(f"[bench] {figure.name} ({mode}) ...", file=sys.stderr, flush=True)
        result = _run_in_child(figure, mode)
        if mode != "smoke":
            result["targets"] = judge(result, figure.targets)
        report[figure.name] = result
        print(f"[bench] {figure.name}: {json.dumps(result)}", file=sys.stderr, flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "report.md").write_text(render_markdown(report, FIGURES))
    return report


def _run_in_child(figure: Figure, mode: Mode) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"bench-{figure.name}-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "bench.harness", figure.module, mode, scratch]
        completed = subprocess.run(command, check=False)
        if completed.returncode != 0 or not result_file.exists():
            return {"error": f"exited with {completed.returncode}"}
        result: dict[str, Any] = json.loads(result_file.read_text())
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _child(module: str, mode: Mode, scratch: str) -> None:
    """In the figure's own process: run it and record its peak memory beside its numbers."""
    work_dir = Path(scratch) / "work"
    work_dir.mkdir()
    result = import_module(module).run(BenchContext(mode=mode, work_dir=work_dir))
    result.setdefault("peak_rss_mb", process_peak_rss_mb())
    shutil.rmtree(work_dir, ignore_errors=True)
    (Path(scratch) / "result.json").write_text(json.dumps(result))


def process_peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3])  # type: ignore[arg-type]
