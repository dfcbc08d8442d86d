"""The order view: current processed orders as the GET endpoints serve them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.contacts import served_contact
from storage.models import OrderView
from storage.paging import fetch_page


@dataclass(frozen=True)
class OrderViewRow:
    order_id: str
    contact_id: str | None
    version_tag: str
    version_number: int
    change_seq: int
    status: str | None
    created_at: datetime | None
    last_changed_at: datetime | None
    processed_at: datetime
    document: str
    is_deleted: bool


def publish(session: Session, rows: Sequence[OrderViewRow]) -> None:
    """Apply the newest version of each order; an older one (a re-run) never overwrites a newer."""
    by_id = {row.order_id: row for row in rows}
    current: dict[str, OrderView] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        current.update(
            (view.order_id, view)
            for view in session.scalars(select(OrderView).where(OrderView.order_id.in_(chunk)))
        )
    for order_id, row in by_id.items():
        view = current.get(order_id)
        if view is not None and view.change_seq > row.change_seq:
            continue
        if row.is_deleted:
            if view is not None:
                session.execute(delete(OrderView).where(OrderView.order_id == order_id))
            continue
        if view is None:
            view = OrderView(order_id=order_id)
            session.add(view)
        view.contact_id = row.contact_id
        view.version_tag = row.version_tag
        view.version_number = row.version_number
        view.change_seq = row.change_seq
        view.status = row.status
        view.created_at = row.created_at
        view.last_changed_at = row.last_changed_at
        view.processed_at = row.processed_at
        view.document = row.document


def get_order(session: Session, order_id: str) -> OrderView | None:
    """The order as readers may see it: None if unknown or if its contact is soft-deleted."""
    query = select(OrderView).where(
        OrderView.order_id == order_id, served_contact(OrderView.contact_id)
    )
    return session.scalar(query)


def list_for_contact(
    session: Session, contact_id: str, offset: int, count: int
) -> tuple[list[OrderView], int]:
    query = select(OrderView).where(OrderView.contact_id == contact_id)
    order = (OrderView.created_at.desc(), OrderView.order_id.desc())
    return fetch_page(session, query, order, offset, count)
