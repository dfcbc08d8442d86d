"""Everything the lake and the operational database hold about one contact (SPEC 2.4).

The personal data extract reads this footprint and erasure removes it, so both agree on what
"the contact's data" is:

- rows resolved to the contact (`contact_id`);
- rows that name the contact by one of its match keys (e-mail, phone, ...) but were not resolved
  to any contact (sent before the contact existed, or while it was missing);
- every version, change and job of an order that was ever resolved to the contact, and every
  submission of such a receipt.

Rows that carry one of the contact's keys but were resolved to another contact belong to that one
(a key freed by a deletion may be taken by someone else).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.table_spec import TableSpec
from schemas.tables import (
    ORDER_CHANGE_OUTCOMES,
    ORDER_CHANGES,
    ORDER_VERSIONS,
    RECEIPT_SUBMISSION_OUTCOMES,
    RECEIPT_SUBMISSIONS,
    RECEIPTS,
)
from storage.contacts import normalize_key
from storage.lake import Lake
from storage.models import Contact, Job, OrderView, ReceiptJobOutcome, ReceiptView

KEY_TYPES = {
    "ContactId": "id",
    "Email": "email",
    "MobilePhone": "mobile_phone",
    "SocialSecurityNumber": "social_security_number",
    "MemberNumber": "member_number",
    "ExternalId": "external_id",
}
"""Match key type → the contact column it names."""


@dataclass(frozen=True)
class ContactFootprint:
    """Ids of everything tied to one contact; ids only, never the personal values themselves."""

    contact_id: str
    order_ids: frozenset[str]
    receipt_ids: frozenset[str]
    order_job_ids: frozenset[str]
    receipt_job_ids: frozenset[str]

    @property
    def job_ids(self) -> frozenset[str]:
        return self.order_job_ids | self.receipt_job_ids


def contact_keys(contact: Contact) -> dict[str, str]:
    """The contact's match keys in stored (normalized) form, by match key type."""
    keys = {}
    for key_type, column in KEY_TYPES.items():
        value = getattr(contact, column)
        if value:
            keys[key_type] = normalize_key(key_type, value) or value
    return keys


def names_contact(keys: dict[str, str]) -> pl.Expr:
    """True for rows whose (contact_match_key_type, contact_match_key) may be one of `keys`.

    Exact for every key type but phone numbers, which are only compared by their last digits
    here: `exact_keys` settles those on the few candidate rows, so whole tables are never
    normalized row by row in Python.
    """
    matches = [
        (pl.col("contact_match_key_type") == key_type) & _candidate(key_type, value)
        for key_type, value in keys.items()
    ]
    return pl.any_horizontal(matches) if matches else pl.lit(False)


def _candidate(key_type: str, value: str) -> pl.Expr:
    raw = pl.col("contact_match_key").str.strip_chars()
    if key_type in ("Email", "ContactId"):
        return raw.str.to_lowercase() == value.lower()
    if key_type == "MobilePhone":
        digits = raw.str.replace_all(r"\D", "")
        return digits.str.ends_with(value.lstrip("+")[-7:])
    return raw == value


