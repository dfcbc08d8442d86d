"""The soak figure's readings and verdict (the 30-minute run itself is `make soak`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from bench.soak import flatness, processes, tables
from schemas.table_spec import TableSpec, string
from storage.lake import Lake


def sample(t_s: int, rss: float, fds: int) -> dict[str, object]:
    return {
        "t_s": t_s,
        "rss_per_role_mb": rss,
        "fds_per_role": fds,
        "rss_mb": rss * 1.5,
        "active_files": 10,
        "files_on_disk": t_s,
        "max_commits_since_checkpoint": 3,
        "dagster_home_mb": t_s / 60,
    }


def test_flatness_compares_the_first_and_last_thirds_after_the_warm_up() -> None:
    warm_up = [sample(0, 100.0, 10), sample(60, 5000.0, 500)]  # ignored: the first fifth
    steady = [sample(120 + 60 * n, 1000.0 + (200.0 if n >= 6 else 0.0), 50) for n in range(8)]

    verdict = flatness(warm_up + steady)

    assert verdict["samples_steady"] == 8
    assert verdict["rss_mb_first"] == 1000.0
    assert verdict["rss_mb_last"] == 1200.0
    assert verdict["rss_growth_pct"] == 20.0
    assert verdict["fds_growth_pct"] == 0.0
    assert verdict["files_on_disk_per_min"] == 60.0


def test_processes_reads_a_process_tree_by_role() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        reading = processes(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert reading["roles"]["supervisor"]["count"] == 1
    assert reading["roles"]["other"]["count"] >= 1
    assert reading["rss_mb"] > reading["rss_per_role_mb"] > 0
    assert reading["fds"] >= reading["fds_per_role"] > 0


def test_tables_counts_active_files_log_entries_and_commits_since_checkpoint(
    tmp_path: Path,
) -> None:
    lake = Lake(str(tmp_path / "lake"))
    spec = TableSpec("notes", "silver", "A table.", (string("id", "Key."),), key=("id",))
    for number in range(3):
        lake.append(spec, pa.Table.from_pylist([{"id": f"n{number}"}], schema=spec.arrow_schema))

    reading = tables(tmp_path / "lake")

    notes = reading["tables"]["silver/notes"]
    assert notes["version"] == 3
    assert notes["active_files"] == notes["files_on_disk"] == 3
    assert notes["commits_since_checkpoint"] == 4
    assert reading["active_files"] == 3
