"""The resources assets use: the lake, the operational database and processing policy.

They are thin ConfigurableResources over the framework-free `storage` package; `pipelines.resources`
builds them from the environment's settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr, SecretStr
from sqlalchemy.orm import Session

from schemas.automations import Automations, load_automations
from schemas.table_spec import TableSpec
from storage.db import migrate_once, session_scope
from storage.gdpr import hash_key as gdpr_hash_key
from storage.lake import Lake, lake_for_thread
from storage.settings import EngageSettings


class LakeResource(dg.ConfigurableResource):
    """Delta tables under `root_uri` (a local folder or s3://, gs://, az://)."""

    root_uri: str
    storage_options: dict[str, str] = {}

    @property
    def lake(self) -> Lake:
        return lake_for_thread(self.root_uri, self.storage_options or None)


class OperationalDatabase(dg.ConfigurableResource):
    """The operational database (SQLAlchemy URL), migrated to the newest schema on first use."""

    url: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        migrate_once(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.url) as session:
            yield session


class BatchLimits(dg.ConfigurableResource):
    """How much landed data one processing run takes (ENGAGE_MAX_CHANGES_PER_RUN).

    A run holds its whole batch in memory. After an outage or a bulk import the backlog may be
    millions of changes, so a run takes whole bronze commits up to this many rows and leaves the
    rest to the next run, which the sensor starts as soon as this one has finished.
    """

    max_changes_per_run: int = Field(default=100_000, ge=1)

    def batch_end(self, lake: Lake, spec: TableSpec, watermark: int) -> int:
        """The last bronze version of the batch after `watermark`."""
        return lake.batch_end(spec, watermark, self.max_changes_per_run)


class OrderPolicy(dg.ConfigurableResource):
    """Order rules that are configuration: the known statuses and which count as ongoing."""

    statuses: list[str] = ["InProgress", "Completed", "Cancelled"]
    ongoing_statuses: list[str] = ["InProgress"]


class LoyaltyProgram(dg.ConfigurableResource):
    """How receipts earn loyalty points (ENGAGE_LOYALTY_*)."""

    points_per_unit: float = 1.0
    bonus_check_threshold: int = 500


class AutomationsConfig(dg.ConfigurableResource):
    """Which actions exist and how they are communicated (automations.yaml; None: the default)."""

    path: str | None = None

    _automations: Automations | None = PrivateAttr(default=None)

    def load(self) -> Automations:
        """Loaded and validated once per process; an invalid file fails with every problem."""
        if self._automations is None:
            self._automations = load_automations(Path(self.path) if self.path else None)
        return self._automations


class ActionChannels(dg.ConfigurableResource):
    """Where communications go: SMTP and webhook settings (ENGAGE_SMTP_*, ENGAGE_WEBHOOK_*).

    Secrets that come from the environment are passed as `dg.EnvVar`, so the Dagster UI shows
    the variable's name, never the password or the webhook key.
    """

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "no-reply@example.com"
    smtp_timeout_seconds: float = 10.0
    smtp_ca_file: str | None = None
    smtp_max_attempts: int = 3
    smtp_backoff_seconds: float = 1.0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 4
    webhook_backoff_seconds: float = 0.5

    @classmethod
    def from_settings(cls, settings: EngageSettings) -> ActionChannels:
        fields: dict[str, Any] = {name: getattr(settings, name) for name in cls.model_fields}
        fields["smtp_ca_file"] = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
        for name in SECRET_FIELDS:
            fields[name] = _secret(getattr(settings, name), f"ENGAGE_{name.upper()}")
        return cls(**fields)

    def channel_settings(self) -> EngageSettings:
        """The settings the channels are built from (no environment is read here)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        fields["smtp_ca_file"] = Path(self.smtp_ca_file) if self.smtp_ca_file else None
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            fields[name] = SecretStr(value) if value is not None else None
        return EngageSettings.model_construct(**fields)


SECRET_FIELDS = ("smtp_password", "webhook_secret")


class GdprPolicy(dg.ConfigurableResource):
    """GDPR configuration of the pipeline's GDPR steps (ENGAGE_GDPR_*, ENGAGE_HOME).

    The hash key is passed as `dg.EnvVar` when it comes from ENGAGE_GDPR_HASH_KEY, so the UI
    never shows it; without it the key is the generated file under `home`, read where it is
    used, the same way the intake reads it (storage.gdpr.hash_key), so both name a contact alike.
    """

    home: str = Field(description="ENGAGE_HOME: where the generated hash key file is.")
    hash_key: str | None = Field(default=None, description="ENGAGE_GDPR_HASH_KEY, if set.")
    grace_days: int = Field(default=7, ge=0, description="Days a deletion can be restored.")
    inactivity_days: int = Field(
        default=730, ge=0, description="Days without activity before deletion; 0: never."
    )

    @classmethod
    def from_settings(cls, settings: EngageSettings) -> GdprPolicy:
        return cls(
            home=str(settings.resolved_home),
            hash_key=_secret(settings.gdpr_hash_key, "ENGAGE_GDPR_HASH_KEY"),
            grace_days=settings.gdpr_grace_days,
            inactivity_days=settings.gdpr_inactivity_days,
        )

    def key(self) -> bytes:
        """The HMAC key for contact hashes (no environment is read here)."""
        secret = SecretStr(self.hash_key) if self.hash_key is not None else None
        return gdpr_hash_key(
            EngageSettings.model_construct(home=Path(self.home), gdpr_hash_key=secret)
        )

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.grace_days)


def _secret(value: SecretStr | None, variable: str) -> str | dg.EnvVar | None:
    """The secret as an EnvVar when it came from that variable, so it is never shown in the UI."""
    if value is None:
        return None
    secret = value.get_secret_value()
    return dg.EnvVar(variable) if os.environ.get(variable) == secret else secret


class LakeMaintenancePolicy(dg.ConfigurableResource):
    """How lake maintenance keeps tables fast (ENGAGE_LAKE_HISTORY_HOURS, _COMPACT_FILES)."""

    history_hours: int = Field(
        default=24, ge=1, description="Hours silver and gold versions stay readable (time travel)."
    )
    compact_files: int = Field(
        default=100, ge=2, description="Active files at which a bronze table is maintained."
    )

    @property
    def history(self) -> timedelta:
        return timedelta(hours=self.history_hours)
