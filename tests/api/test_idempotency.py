"""`Idempotency-Key` on the landing POSTs: a retry gets the first answer and lands nothing more;
the same key with another body is refused; keys are per API key and kept 24 hours."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from schemas.tables import ORDER_CHANGES, RECEIPT_SUBMISSIONS
from storage.apikeys import Scope
from storage.db import session_scope
from storage.idempotency import purge_expired
from storage.lake import Lake
from storage.models import IdempotencyRecord, utcnow
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.orders import JSON, order_body
from tests.support.receipts import receipt_body
from tests.support.server import client, running_intake


def landed(settings: EngageSettings, spec=ORDER_CHANGES) -> int:
    return Lake(settings.resolved_lake_uri).table(spec).count()


def post(api: httpx.Client, path: str, body: dict, key: str | None) -> httpx.Response:
    headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
    return api.post(path, content=json.dumps(body), headers=headers)


def test_a_retry_with_the_same_key_replays_the_first_answer(
    api: httpx.Client, settings: EngageSettings
) -> None:
    first = post(api, "/orders", order_body("IDEM-1"), "retry-1")
    again = post(api, "/orders", order_body("IDEM-1"), "retry-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert landed(settings) == 1


def test_the_same_key_with_another_body_is_refused_with_422(
    api: httpx.Client, settings: EngageSettings
) -> None:
    assert post(api, "/orders", order_body("IDEM-2"), "reused").status_code == 202

    other = post(api, "/orders", order_body("IDEM-3"), "reused")

    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"] == "urn:engage-orders:problem:IdempotencyKeyReused"
    assert landed(settings) == 1


def test_without_a_key_every_post_lands(api: httpx.Client, settings: EngageSettings) -> None:
    for _ in range(2):
        assert post(api, "/orders", order_body("IDEM-4"), None).status_code == 202
    assert landed(settings) == 2


def test_keys_belong_to_their_api_key(
    api: httpx.Client, settings: EngageSettings, intake_url: str
) -> None:
    other_integrator = client(intake_url, make_key(settings, Scope.ORDERS_WRITE))

    first = post(api, "/orders", order_body("IDEM-5"), "shared-name")
    second = post(other_integrator, "/orders", order_body("IDEM-6"), "shared-name")

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["jobId"] != second.json()["jobId"]
    assert landed(settings) == 2


def test_a_refused_request_does_not_use_up_its_key(
    api: httpx.Client, settings: EngageSettings
) -> None:
    broken = order_body("IDEM-7")
    del broken["lineItems"]

    assert post(api, "/orders", broken, "fix-and-retry").status_code == 400
    fixed = post(api, "/orders", order_body("IDEM-7"), "fix-and-retry")

    assert fixed.status_code == 202
    assert landed(settings) == 1


def test_a_key_is_forgotten_after_24_hours(api: httpx.Client, settings: EngageSettings) -> None:
    assert post(api, "/orders", order_body("IDEM-8"), "daily").status_code == 202
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, seconds=1))
        )

    reused = post(api, "/orders", order_body("IDEM-9"), "daily")

    assert reused.status_code == 202
    assert landed(settings) == 2


def test_receipts_take_keys_too(api: httpx.Client, settings: EngageSettings) -> None:
    body = receipt_body(receipt_id="R-IDEM-1")
    first = post(api, "/receipts", body, "receipt-1")
    again = post(api, "/receipts", body, "receipt-1")

    assert first.status_code == again.status_code == 202
    assert again.json()["jobId"] == first.json()["jobId"]
    assert landed(settings, RECEIPT_SUBMISSIONS) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ünïcode"])
def test_a_malformed_key_is_refused_with_400(
    api: httpx.Client, settings: EngageSettings, key: str
) -> None:
    headers = {**JSON, "Idempotency-Key": key.encode()}  # as bytes: httpx sends str as ASCII
    response = api.post("/orders", content=json.dumps(order_body("IDEM-10")), headers=headers)

    assert response.status_code == 400
    assert response.json()["type"] == "urn:engage-orders:problem:InvalidIdempotencyKey"
    assert landed(settings) == 0


def test_concurrent_requests_with_one_key_land_once(
    api: httpx.Client, settings: EngageSettings
) -> None:
    answers: list[httpx.Response] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(post(api, "/orders", order_body("IDEM-11"), "burst"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {202, 409}, statuses
    assert 202 in statuses
    assert len({answer.json()["jobId"] for answer in answers if answer.status_code == 202}) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["retry-after"] == "1"
    assert landed(settings) == 1


def test_keys_older_than_24_hours_are_purged(settings: EngageSettings) -> None:
    with session_scope(settings.resolved_database_url) as session:
        for key, age in (("old", timedelta(hours=25)), ("young", timedelta(hours=23))):
            session.add(
                IdempotencyRecord(
                    api_key_digest="d" * 64,
                    idempotency_key=key,
                    request_hash="h" * 64,
                    created_at=utcnow() - age,
                )
            )

    with session_scope(settings.resolved_database_url) as session:
        purge_expired(session)

    with session_scope(settings.resolved_database_url) as session:
        left = session.scalars(select(IdempotencyRecord.idempotency_key)).all()
    assert left == ["young"]


def test_a_body_over_the_limit_with_a_key_is_413(settings: EngageSettings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096, "import_max_body_bytes": 8192})
    with running_intake(small) as base_url:
        api = client(base_url, make_key(small, Scope.ORDERS_WRITE))
        body = order_body("IDEM-12", externalStatus="x" * 10_000)

        response = post(api, "/orders", body, "too-big")

    assert response.status_code == 413
    assert response.json()["type"] == "urn:engage-orders:problem:PayloadTooLarge"
    assert landed(settings) == 0
