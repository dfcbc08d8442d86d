"""Figure `soak`: the product under a steady load for a long time stays the same size.

`engage-orders run` (intake, Dagster webserver and daemon, the sensors launching processing,
delivery and maintenance runs) in a process of its own, on a fresh embedded installation in the
scratch folder. A paced client posts orders at a constant rate (50/s for 30 minutes in full
mode): two in three are new orders, one in three a later version of an earlier order, so the
merges update as well as insert. Meanwhile a poller settles the jobs (as the `freshness` figure
does), and every `interval` a sampler records:

- the resident memory, open file descriptors and threads of every process of the product, by
  role (intake, daemon, webserver, code server, run workers);
- per Delta table: the files of its current version, the files on disk, the log entries and
  the commits since its last checkpoint;
- the sizes of the lake, the operational database and `DAGSTER_HOME`;
- accepted, settled and outstanding jobs.

At the end it counts Dagster's runs and sensor/schedule ticks by status: a failed tick or run
under a steady load is a fault to look into.

Flat means: after a warm-up (the first fifth), the median of the last third is within a few
percent of the median of the first third, for the memory and descriptors of the long-lived
processes (one process per role: intake, daemon, webserver, code server, supervisor; run workers
come and go with their runs), and the tables' active files and commits since checkpoint stay
bounded. Files on disk are expected to grow until they
are an hour old: vacuum and log clean-up keep at least an hour of history
(storage/lake_maintenance.py, `MIN_HISTORY`), so a 30-minute run shows their growth rate, not
their plateau.

Linux only: processes are read from /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import time
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from bench.freshness import Tracker, poll_settled
from bench.harness import BenchContext
from bench.loadgen import (
    HttpPool,
    console_script,
    describe,
    free_port,
    new_api_key,
    paced,
    percentile,
    product_env,
    product_settings,
    run_async,
    served,
)
from bench.order_payloads import order_document
from storage.apikeys import Scope

READY_TIMEOUT_S = 240.0
POLL_INTERVAL_S = 2.0
UPDATE_EVERY = 3
"""Every third request is a later version of an order posted before."""
ROLES = (
    ("run_worker", ("execute_run", "execute_step", "spawn_main")),
    ("code_server", ("code-server", "grpc")),
    ("daemon", ("dagster-daemon",)),
    ("webserver", ("dagster-webserver",)),
    ("intake", ("serve", "uvicorn")),
)
"""How a process of the product is named, by words of its command line (first match wins)."""
TRANSIENT = ("run_worker", "other")
"""Roles whose processes come and go (a run worker lives for one run): a sample's memory depends
on whether one was alive at that moment, so flatness is judged on the long-lived ones."""


@dataclass
class Soak:
    """What the sampler saw, one dict per sample."""

    started: float = field(default_factory=time.perf_counter)
    samples: list[dict[str, Any]] = field(default_factory=list)


def run(context: BenchContext) -> dict[str, Any]:
    rate = context.size(50, 50, 10)
    duration_s = context.size(1800, 180, 20)
    interval_s = context.size(60.0, 15.0, 5.0)
    settle_timeout_s = context.size(300.0, 180.0, 120.0)
    settings = product_settings(context.work_dir)
    key = new_api_key(settings, Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    api_port, ui_port = free_port(), free_port()
    command = [
        console_script("engage-orders"),
        "run",
        *("--api-port", str(api_port), "--ui-port", str(ui_port)),
    ]
    home = settings.resolved_home
    with served(
        command,
        port=api_port,
        log_path=context.work_dir / "run.log",
        env=product_env(settings),
        startup_timeout_s=READY_TIMEOUT_S,
    ) as process:
        tracker, soak = run_async(
            lambda: _soak(
                process.pid, home, api_port, key, rate, duration_s, interval_s, settle_timeout_s
            )
        )
    return {
        "rate_per_s": rate,
        "duration_s": duration_s,
        "accepted": tracker.accepted,
        "settled": len(tracker.freshness_s),
        "unsettled": tracker.accepted - len(tracker.freshness_s),
        "failed": tracker.failed,
        "non_2xx": sum(tracker.rejected.values()),
        "non_2xx_detail": describe(tracker.rejected),
        "freshness_p50_s": round(percentile(list(tracker.freshness_s.values()), 0.5), 2),
        "freshness_p95_s": round(percentile(list(tracker.freshness_s.values()), 0.95), 2),
        **flatness(soak.samples),
        **dagster_outcomes(home / "dagster"),
        "samples": soak.samples,
    }


def dagster_outcomes(dagster_home: Path) -> dict[str, Any]:
    """Runs and sensor/schedule ticks by status, read from the embedded instance's SQLite files
    (read-only) once the product has stopped: a failed tick or run is a fault the soak found."""

    def count(database: Path, query: str) -> dict[str, int]:
        if not database.exists():
            return {}
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            return {str(status): int(number) for status, number in connection.execute(query)}

    return {
        "dagster_runs": count(
            dagster_home / "history" / "runs.db",
            "SELECT status, COUNT(*) FROM runs GROUP BY status",
        ),
        "dagster_failed_runs_by_job": count(
            dagster_home / "history" / "runs.db",
            "SELECT pipeline_name, COUNT(*) FROM runs WHERE status = 'FAILURE' "
            "GROUP BY pipeline_name",
        ),
        "dagster_ticks": count(
            dagster_home / "schedules" / "schedules.db",
            "SELECT status, COUNT(*) FROM job_ticks GROUP BY status",
        ),
    }


async def _soak(
    pid: int,
    home: Path,
    port: int,
    key: str,
    rate: int,
    duration_s: int,
    interval_s: float,
    settle_timeout_s: float,
) -> tuple[Tracker, Soak]:
    tracker, soak = Tracker(), Soak()
    posts = HttpPool(
        port, headers={"apikey": key, "Content-Type": "application/json"}, max_connections=32
    )
    polls = HttpPool(port, headers={"apikey": key}, max_connections=1)
    wall_offset = time.time() - time.perf_counter()
    tag = f"SOAK-{int(time.time())}"

    posting = asyncio.create_task(
        paced(
            posts,
            partial(soak_request, tag),
            rate=rate,
            count=rate * duration_s,
            on_sample=tracker.on_sample,
        )
    )
    next_sample = time.perf_counter()
    deadline: float | None = None
    try:
        while True:
            if time.perf_counter() >= next_sample:
                soak.samples.append(sample(pid, home, tracker, soak.started))
                next_sample += interval_s
            await asyncio.sleep(POLL_INTERVAL_S)
            await poll_settled(polls, tracker, wall_offset)
            if posting.done():
                posting.result()
                deadline = deadline or time.perf_counter() + settle_timeout_s
                if not tracker.pending or time.perf_counter() > deadline:
                    break
        soak.samples.append(sample(pid, home, tracker, soak.started))
    finally:
        await posts.close()
        await polls.close()
    return tracker, soak


def soak_request(tag: str, index: int) -> tuple[str, str, bytes]:
    """Request `index`: a new order, or (every third) a replace of an earlier one, completed."""
    if index % UPDATE_EVERY == UPDATE_EVERY - 1:
        order_id = f"{tag}-{index // UPDATE_EVERY}"
        document = order_document(order_id)
        document["status"] = "Completed"
        document["externalStatus"] = "Delivered"
        document["lastChangedAt"] = "2025-11-23T18:05:00+01:00"
        document.pop("action")
        method, path = "PUT", f"/api/v3/orders/{order_id}"
    else:
        document = order_document(f"{tag}-{index - index // UPDATE_EVERY}")
        method, path = "POST", "/api/v3/orders"
    return method, path, json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sample(pid: int, home: Path, tracker: Tracker, started: float) -> dict[str, Any]:
    """One reading of the product's processes, tables and sizes."""
    return {
        "t_s": round(time.perf_counter() - started),
        "accepted": tracker.accepted,
        "settled": len(tracker.freshness_s),
        "outstanding": len(tracker.pending),
        **processes(pid),
        **tables(home / "lake"),
        "lake_mb": _megabytes(home / "lake"),
        "database_mb": _megabytes(home / "engage.db"),
        "dagster_home_mb": _megabytes(home / "dagster"),
    }


