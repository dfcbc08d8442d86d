"""`POST /orders/{orderId}/action`: trigger an automation on the order's current version.

Unlike order writes, an action is not landed in bronze: it needs the order as processed (its
current versionTag, its resolved contact), which only the operational database has, so it is
checked against the order view and queued there, synchronously. The `202` means the action and
its Queued communications are committed in the operational database; delivery happens later.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ingest_api.body import parse_json
from ingest_api.deps import AutomationsDep, JsonBody, SessionDep, require_scope
from ingest_api.errors import ProblemError, format_error
from schemas.actions import ActionAccepted, ActionRequest
from schemas.automations import Automation, Automations
from schemas.common import Identifier
from schemas.paging import Link
from schemas.problems import FieldError, Problem
from storage.actions import queue_action
from storage.apikeys import Principal, Scope
from storage.contacts import get_live_contact
from storage.models import OrderView
from storage.order_view import get_order

router = APIRouter(prefix="/orders", tags=["actions"])

Writer = Annotated[Principal, Depends(require_scope(Scope.ORDERS_WRITE))]
OrderIdPath = Annotated[Identifier, Path(alias="orderId", description="The integrator's order id.")]

COMMUNICATIONS_PATH = "/api/v3/communications"


@router.post(
    "/{orderId}/action",
    status_code=202,
    response_model=ActionAccepted,
    summary="Trigger an action on the order's current version",
    responses={
        400: {"model": Problem, "description": "Bad body, or no automation defines the action"},
        404: {
            "model": Problem,
            "description": "Unknown order (or one of a deleted contact), or a stale versionTag",
        },
        422: {"model": Problem, "description": "The order has no resolved contact"},
    },
)
def trigger_action(
    order_id: OrderIdPath,
    principal: Writer,
    body: JsonBody,
    session: SessionDep,
    automations: AutomationsDep,
) -> JSONResponse:
    """Queue the action's communications, rendered later from exactly the order version named by
    `versionTag`, which must be the order's current one (else `404`, the same answer as for an
    unknown order; an order of a soft-deleted contact is unknown too). The order needs a resolved
    contact (else `422 ContactMissing`).

    Synchronous as far as queueing goes: the `202` means the action and its messages are stored;
    follow the `communications` link (also `Location`) to see them delivered."""
    request = parse_json(ActionRequest, body)
    automation = _automation(automations, request.action)
    view = _current_version(session, order_id, request.version_tag)
    contact_id = _contact_of(session, view)
    action_id = str(uuid.uuid4())
    queue_action(
        session,
        action_id=action_id,
        order_id=view.order_id,
        version_tag=view.version_tag,
        action=request.action,
        language=request.language,
        data=request.data,
        contact_id=contact_id,
        source="api",
        job_id=None,
        api_key_id=principal.key_id,
        document=view.document,
        channels=automation.channels,
    )
    session.commit()
    return _accepted(action_id)


def _automation(automations: Automations, name: str) -> Automation:
    automation = automations.find(name)
    if automation is None:
        known = ", ".join(automations.names) or "none are configured"
        raise format_error(
            [
                FieldError(
                    path="/action",
                    code="UnknownAction",
                    message=f"No automation defines this action; known: {known}.",
                )
            ]
        )
    return automation


def _current_version(session: Session, order_id: str, version_tag: str) -> OrderView:
    """The order's view row if `version_tag` is its current version; one 404 otherwise, so an
    answer never tells an unknown order from a stale versionTag (SPEC 2.2)."""
    # NUL cannot be stored in an order id (PostgreSQL refuses it even in a query parameter).
    view = None if "\x00" in order_id else get_order(session, order_id)
    if view is None or view.version_tag != version_tag:
        raise ProblemError(
            404,
            "Not Found",
            "No such order, or the versionTag is not the order's current version.",
            code="OrderNotFound",
        )
    return view


def _contact_of(session: Session, view: OrderView) -> str:
    """The order's contact; an order without one, or whose contact was deleted, has nobody to
    send to."""
    if view.contact_id is None or get_live_contact(session, view.contact_id) is None:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "The order has no contact to send to. Create the contact, then change the order so "
            "that it is linked, and trigger the action on the new version.",
            errors=[FieldError(path="", code="ContactMissing", message="Contact is missing")],
            code="ContactMissing",
        )
    return view.contact_id


def _accepted(action_id: str) -> JSONResponse:
    href = f"{COMMUNICATIONS_PATH}?actionId={action_id}"
    accepted = ActionAccepted(action_id=action_id, links=[Link(href=href, rel="communications")])
    return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": href})
