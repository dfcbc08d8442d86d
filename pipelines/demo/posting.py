"""Send the demo's requests to an intake, one after the other, as a careful integrator would.

One at a time, because an order's changes must land after its create. A 429 waits for its
Retry-After (the demo's key has the default rate limit like any other), and a 5xx or a broken
connection is retried with backoff: the intake may be restarting. Any other 4xx is a bug in the
sample data; it is counted, shown at the end, and the rest goes on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
import httpx

from pipelines.demo.script import DemoRequest
from storage.settings import EngageSettings

RETRIES = 8
BACKOFF_S = 0.25


@dataclass
class Tally:
    """What was sent, by kind, and what the intake refused."""

    accepted: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)


def post_all(base_url: str, api_key: str, requests: Sequence[DemoRequest]) -> Tally:
    """Post every request with a progress bar on stderr."""
    tally = Tally()
    headers = {"apikey": api_key, "content-type": "application/json"}
    with (
        httpx.Client(base_url=f"{base_url}/api/v3", headers=headers, timeout=30) as http,
        click.progressbar(requests, label="Posting", file=click.get_text_stream("stderr")) as bar,
    ):
        for request in bar:
            response = _send(http, request)
            if response.is_success:
                tally.accepted[request.kind] += len(request.body) if request.many else 1
            else:
                tally.refused.append(f"{request.method} {request.path}: {response.text[:300]}")
    return tally


def _send(http: httpx.Client, request: DemoRequest) -> httpx.Response:
    content = json.dumps(request.body)
    for attempt in range(1, RETRIES + 1):
        try:
            response = http.request(request.method, request.path, content=content)
        except httpx.TransportError:
            if attempt == RETRIES:
                raise
            time.sleep(BACKOFF_S * attempt)
            continue
        if response.status_code == 429:
            time.sleep(float(response.headers.get("retry-after", "1")))
        elif response.status_code >= 500 and attempt < RETRIES:
            time.sleep(BACKOFF_S * attempt)
        else:
            return response
    return response


@contextmanager
def serving_intake(settings: EngageSettings) -> Iterator[str]:
    """The intake on a free loopback port for as long as the demo posts; yields its URL."""
    from ingest_api.app import create_app
    from ingest_api.in_thread import serving_in_thread

    with serving_in_thread(create_app(settings), settings.keep_alive_seconds) as url:
        yield url
