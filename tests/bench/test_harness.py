"""The benchmark harness at tiny sizes, so that it cannot rot (no timing is asserted here: numbers
are measured in `make bench`, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import bronze_commit
from bench.harness import FIGURES, BenchContext
from bench.report import Target, judge

REPO = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_a_report_with_each_figure_and_its_floor(tmp_path: Path) -> None:
    out = tmp_path / "out"
    figures = "segment_preview,gold_rebuild"
    command = ["-m", "bench", "--mode", "smoke", "--only", figures, "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["mode"] == "smoke"
    assert report["meta"]["machine"]["cpus"] >= 1
    for name in ("segment_preview", "gold_rebuild"):
        figure = report[name]
        for key in ("seconds", "floor_seconds", "ratio", "peak_rss_mb"):
            assert isinstance(figure[key], int | float), (name, key)
        assert figure["ratio"] > 0
    assert report["segment_preview"]["members"] > 0
    markdown = (out / "report.md").read_text()
    assert "## segment_preview" in markdown
    assert "| floor_seconds |" in markdown


def test_targets_are_judged_met_missed_or_not_measured() -> None:
    targets = (Target("ratio", ">=", 0.7), Target("p99_ms", "<=", 50), Target("absent", "<=", 1))
    judged = judge({"ratio": 0.9, "p99_ms": 51.0}, targets)
    assert judged == {"ratio >= 0.7": True, "p99_ms <= 50": False, "absent <= 1": None}


def test_every_figure_of_the_issue_is_in_the_harness() -> None:
    names = {figure.name for figure in FIGURES}
    assert {"intake", "pipeline", "freshness", "segment_preview", "get_order", "scaling"} <= names


def test_bronze_commit_figure_measures_a_crowded_and_a_maintained_table(tmp_path: Path) -> None:
    figure = bronze_commit.run(BenchContext(mode="smoke", work_dir=tmp_path))
    assert figure["files_before_maintenance"] == figure["commits"] == 60
    assert figure["files_after_maintenance"] == 1
    assert figure["log_entries_removed"] >= figure["commits"]
    for key in ("floor_append_ms", "crowded_append_ms", "maintained_append_ms", "ratio"):
        assert figure[key] > 0, key
