"""Deletion of inactive contacts (SPEC 2.4, GDPR storage limitation).

A live contact is inactive when nothing has happened to it since a cutoff: no contact change
(`contacts.created_at` / `updated_at`), no order in the order view (`created_at`,
`last_changed_at`, `processed_at`) and no receipt in the receipt view (`created_at`,
`processed_at`). Order actions and communications are things *we* did, not the person, so they
do not count.

Inactive contacts are deleted exactly as `DELETE /contacts/{id}` deletes them: a soft delete and
a Pending erasure request with the grace period (reason "inactivity"), so they can be restored
until then and the erasure job removes their data afterwards. Restoring makes a contact change,
so a restored contact is not deleted again by the next run.

There may be millions of contacts, so nothing loops over them in Python: one set-based query
finds a page of inactive ids (correlated NOT EXISTS on the views' `(contact_id, created_at)`
indexes), walking the contacts in primary key order (keyset), so a whole run reads every contact
once; one conditional UPDATE ... RETURNING per batch soft-deletes them, one transaction per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from storage.gdpr import REASON_INACTIVITY, record_erasures
from storage.models import Contact, OrderView, ReceiptView

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
"""Contacts deleted per transaction: short write locks (SQLite has one writer) and bounded
memory, yet few enough commits for a first run over millions of contacts."""

SCAN_SIZE = 10_000
"""Inactive contacts found per search (see delete_inactive_contacts)."""


def inactive_since(cutoff: datetime) -> ColumnElement[bool]:
    """A condition on a `contacts` row: live, and no activity at or after `cutoff`.

    Written as comparisons joined by OR / NOT EXISTS rather than a max over the timestamps:
    portable (SQLite has no GREATEST), NULL-safe (a NULL timestamp is simply no activity), and
    each NOT EXISTS can stop at the first recent row found through the contact_id index.
    It correlates to `contacts`, so it serves both in a SELECT over contacts and in the WHERE of
    the UPDATE that soft-deletes one (re-checked there, see delete_contacts_if_inactive).
    """
    recent_order = (
        select(OrderView.order_id)
        .where(
            OrderView.contact_id == Contact.id,
            or_(
                OrderView.created_at >= cutoff,
                OrderView.last_changed_at >= cutoff,
                OrderView.processed_at >= cutoff,
            ),
        )
        .correlate(Contact)
        .exists()
    )
    recent_receipt = (
        select(ReceiptView.unique_receipt_id)
        .where(
            ReceiptView.contact_id == Contact.id,
            or_(ReceiptView.created_at >= cutoff, ReceiptView.processed_at >= cutoff),
        )
        .correlate(Contact)
        .exists()
    )
    return and_(
        Contact.deleted_at.is_(None),
        Contact.created_at < cutoff,
        Contact.updated_at < cutoff,
        ~recent_order,
        ~recent_receipt,
    )


def find_inactive_contacts(
    session: Session, cutoff: datetime, limit: int, after: str | None = None
) -> list[str]:
    """Ids of up to `limit` live contacts without activity since `cutoff`, in id order.

    `after` continues from the last id of the previous page (keyset paging), so a run reads each
    contact once, even one it found but then skipped.
    """
    query = select(Contact.id).where(inactive_since(cutoff))
    if after is not None:
        query = query.where(Contact.id > after)
    return list(session.scalars(query.order_by(Contact.id).limit(limit)))


def delete_contacts_if_inactive(
    session: Session,
    contact_ids: Sequence[str],
    key: bytes,
    grace: timedelta,
    cutoff: datetime,
    now: datetime,
) -> int:
    """Soft-delete those contacts that are still live and inactive and record their erasure
    requests (reason "inactivity", erasable after `now + grace`), in one transaction; commits.
    Returns how many were deleted.

    Inactivity is checked again in the conditional update itself, so a contact deleted through
    the API meanwhile or active again since it was found (an order, a receipt or a change just
    came in) is skipped rather than deleted.
    """
    requests = record_erasures(
        session,
        contact_ids,
        key,
        grace,
        purge=False,
        now=now,
        reason=REASON_INACTIVITY,
        only_if=inactive_since(cutoff),
    )
    session.commit()
    return len(requests)


def delete_inactive_contacts(
    session: Session,
    key: bytes,
    grace: timedelta,
    cutoff: datetime,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    scan_size: int = SCAN_SIZE,
) -> int:
    """Delete every live contact without activity since `cutoff`, `batch_size` per transaction;
    returns how many were deleted.

    Ids are found `scan_size` at a time and deleted `batch_size` at a time: a search costs a
    pass over the views on PostgreSQL whatever its limit (a hash anti join), so a larger search
    saves most of a first run's time over a large backlog; each deletion re-checks inactivity.
    A failure loses at most the current batch; the committed ones stay deleted and a re-run
    finds only the rest. Only counts are logged, never a contact id.
    """
    scan_size = max(scan_size, batch_size)
    deleted = 0
    after: str | None = None
    while True:
        found = find_inactive_contacts(session, cutoff, scan_size, after)
        for start in range(0, len(found), batch_size):
            batch = found[start : start + batch_size]
            deleted += delete_contacts_if_inactive(session, batch, key, grace, cutoff, now)
            log.info("inactivity: %d contact(s) deleted so far", deleted)
        if len(found) < scan_size:
            session.commit()  # ends the search's transaction when nothing was deleted
            return deleted
        after = found[-1]
