"""API keys: created once, stored as a SHA-256 hash, carrying scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ApiKey, utcnow


class Scope(StrEnum):
    ORDERS_WRITE = "orders:write"
    ORDERS_READ = "orders:read"
    RECEIPTS_WRITE = "receipts:write"
    CONTACTS_WRITE = "contacts:write"
    CONTACTS_READ = "contacts:read"
    ARTICLES_WRITE = "articles:write"
    SEGMENTS_READ = "segments:read"
    SEGMENTS_WRITE = "segments:write"
    GDPR = "gdpr"
    ADMIN = "admin"


KEY_PREFIX = "eo_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and scopes (never the key itself)."""

    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


def hash_key(key: str) -> str:
    # Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Validate scope names; raises ValueError naming an unknown one."""
    known = {scope.value for scope in Scope}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return frozenset(values)


def create_api_key(
    session: Session, name: str, scopes: frozenset[str], key: str | None = None
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored."""
    plaintext = key or KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        id=str(uuid.uuid4()),
        name=name,
        key_hash=hash_key(plaintext),
        key_prefix=plaintext[:8],
        scopes=" ".join(sorted(scopes)),
    )
    session.add(record)
    session.flush()
    return record, plaintext


class UnknownApiKey(LookupError):
    """No key has this id."""


def list_api_keys(session: Session, include_revoked: bool = False) -> list[ApiKey]:
    """The keys, oldest first; their hashes stay in the database, the keys were never stored."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    """Refuse the key from now on (every intake within ApiKeyCache's second); idempotent: a
    revoked key keeps its first revocation time."""
    record = session.get(ApiKey, key_id)
    if record is None:
        raise UnknownApiKey(key_id)
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    return record


def rotate_api_key(session: Session, key_id: str, keep_old: bool = False) -> tuple[ApiKey, str]:
    """A new key with the old one's name and scopes; the old one is revoked unless `keep_old`
    (then the integrator switches over and revokes it when done)."""
    old = session.get(ApiKey, key_id)
    if old is None or old.revoked_at is not None:
        raise UnknownApiKey(key_id)
    record, plaintext = create_api_key(session, old.name, frozenset(old.scopes.split()))
    if not keep_old:
        revoke_api_key(session, key_id)
    return record, plaintext


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None if it is unknown or revoked."""
    digest = hash_key(key)
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.key_hash, digest):
        return None
    return Principal(key_id=record.id, name=record.name, scopes=frozenset(record.scopes.split()))


def ensure_bootstrap_key(session: Session, key: str) -> None:
    """Make sure an admin key with exactly this value exists (ENGAGE_BOOTSTRAP_API_KEY)."""
    if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))) is None:
        create_api_key(session, "bootstrap", frozenset({Scope.ADMIN.value}), key=key)
