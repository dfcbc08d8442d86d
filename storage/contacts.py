"""Contacts: storage, key normalisation and resolution of order match keys to contact ids."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Contact

log = logging.getLogger(__name__)

KEY_COLUMNS: Mapping[str, str] = {
    "Email": "email",
    "MobilePhone": "mobile_phone",
    "SocialSecurityNumber": "social_security_number",
    "MemberNumber": "member_number",
    "ExternalId": "external_id",
}
"""Order `matchKeyType` → contact column (ContactId matches the id itself)."""

UNIQUE_KEYS = ("email", "mobile_phone", "external_id", "member_number", "social_security_number")


class InvalidPhoneNumber(ValueError):
    pass


class InvalidEmailAddress(ValueError):
    pass


class DuplicateContactKeys(Exception):
    """Another live contact holds some of the unique key fields being written.

    `fields` names the clashing columns; it is empty when a concurrent writer took a key and then
    lost it again before we could see which one (the caller can only ask for a retry).
    """

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = sorted(set(fields))
        super().__init__(f"duplicate contact keys: {', '.join(self.fields) or 'unknown'}")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def validated_email(value: str) -> str:
    """The stored form of an e-mail address; raises InvalidEmailAddress if it is not one.

    Only the syntax is checked (no DNS look-up): the intake must answer fast and offline. The
    stored form is `normalize_email`, the same one order match keys are resolved with.
    """
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        # The validator's message may quote parts of the address, so it is not passed on.
        raise InvalidEmailAddress("not a valid e-mail address") from None
    return normalize_email(value)


def normalize_phone(value: str) -> str:
    """E.164, e.g. +46701234567; raises InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(str(error)) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_key(key_type: str, value: str) -> str | None:
    """The stored form of a match key, or None if it cannot match anything."""
    value = value.strip()
    if key_type == "Email":
        return normalize_email(value)
    if key_type == "MobilePhone":
        try:
            return normalize_phone(value)
        except InvalidPhoneNumber:
            return None
    if key_type == "ContactId":
        return value.lower()
    return value


def create_contact(session: Session, fields: Mapping[str, Any]) -> Contact:
    contact = Contact(id=str(uuid.uuid4()), **fields)
    session.add(contact)
    session.flush()
    return contact


def add_contact(session: Session, fields: Mapping[str, Any]) -> Contact:
    """Create a contact and commit; raises DuplicateContactKeys if a key is taken."""
    _refuse_conflicts(session, fields, exclude_id=None)
    try:
        contact = create_contact(session, fields)
        session.commit()
    except IntegrityError:
        raise _lost_race(session, fields, exclude_id=None) from None
    return contact


def update_contact(session: Session, contact: Contact, changes: Mapping[str, Any]) -> Contact:
    """Apply `changes` (column → value) to a live contact and commit.

    Raises DuplicateContactKeys if a changed key belongs to another live contact.
    """
    _refuse_conflicts(session, changes, exclude_id=contact.id)
    contact_id = contact.id
    for column, value in changes.items():
        setattr(contact, column, value)
    try:
        session.commit()
    except IntegrityError:
        raise _lost_race(session, changes, exclude_id=contact_id) from None
    return contact


def _refuse_conflicts(session: Session, fields: Mapping[str, Any], exclude_id: str | None) -> None:
    conflicts = find_conflicts(session, fields, exclude_id)
    if conflicts:
        raise DuplicateContactKeys(conflicts)


def _lost_race(
    session: Session, fields: Mapping[str, Any], exclude_id: str | None
) -> DuplicateContactKeys:
    """A concurrent write took a key between our check and our commit (the unique index caught it).

    The winner has committed by now, so asking again tells which keys clash.
    """
    session.rollback()
    log.info("contact key taken by a concurrent write")
    return DuplicateContactKeys(find_conflicts(session, fields, exclude_id))


