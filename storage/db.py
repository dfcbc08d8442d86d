"""Engine, sessions and migrations of the operational database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATION_ATTEMPTS = 5
WAL_TRUNCATE_ATTEMPTS = 10


@cache
def engine_for(url: str) -> Engine:
    """One pooled engine per URL and process."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the intake write while the pipeline and readers read; FULL sync because a 202 must
    # survive a crash; secure_delete so erased rows do not linger in free pages.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@cache
def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("storage") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_MIGRATION_LOCK = threading.Lock()
"""Alembic runs a migration through module-level state (its `context` and `op` proxies): two
threads migrating at once corrupt each other's run (KeyError: 'script'). Dagster evaluates
sensors in threads, and each evaluation sets up the database resource."""
_MIGRATED: set[str] = set()


def migrate(url: str) -> None:
    """Bring the schema to the newest revision.

    Every process calls this at start; when two race on a fresh database one of them fails on
    "already exists" and simply tries again once the other is done.
    """
    with _MIGRATION_LOCK:
        for attempt in range(1, MIGRATION_ATTEMPTS + 1):
            try:
                command.upgrade(alembic_config(url), "head")
                _MIGRATED.add(url)
                return
            except DBAPIError:
                if attempt == MIGRATION_ATTEMPTS:
                    raise
                log.warning("migration raced another process; retrying")
                time.sleep(0.2 * attempt)


def schema_revision(url: str) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def newest_revision() -> str:
    """The revision `migrate` brings a database to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def migrate_once(url: str) -> None:
    """`migrate`, unless this process already did for `url`: a sensor tick or a run sets up
    the database resource each time, and Alembic's check costs tens of milliseconds."""
    if url not in _MIGRATED:
        migrate(url)


def release_free_space(url: str) -> None:
    """After an erasure: on SQLite, copy the write-ahead log into the database and truncate it,
    since the log still holds the pages as they were before the delete (deleted content in the
    database file itself is already zeroed by `secure_delete`).

    PostgreSQL keeps deleted tuples until (auto)vacuum reuses their space; see docs/gdpr.md.
    """
    if make_url(url).get_backend_name() != "sqlite":
        return
    for attempt in range(1, WAL_TRUNCATE_ATTEMPTS + 1):
        with engine_for(url).connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if not busy:
            return
        time.sleep(0.1 * attempt)
    log.warning("the SQLite write-ahead log could not be truncated: readers kept it busy")


def upsert(session: Session, table: Table) -> Any:
    """`INSERT ... ON CONFLICT` for the session's database (SQLite or PostgreSQL), so a batch of
    rows is written in one executemany instead of loaded, compared and flushed object by object."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")


def ping(url: str) -> None:
    with engine_for(url).connect() as connection:
        connection.execute(text("SELECT 1"))
