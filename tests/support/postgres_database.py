"""A PostgreSQL database of a test's own on the configured server, that can be taken down.

Made unreachable without stopping the server the other tests share: new connections are refused
and open ones are ended, as a failover or a restart would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, make_url, text

from storage.db import engine_for


@dataclass
class Database:
    server_url: str
    name: str
    url: str
    """The database's SQLAlchemy URL (the server URL's driver)."""

    def psycopg2_url(self) -> str:
        """The URL with the psycopg2 driver, which dagster-postgres needs."""
        return (
            make_url(self.url)
            .set(drivername="postgresql+psycopg2")
            .render_as_string(hide_password=False)
        )

    def set_reachable(self, reachable: bool) -> None:
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            allow = "true" if reachable else "false"
            connection.execute(text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {allow}'))
            if not reachable:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": self.name},
                )
        admin.dispose()


@contextmanager
def own_database(server_url: str, prefix: str) -> Iterator[Database]:
    """A new empty database on the server of `server_url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield Database(server_url, name, url)
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
