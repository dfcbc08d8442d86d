"""`engage-orders serve` keeps idle connections open longer than clients keep them pooled.

A client that sends on a pooled connection just as the server closes it gets no answer at all
(httpx: "Server disconnected without sending a response"). That cannot happen while the server
waits longer than the client: httpx and requests drop idle connections after 5 s, a load
balancer after 60 s (AWS) or more.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import pytest

from storage.settings import EngageSettings
from tests.support.served_intake import ServedIntake

HTTPX_POOL_EXPIRY_S = 5.0


def _health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


@pytest.mark.databases("sqlite")  # connections, not storage
def test_an_idle_connection_outlives_the_clients_pool_expiry(
    settings: EngageSettings, tmp_path: Path
) -> None:
    default = ServedIntake(settings, tmp_path / "default.log")
    short = ServedIntake(settings, tmp_path / "short.log", ENGAGE_KEEP_ALIVE_SECONDS="1")
    try:
        default.start()
        short.start()
        kept = http.client.HTTPConnection("127.0.0.1", default.port, timeout=10)
        closed = http.client.HTTPConnection("127.0.0.1", short.port, timeout=10)
        assert (_health(kept), _health(closed)) == (200, 200)
        time.sleep(HTTPX_POOL_EXPIRY_S + 1)

        assert _health(kept) == 200  # the same connection: http.client does not reconnect
        # The setting is what keeps it: with 1 s, the server has closed the connection.
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _health(closed)
    finally:
        default.stop()
        short.stop()
