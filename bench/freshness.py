"""Figure `freshness`: how long after its `202` an order's job reports `Succeeded`.

The product as operators run it: `engage-orders run` (intake, Dagster webserver and daemon with
the sensors) in a process of its own, all state in the scratch folder (ENGAGE_HOME and
DAGSTER_HOME there, free ports). Orders (bench/order_payloads.py, unique ids) are posted at a
constant rate (500/s for 5 min in full mode, 200/s for 30 s quick, 20/s for 5 s smoke) by the
paced client of bench/loadgen.py, which records when each `202` arrived and its job id.

Meanwhile a poller asks the intake which of the outstanding jobs have settled, every
`POLL_INTERVAL_S`, through the recent-jobs list (`GET /api/v3/orders/jobs?status=Succeeded&
since=...`, 100 per page) rather than one `GET /orders/jobs/{jobId}` per job: at 500 orders/s
that would be thousands of polls per second competing with the intake being measured. `since`
starts just before the oldest outstanding job was sent, so a poll reads roughly the jobs settled
since the previous one. A job's freshness is from its `202` to the poll that first listed it
(an upper bound, late by at most one poll interval plus the poll itself). At the end a sample of
jobs is read back through `GET /orders/jobs/{jobId}` to check that it answers 302 (Succeeded)
for them too. Jobs not Succeeded within `settle_timeout` after the last post are `unsettled`
(failed jobs included, also counted in `failed`).

Before measuring, one order is posted and awaited (`pipeline_ready_s`): Dagster's start (code
locations, the daemon's first sensor ticks) is not what this figure is about. Smoke mode skips
that wait to stay short, so its numbers include the start.

No floor: the figure is dominated by the pipeline's batching (sensor interval, run launch, the
processing run), for which a "bare library" equivalent does not exist; its target is absolute.
Instead, the `process_orders` runs of the measurement are read back from Dagster (GraphQL):
how long each waited from its creation by the sensor to its start (`run_launch_*`: queueing and
the run worker's process start), how long it ran (`run_duration_*`), and where that went:
each step's p50 (`run_step_p50_s`) and the rest of the run (`run_outside_steps_p50_s`).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bench.harness import BenchContext
from bench.loadgen import (
    HttpPool,
    Sample,
    answer_kind,
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
from bench.order_payloads import ID_PLACEHOLDER, order_body, order_body_template
from storage.apikeys import Scope

POLL_INTERVAL_S = 0.5
PAGE = 100
MAX_PAGES_PER_POLL = 200
"""Bounds one poll's cost if the pipeline falls far behind (jobs past it count as unsettled)."""
READY_TIMEOUT_S = 240.0
VERIFY_SAMPLE = 20
JOBS_PATH = "/api/v3/orders/jobs"


