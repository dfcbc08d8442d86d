"""Shared fixtures: real storage (SQLite, and PostgreSQL when configured) and a real intake."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ingest_api.app import prepare_storage
from storage.apikeys import Scope, create_api_key
from storage.db import engine_for, session_scope
from storage.settings import EngageSettings
from tests.support.server import client, running_intake

POSTGRES_URL = os.environ.get("ENGAGE_TEST_POSTGRES_URL")
EXAMPLES = Path(__file__).resolve().parent / "examples"
"""Copies of the Engage example bodies from the specification."""

DATABASES = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty operational database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'engage.db'}"
        return
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        engine_for.cache_clear()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> EngageSettings:
    settings = EngageSettings(home=tmp_path / "engage", database_url=database_url)
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