# Processes, from /proc.


def processes(root: int) -> dict[str, Any]:
    """Memory, descriptors and threads of `root` and its descendants, in total and by role."""
    by_role: dict[str, dict[str, float]] = {}
    for pid in [root, *_descendants(root)]:
        reading = _process(pid)
        if reading is None:
            continue
        role, rss_mb, fds, threads = reading
        role = "supervisor" if pid == root else role
        totals = by_role.setdefault(role, {"rss_mb": 0.0, "fds": 0, "threads": 0, "count": 0})
        totals["rss_mb"] += rss_mb
        totals["fds"] += fds
        totals["threads"] += threads
        totals["count"] += 1
    long_lived = [role for name, role in by_role.items() if name not in TRANSIENT]
    return {
        "rss_mb": round(sum(role["rss_mb"] for role in by_role.values()), 1),
        "fds": sum(int(role["fds"]) for role in by_role.values()),
        # One process's worth per long-lived role, summed: the daemon respawns its code server
        # every minute, and for a moment the old and the new one run side by side.
        "rss_per_role_mb": round(sum(role["rss_mb"] / role["count"] for role in long_lived), 1),
        "fds_per_role": round(sum(role["fds"] / role["count"] for role in long_lived)),
        "threads": sum(int(role["threads"]) for role in by_role.values()),
        "roles": {
            name: {key: round(value, 1) for key, value in role.items()}
            for name, role in sorted(by_role.items())
        },
    }


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _process(pid: int) -> tuple[str, float, int, int] | None:
    """(role, RSS in MB, open descriptors, threads), or None if it exited meanwhile."""
    base = Path("/proc") / str(pid)
    try:
        command = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = dict(
            line.split(":", 1) for line in (base / "status").read_text().splitlines() if ":" in line
        )
        fds = len(os.listdir(base / "fd"))
    except OSError:
        return None
    role = next((name for name, words in ROLES if any(w in command for w in words)), "other")
    rss_kb = int(status.get("VmRSS", "0 kB").split()[0])
    return role, rss_kb / 1024, fds, int(status.get("Threads", "0"))


