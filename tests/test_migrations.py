"""The Alembic migrations build exactly the schema the ORM models describe, on every database."""

from __future__ import annotations

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
