"""Recently authenticated API keys, remembered for a moment.

An integrator sends hundreds of requests a second with one key. Looking the key up in the
operational database for each costs a session, a query and a hop to the thread pool: about a
third of the intake's time per order (docs/performance.md). Remembering the answer for a second
removes nearly all of that, and a revoked key is refused by every intake process within that
second. Unknown keys are not remembered, so a key is usable as soon as it has been created.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from storage.apikeys import Principal, hash_key

DEFAULT_TTL_S = 1.0
MAX_KEYS = 10_000
"""Bounds memory if a client cycles through many valid keys; the cache starts afresh when full."""


class ApiKeyCache:
    """Principals by key digest (the plaintext key is never kept), each for `ttl_s` seconds."""

    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        """The remembered principal of `key`, or None when it must be looked up."""
        entry = self._entries.get(hash_key(key))
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def remember(self, key: str, principal: Principal) -> None:
        if len(self._entries) >= MAX_KEYS:
            self._entries.clear()
        self._entries[hash_key(key)] = (self._clock() + self._ttl_s, principal)
