"""`GET /communications`: the messages actions produced, one per action and channel, with where
their delivery stands, newest first.

They hold personal data (the recipient, a body addressing the contact by name), so reading them
takes `orders:read` (or admin), the scope that already reads orders with their addresses; writing
orders alone does not suffice.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ingest_api.deps import SessionDep, live_contact, require_scope
from ingest_api.errors import ProblemError
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, paged
from schemas.actions import CommunicationOut
from schemas.common import Identifier
from schemas.paging import Page
from schemas.problems import FieldError
from storage.actions import CommunicationStatus, ListedCommunication, list_communications
from storage.apikeys import Principal, Scope

router = APIRouter(prefix="/communications", tags=["actions"])

Reader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ))]

COMMUNICATIONS_PATH = "/api/v3/communications"


@router.get("", response_model=Page[CommunicationOut], summary="Communications, newest first")
def read_communications(
    session: SessionDep,
    _reader: Reader,
    contact_id: Annotated[str | None, Query(alias="contactId")] = None,
    order_id: Annotated[Identifier | None, Query(alias="orderId")] = None,
    action_id: Annotated[uuid.UUID | None, Query(alias="actionId")] = None,
    status: Annotated[CommunicationStatus | None, Query()] = None,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """Filters combine; none lists every communication. `contactId` must name a live contact
    (else `404 ContactNotFound`, as for `GET /orders?contactId=`); communications of deleted
    contacts never appear."""
    contact = live_contact(session, contact_id) if contact_id is not None else None
    _refuse_nul(order_id)
    rows, total = list_communications(
        session,
        contact_id=contact.id if contact is not None else None,
        order_id=order_id,
        action_id=str(action_id) if action_id is not None else None,
        status=status.value if status is not None else None,
        offset=offset,
        count=count,
    )
    filters = {
        "contactId": contact_id,
        "orderId": order_id,
        "actionId": action_id,
        "status": status,
    }
    items = [_item(row) for row in rows]
    return paged(items, total, offset, count, COMMUNICATIONS_PATH, filters)


def _refuse_nul(order_id: str | None) -> None:
    """An order id never holds NUL, and PostgreSQL refuses one even in a query parameter."""
    if order_id is not None and "\x00" in order_id:
        error = FieldError(
            path="/query/orderId", code="InvalidParameter", message="NUL is not allowed."
        )
        raise ProblemError(400, "Bad Request", errors=[error])


def _item(row: ListedCommunication) -> dict[str, Any]:
    return CommunicationOut.of(row.communication, row.action).model_dump(mode="json")
