"""Recently authenticated API keys, remembered for a moment, and looked up once at a time.

An integrator sends hundreds of requests a second with one key. Looking the key up in the
operational database for each costs a session, a query and a hop to the thread pool: about a
third of the intake's time per order (docs/performance.md). Remembering the answer for a second
removes nearly all of that, and a revoked key is refused by every intake process within that
second. Unknown keys are not remembered, so a key is usable as soon as it has been created.

When the answer expires, every request in flight with that key misses at once (64 at the bench's
concurrency), and each did its own lookup: 64 sessions and queries a second where one is enough.
So concurrent misses of one key share a single lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from storage.apikeys import Principal, hash_key

DEFAULT_TTL_S = 1.0
MAX_KEYS = 10_000
"""Bounds memory if a client cycles through many valid keys; the cache starts afresh when full."""

LookUp = Callable[[str], Awaitable[Principal | None]]
"""Finds the principal of a plaintext key in the operational database (None: unknown/revoked)."""


class ApiKeyCache:
    """Principals by key digest (the plaintext key is never kept), each for `ttl_s` seconds."""

    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, asyncio.Task[Principal | None]] = {}

    def get(self, key: str) -> Principal | None:
        """The remembered principal of `key`, or None when it must be looked up."""
        return self._remembered(hash_key(key))

    def remember(self, key: str, principal: Principal) -> None:
        self._remember(hash_key(key), principal)

    async def principal(self, key: str, look_up: LookUp) -> Principal | None:
        """The principal of `key`: remembered, or from the one lookup in flight for it."""
        digest = hash_key(key)
        remembered = self._remembered(digest)
        if remembered is not None:
            return remembered
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.create_task(self._look_up(digest, key, look_up))
            self._lookups[digest] = lookup
        # Shielded: one caller's disconnect must not cancel the lookup the others wait for.
        return await asyncio.shield(lookup)

    async def _look_up(self, digest: str, key: str, look_up: LookUp) -> Principal | None:
        try:
            principal = await look_up(key)
        finally:
            del self._lookups[digest]
        if principal is not None:
            self._remember(digest, principal)
        return principal

    def _remembered(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def _remember(self, digest: str, principal: Principal) -> None:
        if len(self._entries) >= MAX_KEYS:
            self._entries.clear()
        self._entries[digest] = (self._clock() + self._ttl_s, principal)