@dataclass
class Tracker:
    """The accepted jobs: when each was due to be sent and answered, and when it settled."""

    pending: dict[str, tuple[float, float]] = field(default_factory=dict)
    """job id -> (due, 202 time) in perf_counter seconds, until it settles."""
    freshness_s: dict[str, float] = field(default_factory=dict)
    failed: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Answers other than 202, by status (or error, for requests without an answer)."""
    posting_s: float = 0.0
    """How long posting all orders took: longer than count / rate when the intake fell behind."""

    def on_sample(self, sample: Sample) -> None:
        if sample.status != 202:
            self.rejected[answer_kind(sample)] += 1
            return
        self.accepted += 1
        job_id = json.loads(sample.body)["jobId"]
        self.pending[job_id] = (sample.due, sample.done)


async def poll_settled(pool: HttpPool, tracker: Tracker, wall_offset: float) -> None:
    """One sweep: settle the outstanding jobs that the list shows Succeeded or Failed."""
    if not tracker.pending:
        return
    oldest_due = min(due for due, _ in tracker.pending.values())
    since = datetime.fromtimestamp(oldest_due + wall_offset - 1.0, UTC).isoformat()
    for status in ("Succeeded", "Failed"):
        for page in range(MAX_PAGES_PER_POLL):
            query = f"status={status}&since={quote(since)}&offset={page * PAGE}&count={PAGE}"
            code, body = await pool.request("GET", f"{JOBS_PATH}?{query}")
            seen_at = time.perf_counter()
            if code != 200:
                raise RuntimeError(f"GET {JOBS_PATH} answered {code}: {body[:300]!r}")
            listing = json.loads(body)
            for item in listing["items"]:
                job = tracker.pending.pop(item["jobId"], None)
                if job is None:
                    continue
                if status == "Succeeded":
                    tracker.freshness_s[item["jobId"]] = seen_at - job[1]
                else:
                    tracker.failed += 1
            if (page + 1) * PAGE >= listing["totalCount"]:
                break


async def _measure(
    port: int, key: str, rate: int, count: int, settle_timeout_s: float, tag: str
) -> Tracker:
    tracker = Tracker()
    posts = HttpPool(
        port, headers={"apikey": key, "Content-Type": "application/json"}, max_connections=64
    )
    polls = HttpPool(port, headers={"apikey": key}, max_connections=1)
    prefix, suffix = order_body_template(f"FRESH-{tag}-").split(ID_PLACEHOLDER)
    wall_offset = time.time() - time.perf_counter()

    def request_for(index: int) -> tuple[str, str, bytes]:
        return "POST", "/api/v3/orders", f"{prefix}{index}{suffix}".encode()

    try:
        posting = asyncio.create_task(
            paced(posts, request_for, rate=rate, count=count, on_sample=tracker.on_sample)
        )
        deadline: float | None = None
        started = time.perf_counter()
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            await poll_settled(polls, tracker, wall_offset)
            if posting.done():
                posting.result()
                tracker.posting_s = tracker.posting_s or time.perf_counter() - started
                deadline = deadline or time.perf_counter() + settle_timeout_s
                if not tracker.pending or time.perf_counter() > deadline:
                    break
    finally:
        await posts.close()
        await polls.close()
    return tracker


async def _verify(port: int, key: str, job_ids: list[str]) -> int:
    """How many of `job_ids` (listed as Succeeded) `GET /orders/jobs/{jobId}` does not 302."""
    pool = HttpPool(port, headers={"apikey": key}, max_connections=1)
    try:
        answers = [await pool.request("GET", f"{JOBS_PATH}/{job_id}") for job_id in job_ids]
    finally:
        await pool.close()
    return sum(1 for code, _ in answers if code != 302)


async def _await_one_order(port: int, key: str, tag: str) -> float:
    """Post one order and wait until its job has succeeded; the seconds that took."""
    started = time.perf_counter()
    pool = HttpPool(port, headers={"apikey": key, "Content-Type": "application/json"})
    try:
        code, body = await pool.request(
            "POST", "/api/v3/orders", order_body(f"FRESH-{tag}-ready").encode()
        )
        if code != 202:
            raise RuntimeError(f"the warm-up order got {code}: {body[:300]!r}")
        job_id = json.loads(body)["jobId"]
        while time.perf_counter() - started < READY_TIMEOUT_S:
            code, body = await pool.request("GET", f"{JOBS_PATH}/{job_id}")
            if code == 302:
                return time.perf_counter() - started
            if code != 200:
                raise RuntimeError(f"the warm-up order's job answered {code}: {body[:300]!r}")
            await asyncio.sleep(POLL_INTERVAL_S)
    finally:
        await pool.close()
    raise RuntimeError(f"the pipeline did not process an order within {READY_TIMEOUT_S:.0f} s")


RUNS_QUERY = """
query ProcessingRuns($after: Float!) {
  runsOrError(filter: {pipelineName: "process_orders", createdAfter: $after}) {
    ... on Runs {
      results { creationTime startTime endTime stepStats { stepKey startTime endTime } }
    }
    ... on PythonError { message }
  }
}
"""


def processing_runs(ui_port: int, since: float) -> dict[str, float | int | str]:
    """What the `process_orders` runs created after `since` (epoch seconds) spent, read from the
    Dagster webserver's GraphQL API: a figure that misses its target needs to say whether
    launching runs or running them is what takes the time.

    Through the webserver, not by opening the instance here: a second process opening Dagster's
    SQLite storage while the daemon runs raced its schema check ("more than one head present").
    """
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{ui_port}/graphql",
            json={"query": RUNS_QUERY, "variables": {"after": since}},
            timeout=60,
        )
        answer.raise_for_status()
        runs = answer.json()["data"]["runsOrError"]["results"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
        return {"run_stats_error": f"{type(error).__name__}: {error}"[:300]}
    launch = [run["startTime"] - run["creationTime"] for run in runs if run["startTime"]]
    finished = [run for run in runs if run["startTime"] and run["endTime"]]
    running = [run["endTime"] - run["startTime"] for run in finished]
    return {
        "processing_runs": len(runs),
        "run_launch_p50_s": round(percentile(launch, 0.5), 1),
        "run_launch_max_s": round(max(launch, default=math.nan), 1),
        "run_duration_p50_s": round(percentile(running, 0.5), 1),
        "run_duration_max_s": round(max(running, default=math.nan), 1),
        **_step_split(finished),
    }


def _step_split(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Where a run's time goes: each step's p50, and the p50 of what no step accounts for
    (the worker opening the instance and resources, the event log between steps)."""
    steps: dict[str, list[float]] = {}
    outside: list[float] = []
    for run in runs:
        timed = [step for step in run["stepStats"] if step["startTime"] and step["endTime"]]
        for step in timed:
            steps.setdefault(step["stepKey"], []).append(step["endTime"] - step["startTime"])
        in_steps = sum(step["endTime"] - step["startTime"] for step in timed)
        outside.append(run["endTime"] - run["startTime"] - in_steps)
    return {
        "run_step_p50_s": {key: round(percentile(times, 0.5), 2) for key, times in steps.items()},
        "run_outside_steps_p50_s": round(percentile(outside, 0.5), 2),
    }


