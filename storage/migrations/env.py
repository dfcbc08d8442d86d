"""Alembic environment: runs against the URL set by storage.db.alembic_config (or alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from storage.db import engine_for
from storage.models import Base

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = engine_for(url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Serialise concurrent migrations of several workers starting at once.
            connection.execute(text("SELECT pg_advisory_lock(7241900)"))
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(7241900)"))
                connection.commit()


run_migrations_online()
