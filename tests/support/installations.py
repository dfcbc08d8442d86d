"""The two installations the end-to-end suite runs on: the embedded default (SQLite, the lake in
ENGAGE_HOME) and production's (PostgreSQL, the lake on S3). Where no PostgreSQL server is
configured, the production lake is paired with SQLite, so the S3 half still runs.

A lake on Azure Blob Storage (az://) works by the same mechanism as S3: only the tests that ask
for it by `@pytest.mark.lake("azure")` run there."""

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
INSTALLATIONS = [EMBEDDED, PRODUCTION]
ON_REQUEST = [Installation("sqlite", "azure")]


def installations_for(lakes: tuple[str, ...] | None) -> list[Installation]:
    """The installations whose lake is one of `lakes`; when None, the suite's two."""
    if lakes is None:
        return INSTALLATIONS
    return [item for item in INSTALLATIONS + ON_REQUEST if item.lake in lakes]


REFUSED_BEFORE_THE_LAKE = pytest.mark.lake("local")
"""For requests refused before anything is stored or read (a bad body, a missing scope): the lake
plays no part, so they run on the embedded installation only."""
