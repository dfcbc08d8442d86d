"""Shared fixtures: real storage (SQLite, and PostgreSQL when configured) and a real intake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest_api.app import prepare_storage
from storage.apikeys import Scope, create_api_key
from storage.db import session_scope
from storage.settings import EngageSettings
from tests.support.databases import DATABASES, fresh_database
from tests.support.server import client, running_intake


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the operational database runs on SQLite and on PostgreSQL, unless
    `@pytest.mark.databases(...)` names the ones it needs: where the database is incidental (a
    body refused before anything is stored, Dagster's own storage), one run says all."""
    if "database_kind" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("databases")
        kinds = [kind for kind in DATABASES if marker is None or kind in marker.args]
        metafunc.parametrize("database_kind", kinds, ids=str)


@pytest.fixture
def database_url(database_kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty operational database: a SQLite file, or a PostgreSQL schema of its own."""
    with fresh_database(database_kind, tmp_path) as url:
        yield url


@pytest.fixture
def lake_uri() -> str | None:
    """Where the lake lives; None keeps it in ENGAGE_HOME (the end-to-end suite also uses S3)."""
    return None


@pytest.fixture
def settings(tmp_path: Path, database_url: str, lake_uri: str | None) -> EngageSettings:
    settings = EngageSettings(
        home=tmp_path / "engage", database_url=database_url, lake_uri=lake_uri
    )
    prepare_storage(settings)
    return settings


def make_key(settings: EngageSettings, *scopes: Scope) -> str:
    with session_scope(settings.resolved_database_url) as session:
        _, key = create_api_key(session, "test", frozenset(scope.value for scope in scopes))
    return key


@pytest.fixture
def admin_key(settings: EngageSettings) -> str:
    return make_key(settings, Scope.ADMIN)


@pytest.fixture
def intake_url(settings: EngageSettings) -> Iterator[str]:
    with running_intake(settings) as base_url:
        yield base_url


@pytest.fixture
def api(intake_url: str, admin_key: str) -> Iterator[httpx.Client]:
    """An HTTP client for the running intake, authenticated with an admin key."""
    with client(intake_url, admin_key) as http:
        yield http
