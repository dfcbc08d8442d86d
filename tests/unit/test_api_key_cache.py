"""The intake's memory of authenticated keys: how long it trusts an answer, and what it keeps."""

from __future__ import annotations

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
