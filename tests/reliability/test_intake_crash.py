"""The intake killed with SIGKILL at random moments while clients post orders and receipts.

The promise under test (README "Guarantees"): a `202` means the payload is durably landed and
will be processed exactly once; a request that got no answer may or may not have landed, but
never twice. The intake runs as operators run it (`engage-orders serve`, its own process), so
that SIGKILL can hit it anywhere: inside a group commit, between the Delta commit and the job
rows, or while answering.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
import pytest

from pipelines.processing import process_pending
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS, RECEIPT_SUBMISSIONS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.orders import JSON, order_body
from tests.support.receipts import receipt_body
from tests.support.served_intake import ServedIntake

AFTER_KILLS = 200
"""Payloads sent after the last restart. Orders and receipts go alternately until then, each
sent once and never retried."""
MAX_PAYLOADS = 4_000
CLIENTS = 16
KILLS = 5
SEED = 20261128
SAMPLE = 50
"""Acknowledged orders and receipts read back one by one (all are checked through the job lists)."""


@dataclass(frozen=True)
class Sent:
    kind: str
    """"orders" or "receipts"."""
    payload_id: str
    status: int | None
    """None: no answer (the connection broke)."""
    job_id: str | None


@pytest.fixture
def intake(settings: EngageSettings, tmp_path: Path) -> Iterator[ServedIntake]:
    # Eight clients with one key send faster than its rate limit allows: that is not under test.
    unlimited = settings.model_copy(update={"rate_limit_per_s": 0.0})
    served = ServedIntake(unlimited, tmp_path / "intake.log")
    served.start()
    try:
        yield served
    finally:
        served.stop()


def post_all(intake: ServedIntake, key: str) -> list[Sent]:
    """CLIENTS threads post payloads while the main thread kills and restarts the intake KILLS
    times at random moments, then AFTER_KILLS more."""
    sent: list[Sent] = []
    numbers = itertools.count()
    lock = threading.Lock()
    last: list[int] = []  # the end of the payload numbers, set once the kills are over

    def client() -> None:
        with httpx.Client(headers={"apikey": key, **JSON}, timeout=30) as http:
            while (number := _next(numbers, lock)) < min([*last, MAX_PAYLOADS]):
                # As an integrator would: after a broken connection, wait for the intake.
                assert intake.up.wait(timeout=120)
                result = _post(http, intake.base_url, number)
                with lock:
                    sent.append(result)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    moments = random.Random(SEED)
    for _ in range(KILLS):
        threading.Event().wait(moments.uniform(0.3, 1.5))
        intake.kill()
        intake.start()
    with lock:
        last.append(next(numbers) + AFTER_KILLS)
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return sent


def _next(numbers: Iterator[int], lock: threading.Lock) -> int:
    with lock:
        return next(numbers)


def _post(http: httpx.Client, base_url: str, number: int) -> Sent:
    kind = "orders" if number % 2 == 0 else "receipts"
    payload_id = f"CRASH-{number:05d}"
    body = order_body(payload_id) if kind == "orders" else receipt_body(receipt_id=payload_id)
    try:
        response = http.post(f"{base_url}/api/v3/{kind}", content=json.dumps(body))
    except httpx.TransportError:
        # The intake died mid-request: this payload is never sent again.
        return Sent(kind, payload_id, None, None)
    job_id = response.json().get("jobId") if response.status_code == 202 else None
    return Sent(kind, payload_id, response.status_code, job_id)


# SQLite is the database the killed process writes itself; PostgreSQL's durability is its
# server's, which the kill does not touch.
@pytest.mark.databases("sqlite")
def test_every_acknowledged_payload_survives_sigkill_and_is_processed_once(
    intake: ServedIntake, settings: EngageSettings, admin_key: str
) -> None:
    sent = post_all(intake, admin_key)

    statuses = Counter(result.status for result in sent)
    acknowledged = [result for result in sent if result.status == 202]
    # Every answer was a 202 or no answer at all: a crash never shows as a 4xx or 5xx.
    assert set(statuses) <= {202, None}, statuses
    # The kills hit requests in flight: one per client, and at most the next one each.
    assert 1 <= statuses[None] <= 2 * CLIENTS * KILLS, statuses
    assert len(sent) == len({result.payload_id for result in sent}) >= AFTER_KILLS
    assert intake.kills == KILLS

    lake = Lake(settings.resolved_lake_uri)
    bronze = {
        "orders": lake.scan(ORDER_CHANGES).select("job_id", pl.col("order_id").alias("id")),
        "receipts": lake.scan(RECEIPT_SUBMISSIONS).select(
            "job_id", pl.col("unique_receipt_id").alias("id")
        ),
    }
    for kind, rows in bronze.items():
        frame = rows.collect()
        # Never twice: each payload was sent once, whether or not it was answered.
        assert frame["id"].is_duplicated().sum() == 0, kind
        landed_jobs = set(frame["job_id"])
        answered = {result.job_id for result in acknowledged if result.kind == kind}
        assert answered <= landed_jobs, (kind, len(answered - landed_jobs))

    assert process_pending(settings, gold=False)

    _assert_processed_once(intake, admin_key, settings, acknowledged, bronze)


def _assert_processed_once(
    intake: ServedIntake,
    key: str,
    settings: EngageSettings,
    acknowledged: list[Sent],
    bronze: dict[str, pl.LazyFrame],
) -> None:
    lake = Lake(settings.resolved_lake_uri)
    versions = lake.scan(ORDER_VERSIONS).select("order_id", "job_id").collect()
    # One version per landed order, answered or not: no change was applied twice.
    assert versions["order_id"].is_duplicated().sum() == 0
    assert set(versions["order_id"]) == set(bronze["orders"].collect()["id"])
    with httpx.Client(base_url=f"{intake.base_url}/api/v3", headers={"apikey": key}) as api:
        for kind in ("orders", "receipts"):
            succeeded = _succeeded_jobs(api, kind)
            answered = {result.job_id for result in acknowledged if result.kind == kind}
            assert answered <= succeeded, (kind, len(answered - succeeded))
        for result in random.Random(SEED).sample(acknowledged, SAMPLE):
            read = api.get(f"/{result.kind}/{result.payload_id}")
            assert read.status_code == 200, result
            if result.kind == "orders":
                job = api.get(f"/orders/jobs/{result.job_id}", follow_redirects=False)
                assert read.json()["versionTag"] == job.json()["versionTag"]


def _succeeded_jobs(api: httpx.Client, kind: str) -> set[str]:
    """Every Succeeded job of `kind`, through the jobs list an integrator polls."""
    found: set[str] = set()
    offset = 0
    while True:
        params = {"status": "Succeeded", "offset": offset, "count": 100}
        page = api.get(f"/{kind}/jobs", params=params).json()
        found |= {item["jobId"] for item in page["items"]}
        offset += 100
        if offset >= page["totalCount"]:
            return found
