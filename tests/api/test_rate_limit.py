"""Per-key rate limits over HTTP: a key that exceeds its rate gets 429 with Retry-After; other
keys go on being served."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.server import client, running_intake


def read(api: httpx.Client) -> httpx.Response:
    """A cheap authenticated request: reading an order that does not exist (404)."""
    return api.get("/orders/NO-SUCH-ORDER")


@pytest.fixture
def limited(settings: EngageSettings) -> Iterator[tuple[EngageSettings, str]]:
    """An intake allowing 2 requests a second per key, in bursts of 5."""
    tight = settings.model_copy(update={"rate_limit_per_s": 2.0, "rate_limit_burst": 5})
    with running_intake(tight) as base_url:
        yield tight, base_url


def test_a_key_over_its_rate_gets_429_with_retry_after(
    limited: tuple[EngageSettings, str],
) -> None:
    settings, base_url = limited
    noisy = client(base_url, make_key(settings, Scope.ORDERS_READ))
    quiet = client(base_url, make_key(settings, Scope.ORDERS_READ))

    burst = [read(noisy).status_code for _ in range(5)]
    refused = read(noisy)

    assert burst == [404] * 5
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "urn:engage-orders:problem:RateLimited"
    retry_after = int(refused.headers["retry-after"])
    assert retry_after == 1  # a token frees up within half a second at 2 a second
    # Another key has a bucket of its own.
    assert read(quiet).status_code == 404
    # After Retry-After the key is served again.
    time.sleep(retry_after)
    assert read(noisy).status_code == 404


def test_a_refused_write_lands_nothing(limited: tuple[EngageSettings, str]) -> None:
    settings, base_url = limited
    api = client(base_url, make_key(settings, Scope.ORDERS_WRITE, Scope.ORDERS_READ))
    for _ in range(5):
        read(api)

    refused = api.post("/orders", content=b"{}", headers={"Content-Type": "application/json"})

    assert refused.status_code == 429
    time.sleep(int(refused.headers["retry-after"]))
    assert api.get("/orders/jobs").json()["totalCount"] == 0


def incomplete_list(api: httpx.Client) -> httpx.Response:
    """The cheapest request a key's rate counts: listing orders without `contactId` is refused
    (400) after the rate check, before any storage is read. Reads that query the database came
    in slower than 50 a second on a loaded machine, so the bucket never emptied."""
    return api.get("/orders")


@pytest.mark.databases("sqlite")  # the requests read no storage
def test_by_default_a_key_gets_bursts_of_200_then_50_a_second(
    settings: EngageSettings, intake_url: str
) -> None:
    assert (settings.rate_limit_per_s, settings.rate_limit_burst) == (50.0, 200)
    api = client(intake_url, make_key(settings, Scope.ORDERS_READ))
    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        started = time.monotonic()
        while 429 not in statuses:
            statuses += pool.map(lambda _: incomplete_list(api).status_code, range(16))
            assert len(statuses) < 5000, "no request was refused"
        elapsed = time.monotonic() - started

    assert set(statuses) == {400, 429}
    # The burst, plus what refilled at 50 a second while the requests were made.
    assert 200 <= statuses.count(400) <= 200 + 50 * elapsed + 1
