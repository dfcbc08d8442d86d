"""`engage-orders serve` as operators run it: its log shows requests but no personal data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storage.settings import EngageSettings
from tests.support.orders import JSON
from tests.support.server import free_port

COMMAND = Path(sys.executable).with_name("engage-orders")
EMAIL = "lena.berg@example.org"


def test_request_log_has_paths_and_statuses_but_no_personal_data(
    settings: EngageSettings, admin_key: str, tmp_path: Path
) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
    }
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [str(COMMAND), "serve", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/api/v3"
        headers = {"apikey": admin_key}
        _wait_until_up(base, headers)
        body = json.dumps({"email": EMAIL, "firstName": "Lena", "mobilePhone": "+46701234567"})
        assert (
            httpx.post(f"{base}/contacts", content=body, headers={**headers, **JSON}).status_code
            == 201
        )
        lookup = httpx.get(f"{base}/contacts/id", params={"email": EMAIL}, headers=headers)
        assert lookup.status_code == 200
        contact_id = lookup.json()["contactId"]
        read = httpx.get(f"{base}/contacts/{contact_id}", headers=headers)
        assert read.status_code == 200
        missing = httpx.get(f"{base}/orders/ORDER-OF-{EMAIL}", headers=headers)
        assert missing.status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = log_path.read_text()
    assert "GET /api/v3/contacts/id 200" in log
    # Paths are logged as their route: ids in them would outlive an erasure in the log.
    assert "GET /api/v3/contacts/{contactId} 200" in log
    assert "GET /api/v3/orders/{orderId} 404" in log
    for value in (EMAIL, "lena.berg%40example.org", "Lena", "46701234567", admin_key, contact_id):
        assert value not in log


def _wait_until_up(base: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/orders/jobs", headers=headers, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("intake did not start")
