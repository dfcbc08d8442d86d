"""The resources assets use: the lake, the operational database and processing policy.

They are thin ConfigurableResources over the framework-free `storage` package; `pipelines.resources`
builds them from the environment's settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.orm import Session

from storage.db import migrate, session_scope
from storage.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """Delta tables under `root_uri` (a local folder or s3://, gs://, az://)."""

    root_uri: str
    storage_options: dict[str, str] = {}

    _lake: Lake | None = PrivateAttr(default=None)

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            self._lake = Lake(self.root_uri, self.storage_options or None)
        return self._lake


class OperationalDatabase(dg.ConfigurableResource):
    """The operational database (SQLAlchemy URL), migrated to the newest schema on first use."""

    url: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        migrate(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.url) as session:
            yield session


class OrderPolicy(dg.ConfigurableResource):
    """Order rules that are configuration: the known statuses and which count as ongoing."""

    statuses: list[str] = ["InProgress", "Completed", "Cancelled"]
    ongoing_statuses: list[str] = ["InProgress"]


class LoyaltyProgram(dg.ConfigurableResource):
    """How receipts earn loyalty points (ENGAGE_LOYALTY_*)."""

    points_per_unit: float = 1.0
    bonus_check_threshold: int = 500