def exact_keys(frame: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
    """Drop candidate rows whose phone number only looked like the contact's."""
    phone = keys.get("MobilePhone")
    if phone is None or frame.is_empty():
        return frame
    keep = [
        key_type != "MobilePhone" or raw is None or normalize_key(key_type, raw) == phone
        for key_type, raw in frame.select("contact_match_key_type", "contact_match_key").rows()
    ]
    return frame.filter(pl.Series(keep, dtype=pl.Boolean))


def belongs_to(contact_id: str, keys: dict[str, str]) -> pl.Expr:
    """Rows resolved to the contact, or naming it by a key without being resolved to anyone."""
    return (pl.col("contact_id") == contact_id) | (
        pl.col("contact_id").is_null() & names_contact(keys)
    )


def _belonging(scan: pl.LazyFrame, contact_id: str, keys: dict[str, str]) -> pl.DataFrame:
    candidates = scan.filter(belongs_to(contact_id, keys)).collect()
    resolved = candidates.filter(pl.col("contact_id") == contact_id)
    named = exact_keys(candidates.filter(pl.col("contact_id").is_null()), keys)
    return pl.concat([resolved, named])


def contact_footprint(lake: Lake, session: Session, contact: Contact) -> ContactFootprint:
    keys = contact_keys(contact)
    order_ids = _order_ids(lake, session, contact.id, keys)
    receipt_ids = _receipt_ids(lake, session, contact.id, keys)
    return ContactFootprint(
        contact_id=contact.id,
        order_ids=frozenset(order_ids),
        receipt_ids=frozenset(receipt_ids),
        order_job_ids=frozenset(_order_job_ids(lake, session, contact.id, keys, order_ids)),
        receipt_job_ids=frozenset(_receipt_job_ids(lake, session, contact.id, keys, receipt_ids)),
    )


def _order_ids(lake: Lake, session: Session, contact_id: str, keys: dict[str, str]) -> set[str]:
    versions = _belonging(
        lake.scan(ORDER_VERSIONS).select(
            "order_id", "contact_id", "contact_match_key_type", "contact_match_key"
        ),
        contact_id,
        keys,
    )
    served = session.scalars(select(OrderView.order_id).where(OrderView.contact_id == contact_id))
    return set(versions["order_id"]) | set(served)


def _receipt_ids(lake: Lake, session: Session, contact_id: str, keys: dict[str, str]) -> set[str]:
    registered = _belonging(
        lake.scan(RECEIPTS).select(
            "unique_receipt_id", "contact_id", "contact_match_key_type", "contact_match_key"
        ),
        contact_id,
        keys,
    )
    served = session.scalars(
        select(ReceiptView.unique_receipt_id).where(ReceiptView.contact_id == contact_id)
    )
    return set(registered["unique_receipt_id"]) | set(served)


def _order_job_ids(
    lake: Lake, session: Session, contact_id: str, keys: dict[str, str], order_ids: set[str]
) -> set[str]:
    """Changes of the contact's orders, and changes naming the contact by a key that were not
    resolved to another contact (failed ones included: their bodies hold the key too)."""
    landed = _landed_jobs(lake, ORDER_CHANGES, ORDER_CHANGE_OUTCOMES, "order_id", order_ids, keys)
    resolved = _resolved_jobs(lake, ORDER_CHANGE_OUTCOMES, contact_id)
    registered: set[str] = set()
    for chunk in _chunks(sorted(order_ids)):
        registered |= set(
            session.scalars(
                select(Job.job_id).where(Job.resource == "orders", Job.order_id.in_(chunk))
            )
        )
    return landed | resolved | registered


def _receipt_job_ids(
    lake: Lake, session: Session, contact_id: str, keys: dict[str, str], receipt_ids: set[str]
) -> set[str]:
    landed = _landed_jobs(
        lake,
        RECEIPT_SUBMISSIONS,
        RECEIPT_SUBMISSION_OUTCOMES,
        "unique_receipt_id",
        receipt_ids,
        keys,
    )
    resolved = _resolved_jobs(lake, RECEIPT_SUBMISSION_OUTCOMES, contact_id)
    outcomes: set[str] = set()
    for chunk in _chunks(sorted(receipt_ids)):
        outcomes |= set(
            session.scalars(
                select(ReceiptJobOutcome.job_id).where(
                    ReceiptJobOutcome.unique_receipt_id.in_(chunk)
                )
            )
        )
    return landed | resolved | outcomes


def _landed_jobs(
    lake: Lake,
    bronze: TableSpec,
    outcomes: TableSpec,
    id_column: str,
    ids: set[str],
    keys: dict[str, str],
) -> set[str]:
    resolved_to = lake.scan(outcomes).select("job_id", pl.col("contact_id").alias("resolved_to"))
    landed = (
        lake.scan(bronze)
        .select("job_id", id_column, "contact_match_key_type", "contact_match_key")
        .join(resolved_to, on="job_id", how="left")
    )
    by_id = pl.col(id_column).is_in(sorted(ids))
    by_key = pl.col("resolved_to").is_null() & names_contact(keys)
    candidates = landed.filter(by_id | by_key).collect()
    named = exact_keys(candidates.filter(~pl.col(id_column).is_in(sorted(ids))), keys)
    return set(candidates.filter(pl.col(id_column).is_in(sorted(ids)))["job_id"]) | set(
        named["job_id"]
    )


def _resolved_jobs(lake: Lake, outcomes: TableSpec, contact_id: str) -> set[str]:
    jobs = (
        lake.scan(outcomes)
        .filter(pl.col("contact_id") == contact_id)
        .select("job_id")
        .unique()
        .collect()
    )
    return set(jobs["job_id"])


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
