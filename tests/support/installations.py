"""The installations the end-to-end suite runs on: the embedded default (SQLite, the lake in
ENGAGE_HOME) and production's (PostgreSQL, the lake on S3). Where no PostgreSQL server is
configured, the production lake is paired with SQLite, so the S3 half still runs.

A lake on Azure Blob Storage (az://) works by the same mechanism as S3: only the tests that ask
for it by `@pytest.mark.lake("azure")` run there.

Object storage costs an end-to-end test about twice its time (every table refresh is two
requests to the emulator). A test whose subject is not the lake (`LAKE_INCIDENTAL`) runs on
both databases with the lake on local disk; the tests whose subject the lake is (its commits,
files, maintenance, erasure, crash recovery, concurrent writers) and the main flows run on
production's installation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.databases import POSTGRES_URL


@dataclass(frozen=True)
class Installation:
    database: str
    """`sqlite` or `postgres`."""
    lake: str
    """`local` (in ENGAGE_HOME), `s3` or `azure`."""

    def __str__(self) -> str:
        return f"{self.database}-{self.lake}"


EMBEDDED = Installation("sqlite", "local")
PRODUCTION = Installation("postgres" if POSTGRES_URL else "sqlite", "s3")
PRODUCTION_DATABASE = Installation("postgres", "local") if POSTGRES_URL else None
"""PostgreSQL with the lake on local disk: production's database for tests whose subject is not
the lake."""
INSTALLATIONS = [EMBEDDED, PRODUCTION]
ON_REQUEST = [Installation("sqlite", "azure")]


def installations_for(lakes: tuple[str, ...] | None) -> list[Installation]:
    """The installations whose lake is one of `lakes`; when None, the suite's two."""
    if lakes is None:
        return INSTALLATIONS
    return [item for item in INSTALLATIONS + ON_REQUEST if item.lake in lakes]


def installations_marked(marker: pytest.Mark | None) -> list[Installation]:
    """The installations a test runs on: `installations(...)` names them, `lake(...)` chooses
    them by lake; unmarked, the suite's two."""
    if marker is not None and marker.name == "installations":
        return list(marker.args)
    return installations_for(marker.args if marker else None)


REFUSED_BEFORE_THE_LAKE = pytest.mark.installations(EMBEDDED)
"""For requests refused before anything is stored or read (a bad body, a missing scope): the lake
plays no part, so they run on the embedded installation only."""

LAKE_INCIDENTAL = pytest.mark.installations(
    EMBEDDED, *([PRODUCTION_DATABASE] if PRODUCTION_DATABASE else [])
)
"""For tests whose subject is the API, the operational database or the pipeline's rules, where
the lake is read and written the ordinary way that the tests on object storage cover: both
databases, the lake on local disk."""
