"""Settings shared by the intake, the pipeline and the CLI.

Everything comes from ``ENGAGE_*`` environment variables so that one process environment configures
every component the same way; defaults give the embedded single-machine set-up under ``./.engage``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngageSettings(BaseSettings):
    """The product's configuration (``ENGAGE_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="ENGAGE_", extra="ignore", frozen=True)

    home: Path = Field(default=Path(".engage"), description="Root folder of the embedded set-up.")
    lake_uri: str | None = Field(
        default=None, description="Root URI of the Delta tables; default `$ENGAGE_HOME/lake`."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the operational database; default SQLite."
    )
    dagster_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL (postgresql+psycopg2://user:password@host:5432/db) for Dagster's "
            "runs, events and schedules, written into a new DAGSTER_HOME's dagster.yaml as a "
            "reference to this variable; unset: SQLite files in DAGSTER_HOME (one machine only)."
        ),
    )
    bootstrap_api_key: SecretStr | None = Field(
        default=None, description="If set, an admin key with exactly this value exists."
    )
    order_statuses: tuple[str, ...] = ("InProgress", "Completed", "Cancelled")
    ongoing_statuses: tuple[str, ...] = ("InProgress",)
    loyalty_points_per_unit: float = Field(
        default=1.0, ge=0, description="Points per unit of group currency on awardsBonus lines."
    )
    loyalty_bonus_check_threshold: int = Field(
        default=500, ge=0, description="A bonus check is issued each time a balance reaches this."
    )
    automations_path: Path | None = Field(
        default=None,
        description=(
            "automations.yaml: which actions exist, their channels and templates; default: the "
            "configuration shipped with the product (ConfirmOrder, ConfirmShipment, ConfirmReturn "
            "on the outbox channel)."
        ),
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for the smtp channel.")
    smtp_port: int = 587
    smtp_starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="no-reply@example.com", description="From address of e-mails.")
    smtp_timeout_seconds: float = 10.0
    smtp_ca_file: Path | None = Field(
        default=None, description="PEM file of the CAs to trust for STARTTLS (default: system)."
    )
    smtp_max_attempts: int = Field(
        default=3, ge=1, description="Attempts per e-mail when the server fails transiently."
    )
    smtp_backoff_seconds: float = Field(
        default=1.0, ge=0, description="First retry delay; doubles after each failed attempt."
    )
    webhook_url: str | None = Field(default=None, description="Where the webhook channel POSTs.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for the X-Engage-Signature header."
    )
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = Field(default=4, ge=1, description="Attempts per delivery run.")
    webhook_backoff_seconds: float = Field(
        default=0.5, ge=0, description="First retry delay; doubles after each failed attempt."
    )
    gdpr_hash_key: SecretStr | None = Field(
        default=None,
        description=(
            "HMAC-SHA256 key for the contact hash kept in GDPR requests; default: a random key "
            "generated once into `$ENGAGE_HOME/gdpr-hash.key` (mode 0600). Every intake and "
            "pipeline process of one installation must use the same key."
        ),
    )
    gdpr_grace_days: int = Field(
        default=7, ge=0, description="Days a deleted contact can be restored before erasure."
    )
    gdpr_inactivity_days: int = Field(
        default=730,
        ge=0,
        description=(
            "Days without an order, receipt or contact change after which the daily schedule "
            "deletes a contact (soft delete plus erasure request with the grace period, like "
            "DELETE /contacts/{id}); 0 turns these deletions off."
        ),
    )
    max_body_bytes: int = 1024 * 1024
    import_max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        description=(
            "Body limit of the article register calls (POST /articles and /articles/import): "
            "1000 articles with descriptions outgrow max_body_bytes."
        ),
    )
    api_key_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "How long the intake remembers an authenticated API key: a revoked key is refused "
            "within this time. 0 looks every request's key up."
        ),
    )
    rate_limit_per_s: float = Field(
        default=50.0,
        ge=0,
        description=(
            "Requests a second each API key may make, on average, per intake process; more get "
            "429 with Retry-After. 0 turns the limit off."
        ),
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests an API key may make at once above its rate."
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How long a request's body may take to arrive; a slower one gets 408 and its "
            "connection is closed (slow-loris clients). 0: no limit."
        ),
    )
    keep_alive_seconds: float = Field(
        default=75.0,
        gt=0,
        description=(
            "How long the intake keeps an idle connection open. Longer than a load balancer's "
            "idle timeout (60 s on AWS) and an HTTP client's pool expiry (5 s in httpx and "
            "requests), so the client always drops a connection first: otherwise a request sent "
            "as the server closes it fails with no answer."
        ),
    )
    group_commit_max_rows: int = 2000
    max_changes_per_run: int = Field(
        default=100_000,
        ge=1,
        description=(
            "Landed changes one processing run takes at most (whole bronze commits; a single "
            "larger commit is taken alone), so a backlog is processed in runs of bounded memory."
        ),
    )
    lake_history_hours: int = Field(
        default=24,
        ge=1,
        description=(
            "How long silver and gold versions stay readable by time travel; lake maintenance "
            "removes older files and log entries. Longer keeps more history, but on a local lake "
            "every commit lists the whole log, so commits slow down as it grows."
        ),
    )
    lake_compact_files: int = Field(
        default=100,
        ge=2,
        description=(
            "Active files in a bronze table at which its maintenance starts: an intake commit's "
            "cost grows with the table's files (about 0.1 ms per file)."
        ),
    )
    group_commit_max_wait_ms: float = Field(
        default=2.0,
        description="How long the first request of a batch waits for company before committing.",
    )

    @field_validator("dagster_database_url")
    @classmethod
    def _psycopg2_for_dagster(cls, url: str | None) -> str | None:
        """dagster-postgres needs the psycopg2 driver: under psycopg 3, SQLAlchemy 2.1's default
        for `postgresql://`, its NOTIFY statements fail with a syntax error at every event."""
        if url and not url.startswith("postgresql+psycopg2://"):
            raise ValueError("use a postgresql+psycopg2://user:password@host:port/db URL")
        return url or None

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_lake_uri(self) -> str:
        """Lake root; a plain path is made absolute so every process agrees on it."""
        if self.lake_uri is None:
            return str(self.resolved_home / "lake")
        if "://" in self.lake_uri:
            return self.lake_uri.rstrip("/")
        return str(Path(self.lake_uri).expanduser().resolve())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'engage.db'}"
