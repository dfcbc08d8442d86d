"""The intake's memory of authenticated keys: how long it trusts an answer, and what it keeps."""

from __future__ import annotations

import asyncio

from ingest_api.api_key_cache import ApiKeyCache
from storage.apikeys import Principal

PRINCIPAL = Principal(key_id="k-1", name="shop", scopes=frozenset({"orders:write"}))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_remembered_for_the_ttl_and_then_looked_up_again() -> None:
    clock = Clock()
    cache = ApiKeyCache(ttl_s=1.0, clock=clock)
    assert cache.get("eo_key") is None
    cache.remember("eo_key", PRINCIPAL)
    clock.now += 0.9
    assert cache.get("eo_key") == PRINCIPAL
    assert cache.get("eo_other") is None
    clock.now += 0.2
    assert cache.get("eo_key") is None


def test_a_zero_ttl_remembers_nothing() -> None:
    cache = ApiKeyCache(ttl_s=0.0)
    cache.remember("eo_key", PRINCIPAL)
    assert cache.get("eo_key") is None


def test_the_plaintext_key_is_not_kept() -> None:
    cache = ApiKeyCache()
    cache.remember("eo_secret-key-value", PRINCIPAL)
    assert "eo_secret-key-value" not in repr(vars(cache))


def test_concurrent_misses_of_one_key_share_one_lookup() -> None:
    """When a remembered key expires under load, every request in flight misses at once: they
    must wait for one database lookup, not each run their own."""
    cache = ApiKeyCache(ttl_s=60.0)
    lookups: list[str] = []

    async def look_up(key: str) -> Principal | None:
        lookups.append(key)
        await asyncio.sleep(0.01)
        return PRINCIPAL if key == "eo_key" else None

    async def requests() -> list[Principal | None]:
        known = [cache.principal("eo_key", look_up) for _ in range(64)]
        unknown = [cache.principal("eo_unknown", look_up) for _ in range(3)]
        return await asyncio.gather(*known, *unknown)

    answers = asyncio.run(requests())
    assert answers == [PRINCIPAL] * 64 + [None] * 3
    assert sorted(lookups) == ["eo_key", "eo_unknown"]
    # The known key is remembered; the unknown one is looked up again next time.
    assert asyncio.run(cache.principal("eo_key", look_up)) == PRINCIPAL
    assert asyncio.run(cache.principal("eo_unknown", look_up)) is None
    assert sorted(lookups) == ["eo_key", "eo_unknown", "eo_unknown"]


def test_a_failed_lookup_fails_its_waiters_and_the_next_request_tries_again() -> None:
    cache = ApiKeyCache()
    attempts: list[int] = []

    async def look_up(key: str) -> Principal | None:
        attempts.append(1)
        await asyncio.sleep(0)
        if len(attempts) == 1:
            raise ConnectionError("database down")
        return PRINCIPAL

    async def requests() -> list[Principal | BaseException | None]:
        calls = [cache.principal("eo_key", look_up) for _ in range(5)]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = asyncio.run(requests())
    assert all(isinstance(answer, ConnectionError) for answer in answers)
    assert asyncio.run(cache.principal("eo_key", look_up)) == PRINCIPAL
    assert len(attempts) == 2
