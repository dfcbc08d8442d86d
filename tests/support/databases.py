"""Fresh operational databases for tests: a SQLite file, or a PostgreSQL schema of its own on the
server named by ENGAGE_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import engine_for

POSTGRES_URL = os.environ.get("ENGAGE_TEST_POSTGRES_URL")
DATABASES = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`, dropped again afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'engage.db'}"
        return
    assert POSTGRES_URL is not None, "ENGAGE_TEST_POSTGRES_URL is not set"
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


REFUSED_BEFORE_STORAGE = pytest.mark.databases("sqlite")
"""For bodies the intake refuses before it stores anything: the database plays no part, so one
run says all. tests/api/test_fuzzing.py still sends every kind of body to PostgreSQL too."""
