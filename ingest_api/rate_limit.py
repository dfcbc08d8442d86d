"""Per-API-key rate limits: a token bucket for each key, in the intake process.

One integrator's runaway loop must not starve the others: each key may make `rate` requests a
second on average and `burst` at once. A bucket is a float and a timestamp, updated on the event
loop (the check is an `async` dependency), so it needs no lock and costs well under a
microsecond. The limit is per process: with several intake workers a key gets the rate once per
worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by API key id; `rate` 0 admits everything."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def wait_seconds(self, key_id: str) -> float:
        """Take a token for one request: 0 if it may go ahead, else how long until it could."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.setdefault(key_id, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait_seconds: float) -> str:
        """The Retry-After header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_seconds)))
