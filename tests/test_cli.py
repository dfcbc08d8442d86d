"""The `engage-orders` command: key management in-process, and `run` as a real process tree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from pipelines.cli import main
from storage.apikeys import authenticate
from storage.db import session_scope
from storage.settings import EngageSettings
from tests.support.processes import descendants, is_running, own_installation_env
from tests.support.server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 120
SHUTDOWN_TIMEOUT_SECONDS = 60


def cli_env(settings: EngageSettings) -> dict[str, str]:
    return {
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
    }


def test_apikey_create_prints_a_working_key_with_its_scopes(settings: EngageSettings) -> None:
    result = CliRunner().invoke(
        main,
        ["apikey", "create", "--scopes", "orders:write,orders:read", "--scopes", "contacts:read"],
        env=cli_env(settings),
    )

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert "\n" not in key, "stdout must hold the key alone so scripts can capture it"
    assert key not in result.stderr
    with session_scope(settings.resolved_database_url) as session:
        principal = authenticate(session, key)
    assert principal is not None
    assert principal.name == "cli"
    assert principal.scopes == {"orders:write", "orders:read", "contacts:read"}


def test_apikey_create_takes_a_name(settings: EngageSettings) -> None:
    result = CliRunner().invoke(
        main, ["apikey", "create", "--scopes", "admin", "--name", "shop"], env=cli_env(settings)
    )

    assert result.exit_code == 0, result.output
    with session_scope(settings.resolved_database_url) as session:
        principal = authenticate(session, result.stdout.strip())
    assert principal is not None
    assert principal.name == "shop"


@pytest.mark.parametrize("scopes", ["orders:write,orders:wrte", ","])
def test_apikey_create_rejects_bad_scopes_with_exit_2(
    settings: EngageSettings, scopes: str
) -> None:
    result = CliRunner().invoke(
        main, ["apikey", "create", "--scopes", scopes], env=cli_env(settings)
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--scopes" in result.stderr


def create_key(settings: EngageSettings, name: str, scopes: str = "orders:read") -> str:
    result = CliRunner().invoke(
        main, ["apikey", "create", "--scopes", scopes, "--name", name], env=cli_env(settings)
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def listed_keys(settings: EngageSettings, *options: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["apikey", "list", "--json", *options], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["name"]: row for row in rows}


def orders_read_status(intake_url: str, key: str) -> int:
    """What the intake answers a read with this key: 404 (no such order) or 401."""
    return httpx.get(f"{intake_url}/api/v3/orders/NO-SUCH", headers={"apikey": key}).status_code


def wait_until_refused(intake_url: str, key: str) -> float:
    """Seconds until the intake refuses the key; it may remember a key for a second."""
    started = time.monotonic()
    while orders_read_status(intake_url, key) != 401:
        assert time.monotonic() - started < 5, "the intake still accepts the key"
        time.sleep(0.1)
    return time.monotonic() - started


def test_apikey_list_shows_keys_without_secrets(settings: EngageSettings) -> None:
    shop = create_key(settings, "shop", "orders:write,orders:read")
    create_key(settings, "pos", "receipts:write")

    keys = listed_keys(settings)

    assert set(keys) == {"shop", "pos"}
    assert keys["shop"]["scopes"] == ["orders:read", "orders:write"]
    assert keys["shop"]["prefix"] == shop[:8]
    assert keys["shop"]["revoked"] is None
    table = CliRunner().invoke(main, ["apikey", "list"], env=cli_env(settings))
    assert table.exit_code == 0
    assert "shop" in table.stdout
    assert keys["shop"]["id"] in table.stdout
    with session_scope(settings.resolved_database_url) as session:
        (digest,) = session.execute(text("SELECT key_hash FROM api_keys WHERE name = 'shop'")).one()
    for output in (table.stdout, json.dumps(keys)):
        assert shop not in output
        assert digest not in output


def test_a_revoked_key_is_refused_by_the_running_intake(
    settings: EngageSettings, intake_url: str
) -> None:
    key = create_key(settings, "shop")
    assert orders_read_status(intake_url, key) == 404
    key_id = listed_keys(settings)["shop"]["id"]

    result = CliRunner().invoke(main, ["apikey", "revoke", key_id], env=cli_env(settings))

    assert result.exit_code == 0, result.output
    assert wait_until_refused(intake_url, key) <= 2
    assert listed_keys(settings) == {}
    assert listed_keys(settings, "--all")["shop"]["revoked"] is not None


@pytest.mark.parametrize("keep_old", [False, True])
def test_apikey_rotate_issues_a_new_key_with_the_same_scopes(
    settings: EngageSettings, intake_url: str, keep_old: bool
) -> None:
    old = create_key(settings, "shop", "orders:read,receipts:write")
    old_id = listed_keys(settings)["shop"]["id"]
    assert orders_read_status(intake_url, old) == 404

    options = ["--keep-old"] if keep_old else []
    result = CliRunner().invoke(main, ["apikey", "rotate", old_id, *options], env=cli_env(settings))

    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert new != old
    assert new not in result.stderr
    assert orders_read_status(intake_url, new) == 404
    with session_scope(settings.resolved_database_url) as session:
        principal = authenticate(session, new)
    assert principal is not None
    assert principal.name == "shop"
    assert principal.scopes == {"orders:read", "receipts:write"}
    if keep_old:
        assert orders_read_status(intake_url, old) == 404
    else:
        wait_until_refused(intake_url, old)


@pytest.mark.parametrize("command", ["revoke", "rotate"])
def test_apikey_commands_reject_an_unknown_id_with_exit_2(
    settings: EngageSettings, command: str
) -> None:
    result = CliRunner().invoke(main, ["apikey", command, "no-such-id"], env=cli_env(settings))

    assert result.exit_code == 2
    assert "no-such-id" in result.stderr


@pytest.fixture
def supervisor_env(tmp_path: Path) -> dict[str, str]:
    return own_installation_env(tmp_path)


@dataclass
class RunningSupervisor:
    process: subprocess.Popen[bytes]
    api_port: int
    ui_port: int
    log_path: Path
    seen_pids: set[int] = field(default_factory=set)
    """Processes of the tree seen while it ran, to clean up after a failed test."""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def running_supervisor(
    tmp_path: Path, supervisor_env: dict[str, str]
) -> Iterator[RunningSupervisor]:
    """`engage-orders run` in a session of its own, as if started from a terminal."""
    api_port, ui_port = free_port(), free_port()
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "run",
                "--api-port",
                str(api_port),
                "--ui-port",
                str(ui_port),
            ],
            cwd=PROJECT_ROOT,
            env=supervisor_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningSupervisor(process, api_port, ui_port, log_path)
    try:
        yield running
    finally:
        for pid in {process.pid, *descendants(process.pid), *running.seen_pids}:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_until_answers(url: str, running: RunningSupervisor) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert running.process.poll() is None, f"run exited early:\n{running.log()}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer in time:\n{running.log()}")


@pytest.mark.timeout(STARTUP_TIMEOUT_SECONDS + SHUTDOWN_TIMEOUT_SECONDS + 30)
def test_run_serves_api_and_ui_and_stops_everything_on_ctrl_c(
    running_supervisor: RunningSupervisor,
) -> None:
    running = running_supervisor
    wait_until_answers(f"http://127.0.0.1:{running.api_port}/docs", running)
    wait_until_answers(f"http://127.0.0.1:{running.ui_port}/server_info", running)
    tree = descendants(running.process.pid)
    running.seen_pids.update(tree)
    assert len(tree) >= 3, "intake, webserver and daemon should be running"

    os.killpg(running.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

    assert running.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0, running.log()
    deadline = time.monotonic() + 5
    while any(is_running(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in tree if is_running(pid)] == [], running.log()
    assert "did not stop in time" not in running.log()
