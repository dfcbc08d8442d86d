"""What an integrator would have sent over the last `days` days, as one ordered list of requests.

The registers and contacts come first, as a shop sets up before it sells; then every order write
and receipt in the order it happened. Writes dated after `now` are left out, so recent orders are
still on their way (ongoing) while older ones are delivered, returned or cancelled.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.demo.receipts import order_receipts
from schemas.sample_orders import DEFAULT_SEED, SampleWorld, Timeline

ARTICLES_PER_CONTACT = 2
"""A catalogue grows with the shop: 2 SKUs per contact, at least 200, at most 2,000."""


@dataclass(frozen=True)
class DemoRequest:
    """One HTTP request: method, path under /api/v3, JSON body, and what it is (for the tally)."""

    method: str
    path: str
    body: Any
    kind: str

    @property
    def many(self) -> bool:
        """A register call carries a list of entries."""
        return isinstance(self.body, list)


@dataclass(frozen=True)
class DemoScript:
    contacts: int = 100
    orders: int = 500
    days: int = 60
    seed: int = DEFAULT_SEED
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    """The end of the history: writes dated later are left out."""

    @property
    def world(self) -> SampleWorld:
        start = self.now - timedelta(days=self.days)
        step = max(1, self.days * 86_400 // max(self.orders, 1))
        articles = min(2_000, max(200, ARTICLES_PER_CONTACT * self.contacts))
        return SampleWorld(
            seed=self.seed,
            articles=articles,
            contacts=self.contacts,
            timeline=Timeline(start=start.replace(microsecond=0), seconds_per_order=step),
            order_prefix="DEMO",
        )

    def requests(self) -> Iterator[DemoRequest]:
        """Every request, in the order to send it."""
        world = self.world
        yield DemoRequest("POST", "/stores", world.store_register_entries(), "stores")
        for batch in world.article_register_entries(batch=500):
            yield DemoRequest("POST", "/articles", batch, "articles")
        for body in world.contact_bodies():
            yield DemoRequest("POST", "/contacts", body, "contacts")
        yield from self._history(world)

    def _history(self, world: SampleWorld) -> Iterator[DemoRequest]:
        changes = (
            (change.at, DemoRequest(change.method, change.path, change.body, "orders"))
            for change in world.lifecycles(self.orders)
        )
        receipts = (
            (receipt.at, DemoRequest("POST", "/receipts", receipt.body, "receipts"))
            for receipt in self._receipts(world)
        )
        for at, request in heapq.merge(changes, receipts, key=lambda item: item[0]):
            if at <= self.now:
                yield request

    def _receipts(self, world: SampleWorld) -> Iterator[Any]:
        """Every order's receipts, in time order (an order's last comes within ~27 days)."""
        waiting: list[tuple[datetime, int, int, Any]] = []
        for index in range(self.orders):
            created_at = world.timeline.created_at(index, world.seed)
            while waiting and waiting[0][0] <= created_at:
                yield heapq.heappop(waiting)[3]
            for number, receipt in enumerate(order_receipts(world, index)):
                heapq.heappush(waiting, (receipt.at, index, number, receipt))
        while waiting:
            yield heapq.heappop(waiting)[3]
