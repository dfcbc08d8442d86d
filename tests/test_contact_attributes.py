"""Contact attributes for dim_contact and the contacts fingerprint, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import delete

from storage.contact_attributes import (
    CONTACT_ATTRIBUTE_SCHEMA,
    PARTITION_ROWS,
    contacts_fingerprint,
    live_contact_attributes,
)
from storage.contacts import add_contact, update_contact
from storage.db import session_scope
from storage.models import Contact
from storage.settings import EngageSettings

PERSONAL = {
    "first_name": "Lena",
    "last_name": "Berg",
    "email": "lena.berg@example.org",
    "mobile_phone": "+46701234567",
    "social_security_number": "19840517-1234",
    "street": "Sveavägen 12",
    "zip_code": "11157",
    "city": "Stockholm",
    "birth_day": date(1984, 5, 17),
}


def attributes(settings: EngageSettings) -> pl.DataFrame:
    with session_scope(settings.resolved_database_url) as session:
        return live_contact_attributes(session)


def fingerprint(settings: EngageSettings) -> str:
    with session_scope(settings.resolved_database_url) as session:
        return str(contacts_fingerprint(session))


def test_live_contacts_come_with_non_personal_attributes_only(settings: EngageSettings) -> None:
    assert attributes(settings).schema == CONTACT_ATTRIBUTE_SCHEMA
    with session_scope(settings.resolved_database_url) as session:
        lena = add_contact(session, {**PERSONAL, "country_code": "SE", "gender": "Female"})
        bare = add_contact(session, {"contact_type": "Employee"})
        gone = add_contact(session, {"email": "gone@example.org"})
        gone.deleted_at = datetime.now(UTC)
        session.commit()
        created = {contact.id: contact.created_at for contact in (lena, bare)}

    frame = attributes(settings)
    assert frame.schema == CONTACT_ATTRIBUTE_SCHEMA
    rows = {row["contact_id"]: row for row in frame.iter_rows(named=True)}
    assert set(rows) == {lena.id, bare.id}
    assert rows[lena.id] == {
        "contact_id": lena.id,
        "contact_type": "Member",
        "country_code": "SE",
        "gender": "Female",
        "birth_year": 1984,
        "has_email": True,
        "has_mobile_phone": True,
        "created_at": created[lena.id],
    }
    assert rows[bare.id] == {
        "contact_id": bare.id,
        "contact_type": "Employee",
        "country_code": None,
        "gender": None,
        "birth_year": None,
        "has_email": False,
        "has_mobile_phone": False,
        "created_at": created[bare.id],
    }
    text = str(frame.rows())
    for value in PERSONAL.values():
        assert str(value) not in text


def test_many_contacts_stream_in_partitions(settings: EngageSettings) -> None:
    count = PARTITION_ROWS + 7
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            Contact.__table__.insert(),
            [
                {
                    "id": f"00000000-0000-0000-0000-{n:012d}",
                    "contact_type": "Member",
                    "gender": "Other" if n % 2 else None,
                    "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                    "updated_at": datetime(2025, 1, 1, tzinfo=UTC),
                }
                for n in range(count)
            ],
        )
    frame = attributes(settings)
    assert frame.height == count
    assert frame["contact_id"].n_unique() == count
    assert frame["gender"].null_count() == (count + 1) // 2


def test_the_fingerprint_moves_with_every_kind_of_contact_change(settings: EngageSettings) -> None:
    seen = [fingerprint(settings)]

    def changed() -> None:
        now = fingerprint(settings)
        assert now != seen[-1]  # the sensor compares with its last launch
        seen.append(now)

    url = settings.resolved_database_url
    with session_scope(url) as session:
        contact_id = add_contact(session, {"email": "a@example.org"}).id
        other_id = add_contact(session, {"email": "b@example.org"}).id
    changed()
    with session_scope(url) as session:
        update_contact(session, session.get(Contact, contact_id), {"gender": "Female"})
    changed()
    with session_scope(url) as session:  # soft delete
        session.get(Contact, contact_id).deleted_at = datetime.now(UTC)
    changed()
    with session_scope(url) as session:  # restore
        session.get(Contact, contact_id).deleted_at = None
    changed()
    with session_scope(url) as session:  # erasure of the contact changed last
        session.execute(delete(Contact).where(Contact.id == contact_id))
    changed()
    with session_scope(url) as session:
        session.execute(delete(Contact).where(Contact.id == other_id))
    changed()
    assert fingerprint(settings) == seen[-1]  # stable while nothing changes
