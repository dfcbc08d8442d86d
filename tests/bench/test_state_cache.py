"""The benchmarks' cache of prepared installations (bench/state_cache.py): a second run with the
same inputs restores what the first built, and nothing a run does to its copy reaches the cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bench.state_cache import KEEP_ENTRIES, restore_or_build

PARAMETERS = {"orders": 10, "seed": 1, "changes": 5}


@pytest.fixture(autouse=True)
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("ENGAGE_BENCH_CACHE", str(root))
    return root


class Builder:
    """Builds a small installation: a Delta table and a SQLite database; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, home: Path) -> dict[str, Any]:
        self.calls += 1
        pl.DataFrame({"order_id": ["a", "b"]}).write_delta(str(home / "lake" / "orders"))
        with sqlite3.connect(home / "engage.db") as connection:
            connection.execute("CREATE TABLE jobs (job_id TEXT)")
            connection.execute("INSERT INTO jobs VALUES ('j1')")
        connection.close()
        return {"watermark": 7}


def jobs(home: Path) -> list[str]:
    with sqlite3.connect(home / "engage.db") as connection:
        rows = [row[0] for row in connection.execute("SELECT job_id FROM jobs")]
    connection.close()
    return rows


def test_a_second_run_restores_the_installation_instead_of_building_it(tmp_path: Path) -> None:
    build = Builder()

    first, first_cached = restore_or_build(tmp_path / "one", PARAMETERS, build)
    second, second_cached = restore_or_build(tmp_path / "two", PARAMETERS, build)

    assert build.calls == 1
    assert (first_cached, second_cached) == (False, True)
    assert first == second == {"watermark": 7}
    assert pl.read_delta(str(tmp_path / "two" / "lake" / "orders"))["order_id"].to_list() == [
        "a",
        "b",
    ]
    assert jobs(tmp_path / "two") == ["j1"]


def test_what_a_run_writes_to_its_copy_never_reaches_the_cache(tmp_path: Path) -> None:
    build = Builder()
    restore_or_build(tmp_path / "one", PARAMETERS, build)
    used = tmp_path / "two"
    restore_or_build(used, PARAMETERS, build)

    # A run writes the database in place and commits to the lake.
    with sqlite3.connect(used / "engage.db") as connection:
        connection.execute("INSERT INTO jobs VALUES ('j2')")
    connection.close()
    pl.DataFrame({"order_id": ["c"]}).write_delta(str(used / "lake" / "orders"), mode="overwrite")

    fresh = tmp_path / "three"
    restore_or_build(fresh, PARAMETERS, build)
    assert jobs(fresh) == ["j1"]
    assert pl.read_delta(str(fresh / "lake" / "orders"))["order_id"].to_list() == ["a", "b"]
    assert build.calls == 1


def test_other_parameters_build_afresh(tmp_path: Path) -> None:
    build = Builder()
    restore_or_build(tmp_path / "one", PARAMETERS, build)
    _, cached = restore_or_build(tmp_path / "two", {**PARAMETERS, "changes": 6}, build)

    assert not cached
    assert build.calls == 2


def test_only_the_newest_entries_are_kept(tmp_path: Path, cache_root: Path) -> None:
    build = Builder()
    for changes in range(KEEP_ENTRIES + 2):
        restore_or_build(tmp_path / f"home-{changes}", {**PARAMETERS, "changes": changes}, build)

    assert len(list(cache_root.iterdir())) == KEEP_ENTRIES


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGAGE_BENCH_CACHE", "off")
    build = Builder()
    restore_or_build(tmp_path / "one", PARAMETERS, build)
    _, cached = restore_or_build(tmp_path / "two", PARAMETERS, build)

    assert not cached
    assert build.calls == 2
