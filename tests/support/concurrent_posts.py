"""Orders and receipts posted from many client threads at once, as integrators' systems do."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass

import httpx

from tests.support.orders import JSON, order_body
from tests.support.receipts import receipt_body


@dataclass(frozen=True)
class Sent:
    kind: str
    """`orders` or `receipts`."""
    payload_id: str
    status: int
    job_id: str | None


def post_concurrently(
    base_url: str, key: str, payloads: int, clients: int, prefix: str = "LOAD"
) -> list[Sent]:
    """Post `payloads` orders and receipts, alternating, from `clients` threads.

    A connection per request, as many integrators' clients make: intake workers accept from one
    socket, and a kept-alive connection stays with the worker that took it.
    """
    numbers, lock = itertools.count(), threading.Lock()
    sent: list[Sent] = []

    def client() -> None:
        headers = {"apikey": key, "Connection": "close", **JSON}
        with httpx.Client(base_url=base_url, headers=headers) as http:
            while (number := _next(numbers, lock)) < payloads:
                kind = "orders" if number % 2 == 0 else "receipts"
                payload_id = f"{prefix}-{number:04d}"
                body = (
                    order_body(payload_id)
                    if kind == "orders"
                    else receipt_body(receipt_id=payload_id)
                )
                response = http.post(f"/api/v3/{kind}", content=json.dumps(body), timeout=60)
                job = response.json().get("jobId") if response.status_code == 202 else None
                with lock:
                    sent.append(Sent(kind, payload_id, response.status_code, job))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return sent


def _next(numbers: itertools.count[int], lock: threading.Lock) -> int:
    with lock:
        return next(numbers)
