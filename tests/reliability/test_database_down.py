"""The operational database goes away under load: the intake answers 503, loses nothing it
acknowledged, and recovers by itself when the database is back.

PostgreSQL only (the production database): one database of its own per test, made unreachable
without stopping the server the other tests share, by refusing new connections and ending the
open ones, as a failover or a restart would. `.ci/run` configures it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import polars as pl
import pytest

from ingest_api.app import prepare_storage
from pipelines.processing import process_pending
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS
from storage.apikeys import Scope
from storage.db import engine_for, session_scope
from storage.jobs import NewJob
from storage.lake import Lake
from storage.landing import land_batch
from storage.models import Job
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.databases import POSTGRES_URL
from tests.support.orders import JSON, order_body, succeeded_tag
from tests.support.postgres_database import Database, own_database
from tests.support.server import client, running_intake

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="needs ENGAGE_TEST_POSTGRES_URL (.ci/run sets it)"
)

CLIENTS = 4
UP_BEFORE_S = 1.5
DOWN_FOR_S = 3.0
UP_AFTER_S = 2.0


@pytest.fixture
def database() -> Iterator[Database]:
    with own_database(POSTGRES_URL or "", "engage_down") as database:
        yield database


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> EngageSettings:
    settings = EngageSettings(
        home=tmp_path / "engage", database_url=database.url, rate_limit_per_s=0.0
    )
    prepare_storage(settings)
    return settings


@dataclass(frozen=True)
class Answer:
    order_id: str
    status: int
    sent_at: float
    retry_after: str | None
    problem_type: str | None
    job_id: str | None


def post_until(stop: threading.Event, base_url: str, key: str, worker: int) -> list[Answer]:
    """Post new orders one after another until `stop`; each is sent once, never retried."""
    answers: list[Answer] = []
    with client(base_url, key) as http:
        for number in range(100_000):
            if stop.is_set():
                break
            order_id = f"DOWN-{worker}-{number:05d}"
            sent_at = time.monotonic()
            response = http.post("/orders", content=json.dumps(order_body(order_id)), headers=JSON)
            body = response.json()
            answers.append(
                Answer(
                    order_id,
                    response.status_code,
                    sent_at,
                    response.headers.get("retry-after"),
                    body.get("type") if response.status_code != 202 else None,
                    body.get("jobId"),
                )
            )
    return answers


def under_load(base_url: str, key: str, outage: Callable[[], None]) -> list[Answer]:
    """CLIENTS threads post while `outage` runs in this thread."""
    stop = threading.Event()
    results: list[list[Answer]] = [[] for _ in range(CLIENTS)]

    def worker(index: int) -> None:
        results[index] = post_until(stop, base_url, key, index)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        outage()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return [answer for answers in results for answer in answers]


def test_requests_get_503_while_the_database_is_down_and_nothing_acknowledged_is_lost(
    database: Database, settings: EngageSettings
) -> None:
    admin_key = make_key(settings, Scope.ADMIN)
    with running_intake(settings) as base_url:
        probes: dict[str, httpx.Response] = {}
        readiness: dict[str, httpx.Response] = {}
        moments: dict[str, float] = {}

        def outage() -> None:
            time.sleep(UP_BEFORE_S)
            database.set_reachable(False)
            moments["down"] = time.monotonic()
            time.sleep(DOWN_FOR_S / 2)
            with client(base_url, admin_key) as http:
                probes["job"] = http.get("/orders/jobs/unknown-job")
                probes["idempotent"] = http.post(
                    "/orders",
                    content=json.dumps(order_body("DOWN-IDEMPOTENT")),
                    headers={**JSON, "Idempotency-Key": "down-1"},
                )
            readiness["down"] = httpx.get(f"{base_url}/readyz", timeout=30)
            time.sleep(DOWN_FOR_S / 2)
            database.set_reachable(True)
            moments["up"] = time.monotonic()
            time.sleep(UP_AFTER_S)
            readiness["up"] = httpx.get(f"{base_url}/readyz", timeout=30)

        answers = under_load(base_url, admin_key, outage)
        down_at, up_at = moments["down"], moments["up"]

        assert {answer.status for answer in answers} <= {202, 503}, {a.status for a in answers}
        refused = [answer for answer in answers if answer.status == 503]
        assert refused, "no request reached the intake while the database was down"
        assert all(answer.retry_after == "10" for answer in refused)
        assert all(down_at <= answer.sent_at + 1 for answer in refused)
        assert any(a.status == 202 and a.sent_at > up_at + 1 for a in answers), "no recovery"
        for probe in probes.values():
            assert probe.status_code == 503, probe.text
            assert probe.headers["content-type"].startswith("application/problem+json")
            assert probe.headers["retry-after"] == "10"
            assert probe.json()["type"] == "urn:engage-orders:problem:DatabaseUnavailable"
        assert readiness["down"].status_code == 503
        assert readiness["down"].json()["checks"] == {"database": "unreachable", "lake": "ok"}
        assert readiness["up"].status_code == 200

        assert process_pending(settings, instance=dg.DagsterInstance.ephemeral(), gold=False)
        acknowledged = [answer for answer in answers if answer.status == 202]
        lake = Lake(settings.resolved_lake_uri)
        landed = lake.scan(ORDER_CHANGES).select("order_id").collect()["order_id"].to_list()
        assert len(landed) == len(set(landed))
        assert {answer.order_id for answer in acknowledged} <= set(landed)
        versions = lake.scan(ORDER_VERSIONS).group_by("order_id").len().collect()
        assert versions.filter(pl.col("len") != 1).is_empty()
        assert set(versions["order_id"].to_list()) == set(landed)
        with client(base_url, admin_key) as http:
            for answer in acknowledged:
                assert answer.job_id is not None
                succeeded_tag(http, answer.job_id)


class DatabaseFailsAfterTheDeltaCommit(Lake):
    """A lake whose append is followed at once by the database going away."""

    def __init__(self, root_uri: str, database: Database) -> None:
        super().__init__(root_uri)
        self.database = database

    def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        version = super().append(*args, **kwargs)
        self.database.set_reachable(False)
        return version


def test_rows_landed_just_before_the_database_failed_count_as_landed_and_get_their_jobs(
    database: Database, settings: EngageSettings
) -> None:
    """The client got its 202 (the rows are durable); processing registers the missing job."""
    order_id, job_id = "DOWN-BETWEEN-COMMITS", str(uuid.uuid4())
    job = NewJob(job_id, "orders", order_id, "create", "an-api-key")
    row = {
        "job_id": job_id,
        "order_id": order_id,
        "change_type": "create",
        "api_key_id": "an-api-key",
        "if_match": None,
        "body": json.dumps(order_body(order_id)),
        "contact_match_key": None,
        "contact_match_key_type": None,
    }
    lake = DatabaseFailsAfterTheDeltaCommit(settings.resolved_lake_uri, database)

    try:
        land_batch(lake, settings.resolved_database_url, ORDER_CHANGES, [row], [job])
    finally:
        database.set_reachable(True)

    engine_for(settings.resolved_database_url).dispose()
    with session_scope(settings.resolved_database_url) as session:
        assert session.get(Job, job.job_id) is None
    assert process_pending(settings, instance=dg.DagsterInstance.ephemeral(), gold=False)
    with session_scope(settings.resolved_database_url) as session:
        recorded = session.get(Job, job.job_id)
        assert recorded is not None
        assert recorded.status == "Succeeded"
