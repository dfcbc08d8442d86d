"""A local Azure Blob Storage endpoint (Azurite, Microsoft's emulator, from tests/emulators/) for
the lake on az://, configured the way delta-rs and polars read it: AZURE_STORAGE_USE_EMULATOR
and AZURITE_BLOB_STORAGE_URL from the environment, the emulator's well-known account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.local_servers import local_server

EMULATORS = Path(__file__).resolve().parents[1] / "emulators"
AZURITE = EMULATORS / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's documented development account: not a secret."""
API_VERSION = "2021-08-06"


@contextmanager
def azurite_server() -> Iterator[str]:
    """Azurite's blob service on a free port, keeping its data in memory; yields its URL."""
    assert AZURITE.exists(), f"{AZURITE} is missing: `make test` installs it (npm ci)"
    with local_server(
        "Azurite",
        lambda port: [
            str(AZURITE),
            *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
            *("--inMemoryPersistence", "--silent"),
        ],
        cwd=EMULATORS,
    ) as url:
        yield url


@contextmanager
def azure_container(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new container, and the environment pointing at the emulator; yields the lake URI."""
    monkeypatch.setenv("AZURE_STORAGE_USE_EMULATOR", "true")
    monkeypatch.setenv("AZURITE_BLOB_STORAGE_URL", server_url)
    container = f"engage-{uuid.uuid4().hex[:8]}"
    _container_request("PUT", server_url, container)
    try:
        yield f"az://{container}/lake"
    finally:
        _container_request("DELETE", server_url, container)


def _container_request(method: str, server_url: str, container: str) -> None:
    """Create or delete a container, signed with the account key (Shared Key authorization)."""
    headers = {
        "x-ms-date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "x-ms-version": API_VERSION,
    }
    signed = "".join(
        [
            method + "\n" * 12,  # the standard headers, all empty
            *(f"{name}:{value}\n" for name, value in sorted(headers.items())),
            f"/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container",
        ]
    )
    signature = hmac.new(ACCOUNT_KEY, signed.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{base64.b64encode(signature).decode()}"
    url = f"{server_url}/{ACCOUNT}/{container}?restype=container"
    response = httpx.request(method, url, headers=headers)
    assert response.is_success, response.text
