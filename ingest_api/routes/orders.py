"""Orders v3: asynchronous writes landed in bronze, and reads of the processed order view."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from ingest_api.accepted import land_accepted
from ingest_api.body import parse_json, read_json
from ingest_api.deps import SessionDep, SettingsDep, committer_for, live_contact, require_scope
from ingest_api.errors import ProblemError, format_error
from ingest_api.landing import GroupCommitter
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, paged
from schemas.common import Identifier
from schemas.jobs import Accepted
from schemas.orders import (
    ChangeDelivery,
    ChangeStatus,
    ContactReference,
    Order,
    change_status_rule_errors,
    order_rule_errors,
)
from schemas.problems import FieldError
from schemas.tables import ORDER_CHANGES
from storage.apikeys import Principal, Scope
from storage.jobs import NewJob
from storage.models import OrderView
from storage.order_view import get_order, list_for_contact
from storage.settings import EngageSettings

router = APIRouter(prefix="/orders", tags=["orders"])

Writer = Annotated[Principal, Depends(require_scope(Scope.ORDERS_WRITE))]
OrderCommitterDep = Annotated[GroupCommitter, Depends(committer_for(ORDER_CHANGES))]
Reader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ))]
OrderIdPath = Annotated[Identifier, Path(alias="orderId", description="The integrator's order id.")]


def _if_match(request: Request) -> str | None:
    """The versionTag a write requires, from an `If-Match` header ("tag", W/"tag" or tag)."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    value = value.strip().removeprefix("W/").strip('"')
    return value or None


async def _land(
    request: Request,
    committer: GroupCommitter,
    principal: Principal,
    order_id: str,
    change_type: str,
    body: bytes | None,
    contact: ContactReference | None,
) -> JSONResponse:
    job_id = str(uuid.uuid4())
    row: dict[str, Any] = {
        "job_id": job_id,
        "order_id": order_id,
        "change_type": change_type,
        "api_key_id": principal.key_id,
        "if_match": _if_match(request),
        "body": body.decode() if body is not None else None,
        "contact_match_key": contact.match_key if contact else None,
        "contact_match_key_type": contact.match_key_type.value if contact else None,
    }
    job = NewJob(job_id, "orders", order_id, change_type, principal.key_id)
    return await land_accepted(committer, [row], job, f"/api/v3/orders/jobs/{job_id}")


def _check_rules(errors: list[FieldError]) -> None:
    if errors:
        raise format_error(errors)


def _validated_order(
    body: bytes, settings: EngageSettings, url_order_id: str | None = None
) -> tuple[str, ContactReference | None]:
    """The order's id and contact, once the body passed the format and rule checks.

    Only these leave the function: the parsed order (hundreds of objects) must die before the
    request waits for its group commit. Kept alive across that wait, 64 requests' orders were
    promoted to the collector's oldest generation and triggered full collections.
    """
    order = parse_json(Order, body)
    errors = order_rule_errors(order, settings.order_statuses)
    if url_order_id is not None and order.order_id != url_order_id:
        errors.append(
            FieldError(
                path="/orderId",
                code="OrderIdMismatch",
                message="Must equal the orderId in the URL.",
            )
        )
    _check_rules(errors)
    return order.order_id, order.contact


@router.post("", status_code=202, response_model=Accepted, summary="Create an order")
async def create_order(
    request: Request, settings: SettingsDep, principal: Writer, committer: OrderCommitterDep
) -> JSONResponse:
    """Create an order. Asynchronous: `202` means the order is durably stored, not yet processed;
    poll the job named in `Location` until it has `Succeeded` (302 to the order, with its new
    `versionTag`) or `Failed` (422 with the errors). Format and business-rule errors are answered
    at once with `400`, and nothing is stored.

    If the order exists already, the job fails with `OrderAlreadyExists`, unless the body equals
    its current version: such a retry succeeds with the existing versionTag. An embedded `action`
    runs once the order is processed. Changes to one order are applied in the order they landed.
    """
    body = await read_json(request, settings.max_body_bytes)
    order_id, contact = _validated_order(body, settings)
    return await _land(request, committer, principal, order_id, "create", body, contact)