# Tables, from the lake folder.


def tables(lake: Path) -> dict[str, Any]:
    """Per Delta table: active files, files on disk, log entries, commits since checkpoint."""
    per_table: dict[str, dict[str, int]] = {}
    for log_dir in sorted(lake.rglob("_delta_log")):
        table_dir = log_dir.parent
        name = str(table_dir.relative_to(lake))
        try:
            per_table[name] = _table(table_dir, log_dir)
        except (OSError, ValueError):
            continue  # being created or rewritten right now; the next sample reads it
    return {
        "active_files": sum(table["active_files"] for table in per_table.values()),
        "files_on_disk": sum(table["files_on_disk"] for table in per_table.values()),
        "log_entries": sum(table["log_entries"] for table in per_table.values()),
        "max_commits_since_checkpoint": max(
            (table["commits_since_checkpoint"] for table in per_table.values()), default=0
        ),
        "tables": per_table,
    }


def _table(table_dir: Path, log_dir: Path) -> dict[str, int]:
    commits = [int(p.name.split(".")[0]) for p in log_dir.glob("*.json") if p.name[0].isdigit()]
    version = max(commits, default=-1)
    last_checkpoint = log_dir / "_last_checkpoint"
    checkpointed = (
        int(json.loads(last_checkpoint.read_text())["version"]) if last_checkpoint.exists() else -1
    )
    base = checkpointed if checkpointed >= 0 else (min(commits) - 1 if commits else -1)
    return {
        "version": version,
        "active_files": len(DeltaTable(str(table_dir)).file_uris()),
        "files_on_disk": sum(1 for _ in table_dir.rglob("*.parquet")),
        "log_entries": sum(1 for _ in log_dir.iterdir()),
        "commits_since_checkpoint": version - base,
    }


def _megabytes(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 1)
    total = sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())
    return round(total / 2**20, 1)


# The verdict.


def flatness(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth from the first to the last third of the steady part (after the first fifth)."""
    steady = samples[len(samples) // 5 :]
    third = max(1, len(steady) // 3)
    first, last = steady[:third], steady[-third:]

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(row[key] for row in rows) if rows else float("nan")

    def growth_pct(key: str) -> float:
        before = median(first, key)
        return round(100 * (median(last, key) - before) / before, 1) if before else float("nan")

    minutes = (steady[-1]["t_s"] - steady[0]["t_s"]) / 60 if len(steady) > 1 else float("nan")
    return {
        "samples_steady": len(steady),
        "rss_mb_first": median(first, "rss_per_role_mb"),
        "rss_mb_last": median(last, "rss_per_role_mb"),
        "rss_growth_pct": growth_pct("rss_per_role_mb"),
        "fds_first": median(first, "fds_per_role"),
        "fds_last": median(last, "fds_per_role"),
        "fds_growth_pct": growth_pct("fds_per_role"),
        "all_processes_rss_mb_max": max((row["rss_mb"] for row in steady), default=0),
        "active_files_max": max((row["active_files"] for row in steady), default=0),
        "active_files_last": steady[-1]["active_files"] if steady else 0,
        "max_commits_since_checkpoint": max(
            (row["max_commits_since_checkpoint"] for row in steady), default=0
        ),
        "files_on_disk_per_min": round(
            (steady[-1]["files_on_disk"] - steady[0]["files_on_disk"]) / minutes, 1
        )
        if len(steady) > 1
        else float("nan"),
        "dagster_home_mb_per_min": round(
            (steady[-1]["dagster_home_mb"] - steady[0]["dagster_home_mb"]) / minutes, 2
        )
        if len(steady) > 1
        else float("nan"),
    }