def revive_contact(session: Session, contact: Contact) -> None:
    """Make a soft-deleted contact live again (flushed, not committed: the caller commits it with
    whatever else records the restore).

    Its unique keys were freed by the soft delete, so another live contact may hold one of them
    by now; then DuplicateContactKeys is raised and nothing changes.
    """
    fields = {key: getattr(contact, key) for key in UNIQUE_KEYS}
    _refuse_conflicts(session, fields, exclude_id=contact.id)
    contact.deleted_at = None
    try:
        session.flush()
    except IntegrityError:
        raise _lost_race(session, fields, exclude_id=contact.id) from None


def served_contact(contact_column: Any) -> ColumnElement[bool]:
    """A filter keeping rows whose contact may be served: none resolved, or a live one.

    Rows of a soft-deleted (or no longer existing) contact are hidden from every read the moment
    the contact is deleted, long before erasure removes them.
    """
    live = (
        select(Contact.id)
        .where(Contact.id == contact_column, Contact.deleted_at.is_(None))
        .exists()
    )
    return or_(contact_column.is_(None), live)


def get_live_contact(session: Session, contact_id: str) -> Contact | None:
    contact = session.get(Contact, contact_id.lower())
    if contact is None or contact.deleted_at is not None:
        return None
    return contact


def find_conflicts(
    session: Session, fields: Mapping[str, Any], exclude_id: str | None = None
) -> list[str]:
    """Which unique key fields of `fields` another live contact already has."""
    wanted = {key: fields[key] for key in UNIQUE_KEYS if fields.get(key) is not None}
    if not wanted:
        return []
    query = select(Contact).where(
        Contact.deleted_at.is_(None),
        or_(*(getattr(Contact, key) == value for key, value in wanted.items())),
    )
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    clashes = session.scalars(query).all()
    return sorted(
        {
            key
            for contact in clashes
            for key, value in wanted.items()
            if getattr(contact, key) == value
        }
    )


def find_live_ids(session: Session, column: str, value: str) -> list[str]:
    query = select(Contact.id).where(
        Contact.deleted_at.is_(None), getattr(Contact, column) == value
    )
    return list(session.scalars(query.limit(2)))


def any_key_candidates(value: str) -> dict[str, str]:
    """What `value` would be stored as in each unique key column (for a lookup by any key).

    A value that cannot be a phone number is simply not looked for among phone numbers.
    """
    value = value.strip()
    candidates = {column: value for column in UNIQUE_KEYS}
    candidates["email"] = normalize_email(value)
    try:
        candidates["mobile_phone"] = normalize_phone(value)
    except InvalidPhoneNumber:
        del candidates["mobile_phone"]
    return candidates


def find_live_ids_any(session: Session, candidates: Mapping[str, str]) -> list[str]:
    """Live contacts having any of the column values; at most two (enough to tell "ambiguous")."""
    if not candidates:
        return []
    query = (
        select(Contact.id)
        .where(
            Contact.deleted_at.is_(None),
            or_(*(getattr(Contact, column) == value for column, value in candidates.items())),
        )
        .distinct()
        .limit(2)
    )
    return list(session.scalars(query))


def resolve_match_keys(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Map (matchKeyType, matchKey) pairs to live contact ids; unmatched pairs are left out."""
    wanted: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for key_type, raw in keys:
        normalized = normalize_key(key_type, raw)
        if normalized is not None:
            wanted[key_type][normalized] = (key_type, raw)
    resolved: dict[tuple[str, str], str] = {}
    for key_type, by_value in wanted.items():
        column = Contact.id if key_type == "ContactId" else getattr(Contact, KEY_COLUMNS[key_type])
        values = list(by_value)
        for start in range(0, len(values), 500):
            rows = session.execute(
                select(column, Contact.id).where(
                    Contact.deleted_at.is_(None), column.in_(values[start : start + 500])
                )
            )
            for value, contact_id in rows:
                resolved[by_value[value]] = contact_id
    return resolved
