"""Tables of the operational database (SQLite by default, PostgreSQL in production).

It holds what the HTTP API serves synchronously: API keys, contacts, jobs and their outcome, the
integration log and the order view. The lake stays the history; this is the serving side.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """An integrator's key: only its SHA-256 hash is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(500), doc="Space-separated scopes.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


_LIVE = text("deleted_at IS NULL")
_CONTACT_KEYS = ("email", "mobile_phone", "external_id", "member_number", "social_security_number")


class Contact(Base):
    """A contact (customer). Key fields are unique among live (not soft-deleted) contacts."""

    __tablename__ = "contacts"
    __table_args__ = tuple(
        Index(
            f"uq_contacts_live_{key}",
            key,
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        )
        for key in _CONTACT_KEYS
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_type: Mapped[str] = mapped_column(String(32), default="Member")
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    mobile_phone: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    member_number: Mapped[str | None] = mapped_column(String(255))
    social_security_number: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(255))
    zip_code: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    country_code: Mapped[str | None] = mapped_column(String(2))
    birth_day: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Job(Base):
    """One accepted write and its outcome; what `GET /orders/jobs/{jobId}` answers."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_created_at", "created_at"),
    )

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource: Mapped[str] = mapped_column(String(32), doc="orders, receipts, ...")
    order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    change_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    version_tag: Mapped[str | None] = mapped_column(String(32))
    errors: Mapped[str | None] = mapped_column(Text, doc="JSON list of field errors.")


class IntegrationLogEntry(Base):
    """A warning or error from processing, for the integrator (never holds personal data)."""

    __tablename__ = "integration_log"
    __table_args__ = (
        UniqueConstraint("job_id", "code"),
        Index("ix_integration_log_type_created_at", "type", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), doc="Orders, Receipts, Actions, ...")
    severity: Mapped[str] = mapped_column(String(16), doc="Warning or Error.")
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(36))
    order_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OrderView(Base):
    """The current processed version of each live order, as the GET endpoints serve it."""

    __tablename__ = "order_view"
    __table_args__ = (Index("ix_order_view_contact_id_created_at", "contact_id", "created_at"),)

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True, doc="The order id.")
    contact_id: Mapped[str | None] = mapped_column(String(36), doc="Resolved contact, if any.")
    version_tag: Mapped[str] = mapped_column(String(32), doc="Current versionTag.")
    version_number: Mapped[int] = mapped_column(BigInteger, doc="1 for the first version.")
    change_seq: Mapped[int] = mapped_column(BigInteger, doc="Landing order of the last change.")
    status: Mapped[str | None] = mapped_column(String(255), doc="Order status.")
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="When placed.")
    last_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="Last change.")
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="When processed.")
    document: Mapped[str] = mapped_column(Text, doc="The order version as Orders v3 JSON.")


class ReceiptView(Base):
    """Every processed receipt, once, as `GET /receipts` serves it; never changed after insert."""

    __tablename__ = "receipt_view"
    __table_args__ = (Index("ix_receipt_view_contact_id_created_at", "contact_id", "created_at"),)

    unique_receipt_id: Mapped[str] = mapped_column(
        String(128), primary_key=True, doc="The integrator's unique receipt id."
    )
    contact_id: Mapped[str | None] = mapped_column(String(36), doc="Resolved contact, if any.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="When the receipt was created.")
    total_gross_price: Mapped[float] = mapped_column(
        Numeric(18, 4, asdecimal=False), doc="What was paid (negative for a return)."
    )
    currency: Mapped[str | None] = mapped_column(String(3), doc="ISO 4217 currency.")
    store_external_id: Mapped[str | None] = mapped_column(String(255), doc="Store of the receipt.")
    document: Mapped[str] = mapped_column(Text, doc="The receipt as canonical JSON.")
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="When processed.")


class ReceiptJobOutcome(Base):
    """What a settled receipt job adds to its status: the receipt, duplicate or not, warnings."""

    __tablename__ = "receipt_job_outcomes"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True, doc="Intake job id.")
    unique_receipt_id: Mapped[str] = mapped_column(String(128), doc="The receipt submitted.")
    duplicate: Mapped[bool] = mapped_column(Boolean, doc="The receipt was already registered.")
    warnings: Mapped[str | None] = mapped_column(Text, doc="JSON list of {code, message}.")


class PipelineWatermark(Base):
    """How far a pipeline has fully processed a bronze table (its Delta version)."""

    __tablename__ = "pipeline_watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class LoyaltyEntry(Base):
    """A loyalty ledger entry as `GET /contacts/{id}/loyalty` serves it (mirrors the lake)."""

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        Index("ix_loyalty_entries_contact_id_change_seq", "contact_id", "change_seq"),
    )

    entry_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36))
    unique_receipt_id: Mapped[str] = mapped_column(String(128))
    entry_type: Mapped[str] = mapped_column(String(32), doc="Earned, Deducted, BonusCheckIssued.")
    points: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    change_seq: Mapped[int] = mapped_column(BigInteger)
    entry_number: Mapped[int] = mapped_column(Integer, doc="0 for the points, n for the nth check.")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Segment(Base):
    """A saved segment definition, and when its memberships were last materialised.

    The definition is kept as the analyst wrote it (so it reads back the same) and validated again
    whenever it is loaded, so a definition stored by an older release that no longer validates is
    noticed instead of silently evaluated differently.
    """

    __tablename__ = "segments"

    name: Mapped[str] = mapped_column(String(100), primary_key=True, doc="Segment name (a slug).")
    description: Mapped[str | None] = mapped_column(Text, doc="What the segment is for.")
    definition: Mapped[str] = mapped_column(Text, doc="The criteria as JSON, as written.")
    revision: Mapped[str] = mapped_column(
        String(16), doc="Short SHA-256 of the canonical criteria; changes when they change."
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_key_id: Mapped[str | None] = mapped_column(
        String(36), doc="API key that first saved it (None from the command line)."
    )
    materialized_revision: Mapped[str | None] = mapped_column(
        String(16), doc="Revision the last materialised memberships were computed from."
    )
    materialized_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="When the memberships were last materialised."
    )


class OrderAction(Base):
    """An action on one order version (SPEC 2.2), from `POST /orders/{id}/action` or embedded in
    a change. The order version is pinned: its document is copied here when the action is
    accepted, so the communication is rendered from exactly that version whatever happens to the
    order afterwards."""

    __tablename__ = "order_actions"
    __table_args__ = (
        Index("ix_order_actions_order_id_created_at", "order_id", "created_at"),
        Index("ix_order_actions_contact_id_created_at", "contact_id", "created_at"),
    )

    action_id: Mapped[str] = mapped_column(String(36), primary_key=True, doc="The actionId.")
    order_id: Mapped[str] = mapped_column(String(128), doc="The order acted on.")
    version_tag: Mapped[str] = mapped_column(String(32), doc="The order version acted on.")
    action: Mapped[str] = mapped_column(String(100), doc="Action name, e.g. ConfirmOrder.")
    language: Mapped[str | None] = mapped_column(String(35), doc="Requested language, if any.")
    data: Mapped[str | None] = mapped_column(Text, doc="The action's `data` object (JSON).")
    contact_id: Mapped[str] = mapped_column(String(36), doc="Contact the communication goes to.")
    source: Mapped[str] = mapped_column(String(16), doc="api or embedded.")
    job_id: Mapped[str | None] = mapped_column(
        String(36), unique=True, doc="For embedded actions: the change's job (one action each)."
    )
    api_key_id: Mapped[str] = mapped_column(String(36), doc="API key that asked for it.")
    document: Mapped[str] = mapped_column(Text, doc="The pinned order version (Orders v3 JSON).")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Communication(Base):
    """One action's message on one channel, and its delivery: queued, sending, sent or failed.

    `status` moves Queued → Sending (the attempt is recorded before anything is sent) → Sent or
    Failed, so a delivery run that crashed mid-send is recognisable afterwards and never sends an
    e-mail twice.
    """

    __tablename__ = "communications"
    __table_args__ = (
        UniqueConstraint("action_id", "channel"),
        Index("ix_communications_status_created_at", "status", "created_at"),
        Index("ix_communications_contact_id_created_at", "contact_id", "created_at"),
        Index("ix_communications_order_id_created_at", "order_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    action_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("order_actions.action_id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16), doc="outbox, smtp or webhook.")
    status: Mapped[str] = mapped_column(String(16), doc="Queued, Sending, Sent or Failed.")
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="Delivery attempts so far.")
    order_id: Mapped[str] = mapped_column(String(128), doc="The order (copied for listing).")
    contact_id: Mapped[str] = mapped_column(String(36), doc="The contact (copied for listing).")
    version_tag: Mapped[str] = mapped_column(String(32), doc="The pinned order version.")
    language: Mapped[str | None] = mapped_column(String(35), doc="Language rendered.")
    recipient: Mapped[str | None] = mapped_column(String(2048), doc="Address or URL sent to.")
    subject: Mapped[str | None] = mapped_column(Text, doc="Rendered subject.")
    body: Mapped[str | None] = mapped_column(Text, doc="Rendered body.")
    last_error: Mapped[str | None] = mapped_column(Text, doc="Why the last attempt failed.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="When it was delivered.")


class GdprRequest(Base):
    """A data-subject request (SPEC 2.4): an erasure or a personal data extract, kept as the audit
    trail of its handling.

    It holds no personal data: the contact is named by `contact_hash`, a keyed hash (HMAC) that
    answers "was this contact erased?" later without storing the id. `contact_id` is kept only
    while the contact exists, because restore, erasure and extracts need it; erasure clears it
    on every request of the contact. `audit` records what erasure removed (tables, rows, files),
    counts only.
    """

    __tablename__ = "gdpr_requests"
    __table_args__ = (
        Index("ix_gdpr_requests_contact_id_status", "contact_id", "status"),
        Index("ix_gdpr_requests_status_erase_after", "status", "erase_after"),
        Index("ix_gdpr_requests_contact_hash", "contact_hash"),
        Index("ix_gdpr_requests_kind_status", "kind", "status"),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True, doc="The requestId.")
    kind: Mapped[str] = mapped_column(String(16), doc="erasure or extract.")
    reason: Mapped[str] = mapped_column(
        String(16), default="request", doc="request (the contact asked) or inactivity."
    )
    contact_hash: Mapped[str] = mapped_column(String(64), doc="HMAC-SHA256 of the contact id.")
    status: Mapped[str] = mapped_column(
        String(16), doc="Pending, then Restored or Erased (erasure), Completed or Failed (extract)."
    )
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    erase_after: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="End of the grace period (erasure only)."
    )
    contact_id: Mapped[str | None] = mapped_column(
        String(36), doc="The contact, until it is erased (then None)."
    )
    restored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="When the extract was ready (extract only)."
    )
    run_id: Mapped[str | None] = mapped_column(
        String(64), doc="The Dagster run that last worked on the request."
    )
    audit: Mapped[str | None] = mapped_column(
        Text, doc="JSON: what erasure removed per table (rows, files), counts only."
    )


class PersonalDataExtract(Base):
    """The JSON document of a completed personal data extract; erased with the contact."""

    __tablename__ = "personal_data_extracts"

    request_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("gdpr_requests.request_id", ondelete="CASCADE"),
        primary_key=True,
        doc="The extract request.",
    )
    document: Mapped[str] = mapped_column(Text, doc="The extract as JSON.")
    size_bytes: Mapped[int] = mapped_column(BigInteger, doc="Size of the document in bytes.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """A POST sent with an `Idempotency-Key`: its body's hash and, once answered, the answer.

    Keyed by the API key's digest (the same SHA-256 as `api_keys.key_hash`), so two integrators
    may use the same idempotency key. Only landing endpoints use it, whose answers (a job id and
    its link) hold no personal data; the request body itself is never kept.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    api_key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), doc="SHA-256 of method, path and body.")
    status_code: Mapped[int | None] = mapped_column(Integer, doc="None while being answered.")
    response_body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500), doc="The answer's Location header.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
