"""`engage-orders serve` keeps idle connections open longer than clients keep them pooled.

A client that sends on a pooled connection just as the server closes it gets no answer at all
(httpx: "Server disconnected without sending a response"). That cannot happen while the server
waits longer than the client: httpx and requests drop idle connections after 5 s, a load
balancer after 60 s (AWS) or more.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.settings import EngageSettings
from tests.support.server import free_port

COMMAND = Path(sys.executable).with_name("engage-orders")
HTTPX_POOL_EXPIRY_S = 5.0


@contextmanager
def serving(settings: EngageSettings, **variables: str) -> Iterator[int]:
    """`engage-orders serve` on a free port; yields the port once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
        **variables,
    }
    server = subprocess.Popen(
        [str(COMMAND), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _health(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("intake did not start")


def _health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


@pytest.mark.databases("sqlite")  # connections, not storage
def test_an_idle_connection_outlives_the_clients_pool_expiry(settings: EngageSettings) -> None:
    with (
        serving(settings) as default_port,
        serving(settings, ENGAGE_KEEP_ALIVE_SECONDS="1") as short_port,
    ):
        kept = http.client.HTTPConnection("127.0.0.1", default_port, timeout=10)
        closed = http.client.HTTPConnection("127.0.0.1", short_port, timeout=10)
        assert (_health(kept), _health(closed)) == (200, 200)
        time.sleep(HTTPX_POOL_EXPIRY_S + 1)

        assert _health(kept) == 200  # the same connection: http.client does not reconnect
        # The setting is what keeps it: with 1 s, the server has closed the connection.
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _health(closed)