def run(context: BenchContext) -> dict[str, Any]:
    rate = context.size(500, 200, 20)
    duration_s = context.size(300, 30, 5)
    # Smoke mode waits longest relative to its size: it skips the warm-up, so its first run
    # waits for Dagster's start, which took over a minute on a loaded CI machine.
    settle_timeout_s = context.size(180.0, 120.0, 150.0)
    settings = product_settings(context.work_dir)
    key = new_api_key(settings, Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    api_port, ui_port = free_port(), free_port()
    command = [
        console_script("engage-orders"),
        "run",
        "--api-port",
        str(api_port),
        "--ui-port",
        str(ui_port),
    ]
    tag = f"{context.seed}"
    with served(
        command,
        port=api_port,
        log_path=context.work_dir / "run.log",
        env=product_env(settings),
        startup_timeout_s=READY_TIMEOUT_S,
    ):
        ready_s = (
            run_async(lambda: _await_one_order(api_port, key, tag))
            if context.mode != "smoke"
            else 0.0
        )
        measured_from = time.time()
        tracker = run_async(
            lambda: _measure(api_port, key, rate, rate * duration_s, settle_timeout_s, tag)
        )
        settled = list(tracker.freshness_s)
        sample = random.Random(context.seed).sample(settled, min(VERIFY_SAMPLE, len(settled)))
        mismatches = run_async(lambda: _verify(api_port, key, sample))
        runs = processing_runs(ui_port, measured_from)

    values = list(tracker.freshness_s.values())
    return {
        "orders": tracker.accepted,
        "rate_per_s": rate,
        "achieved_rate_per_s": round(tracker.accepted / tracker.posting_s, 1)
        if tracker.posting_s
        else None,
        "p50_s": round(percentile(values, 0.5), 2),
        "p95_s": round(percentile(values, 0.95), 2),
        "max_s": round(max(values, default=float("nan")), 2),
        "unsettled": tracker.accepted - len(values),
        "failed": tracker.failed,
        "non_2xx": sum(tracker.rejected.values()),
        "non_2xx_detail": describe(tracker.rejected),
        "status_mismatches": mismatches,
        "pipeline_ready_s": round(ready_s, 1),
        **runs,
        "poll_interval_s": POLL_INTERVAL_S,
        "duration_s": duration_s,
    }
