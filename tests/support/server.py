"""A real uvicorn server on a free loopback port, run in a background thread."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ingest_api.app import create_app
from ingest_api.in_thread import serving_in_thread
from storage.settings import EngageSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_intake(settings: EngageSettings) -> Iterator[str]:
    """Serve the intake over HTTP; yield its base URL."""
    with serving_in_thread(create_app(settings), settings.keep_alive_seconds) as base_url:
        yield base_url


def client(base_url: str, key: str | None) -> httpx.Client:
    headers = {"apikey": key} if key else {}
    return httpx.Client(base_url=f"{base_url}/api/v3", headers=headers, timeout=30)
