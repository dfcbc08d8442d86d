"""How a Delta table is described: columns, key, layer, and which columns hold personal data.

This catalogue is the one source of truth for table shapes. The intake writes with it, the pipeline
merges with it, Dagster shows its column descriptions, and erasure uses its personal-column list to
keep personal data out of the transaction log's file statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

Layer = Literal["bronze", "silver", "gold", "segments"]

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    personal: bool = False
    """Holds personal data (or a raw body that may): never in statistics, logs or metadata."""

    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True)
class TableSpec:
    name: str
    layer: Layer
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    change_data_feed: bool = False
    partition_by: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"{self.layer}/{self.name}"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([column.arrow_field() for column in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def personal_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.personal]

    @property
    def stats_columns(self) -> list[str]:
        return [column.name for column in self.columns if not column.personal]

    def configuration(self) -> dict[str, str]:
        """Delta table properties: statistics only on non-personal columns, no deletion vectors.

        Bronze tables forget removed files after an hour: every intake commit adds a file that
        compaction soon replaces, and checkpoints would otherwise carry a week of them
        (storage.lake_maintenance vacuums what is no longer listed by scanning the folder).
        """
        config = {
            "delta.dataSkippingStatsColumns": ",".join(self.stats_columns),
            "delta.enableDeletionVectors": "false",
        }
        if self.change_data_feed:
            config["delta.enableChangeDataFeed"] = "true"
        if self.layer == "bronze":
            config["delta.deletedFileRetentionDuration"] = "interval 1 hours"
        return config


def string(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, pa.string(), description, **kwargs)


def timestamp(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, UTC_TIMESTAMP, description, **kwargs)


def money(name: str, description: str) -> Column:
    return Column(name, pa.float64(), description)


def date(name: str, description: str, **kwargs: bool) -> Column:
    return Column(name, pa.date32(), description, **kwargs)


CONTACT_MATCH_KEY = string("contact_match_key", "The contact key as sent.", personal=True)
CONTACT_MATCH_KEY_TYPE = string(
    "contact_match_key_type", "ContactId, Email, MobilePhone, SocialSecurityNumber, ..."
)
