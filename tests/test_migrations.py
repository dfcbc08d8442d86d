"""The Alembic migrations build exactly the schema the ORM models describe, on every database."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import engine_for, migrate
from storage.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # a second start finds nothing to do
    with engine_for(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_threads_migrating_at_once_all_succeed(database_url: str) -> None:
    """Dagster sets up the database resource in each sensor evaluation, in threads: Alembic's
    module-level state made concurrent checks fail with KeyError: 'script'."""
    migrate(database_url)
    errors: list[BaseException] = []

    def check() -> None:
        try:
            migrate(database_url)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