@router.put("/{orderId}", status_code=202, response_model=Accepted, summary="Replace an order")
async def replace_order(
    request: Request,
    order_id: OrderIdPath,
    settings: SettingsDep,
    principal: Writer,
    committer: OrderCommitterDep,
) -> JSONResponse:
    """Replace the whole order, creating it if unknown: a field left out is removed. The body's
    `orderId` must equal the URL's. Asynchronous: poll the job in `Location`.

    An identical body makes no new version (the job succeeds with the current versionTag). With
    `If-Match: <versionTag>` the job fails with `VersionConflict` if the order is at another
    version by then; a `lastChangedAt` older than the stored order's fails with `StaleChange`.
    """
    body = await read_json(request, settings.max_body_bytes)
    _, contact = _validated_order(body, settings, url_order_id=order_id)
    return await _land(request, committer, principal, order_id, "replace", body, contact)


@router.delete("/{orderId}", status_code=202, response_model=Accepted, summary="Delete an order")
async def delete_order(
    request: Request, order_id: OrderIdPath, principal: Writer, committer: OrderCommitterDep
) -> JSONResponse:
    """Delete the order. Asynchronous: poll the job in `Location`; once it has succeeded the order
    is gone from every read. The job fails with `OrderNotFound` if there is no such order, and
    with `VersionConflict` if an `If-Match` versionTag is not the current one."""
    return await _land(request, committer, principal, order_id, "delete", None, None)


@router.post(
    "/{orderId}/change-status", status_code=202, response_model=Accepted, summary="Change status"
)
async def change_status(
    request: Request,
    order_id: OrderIdPath,
    settings: SettingsDep,
    principal: Writer,
    committer: OrderCommitterDep,
) -> JSONResponse:
    """Change the order's `status` and/or `externalStatus` (with `lastChangedAt`); every other
    field is kept. Asynchronous: poll the job in `Location`. The job fails with `OrderNotFound`
    for an unknown order, `StaleChange` if `lastChangedAt` is older than the stored order's, and
    `VersionConflict` if an `If-Match` versionTag is not the current one. An embedded `action`
    (e.g. `ConfirmShipment`) runs on the version the change produces."""
    body = await read_json(request, settings.max_body_bytes)
    change = parse_json(ChangeStatus, body)
    _check_rules(change_status_rule_errors(change, settings.order_statuses))
    return await _land(request, committer, principal, order_id, "change_status", body, None)


@router.post(
    "/{orderId}/change-delivery",
    status_code=202,
    response_model=Accepted,
    summary="Change delivery",
)
async def change_delivery(
    request: Request,
    order_id: OrderIdPath,
    settings: SettingsDep,
    principal: Writer,
    committer: OrderCommitterDep,
) -> JSONResponse:
    """Change the order's delivery: the fields given replace the delivery's, the others are
    kept. Asynchronous: poll the job in `Location`; it fails like a status change does
    (`OrderNotFound`, `VersionConflict`). An embedded `action` runs on the new version."""
    body = await read_json(request, settings.max_body_bytes)
    parse_json(ChangeDelivery, body)
    return await _land(request, committer, principal, order_id, "change_delivery", body, None)


@router.get("/{orderId}", summary="Read the current processed order")
def read_order(
    order_id: OrderIdPath,
    session: SessionDep,
    _reader: Reader,
    contact_id: Annotated[str | None, Query(alias="contactId")] = None,
) -> Response:
    """The order's current processed version with its `versionTag` (also sent as `ETag`), the
    tag an action names. Changes still being processed are not in it yet: their jobs say when
    they are. With `contactId`, an order of another contact answers 404, as an unknown one."""
    view = get_order(session, order_id)
    if view is None or (contact_id is not None and (view.contact_id or "") != contact_id.lower()):
        raise ProblemError(404, "Not Found", "No such order.", code="OrderNotFound")
    return JSONResponse(_order_json(view), headers={"ETag": f'"{view.version_tag}"'})


@router.get("", summary="List a contact's orders, newest first")
def list_orders(
    session: SessionDep,
    _reader: Reader,
    contact_id: Annotated[str, Query(alias="contactId")],
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> Response:
    """The contact's current processed orders, newest first, paged with `offset` and `count`
    (follow the `next` link). 404 if no live contact has the id."""
    contact = live_contact(session, contact_id)
    views, total = list_for_contact(session, contact.id, offset, count)
    items = [_order_json(view) for view in views]
    return paged(items, total, offset, count, "/api/v3/orders", {"contactId": contact_id})


def _order_json(view: OrderView) -> dict[str, Any]:
    document = json.loads(view.document)
    return {**document, "versionTag": view.version_tag, "contactId": view.contact_id}
