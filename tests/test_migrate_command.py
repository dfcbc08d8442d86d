"""`engage-orders migrate`: what a deployment runs once before rolling out a new version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.apikeys import authenticate
from storage.db import newest_revision, schema_revision, session_scope

BOOTSTRAP_KEY = "bootstrap-key-for-the-migration-test-0123456789"


def migrate(database_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "ENGAGE_HOME": str(home),
        "ENGAGE_DATABASE_URL": database_url,
        "ENGAGE_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY,
    }
    command = [str(Path(sys.executable).parent / "engage-orders"), "migrate"]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)


def test_migrate_brings_an_empty_database_to_the_newest_schema_once(
    database_url: str, tmp_path: Path
) -> None:
    assert schema_revision(database_url) is None

    first = migrate(database_url, tmp_path / "engage")

    assert first.returncode == 0, first.stderr
    head = newest_revision()
    assert first.stdout.strip() == (
        f"Operational database migrated from an empty database to revision {head}."
    )
    assert schema_revision(database_url) == head
    with session_scope(database_url) as session:
        assert authenticate(session, BOOTSTRAP_KEY) is not None
    again = migrate(database_url, tmp_path / "engage")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"Operational database already at revision {head}."


def test_migrate_fails_clearly_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:db-password@127.0.0.1:1/none"
    result = migrate(url, tmp_path / "engage")

    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot migrate postgresql+psycopg://nobody:***@")
    assert "Connection refused" in result.stderr
    assert "db-password" not in result.stderr
    assert "Traceback" not in result.stderr
