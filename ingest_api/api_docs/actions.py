"""Examples of the action operations: triggering an action and reading its communications."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import page
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.problems import (
    count_too_large,
    format_problem,
    not_found,
    parameter_problem,
    problem,
    unknown_contact,
)
from schemas.actions import ActionRequest
from schemas.examples import example_json

COMMUNICATIONS = "/api/v3/communications"

_SHIPMENT_BODY = (
    "Hej Lena!\n\nGoda nyheter: din order WEB-2025-000481 har skickats med Budbee.\n"
    "Beräknad leverans: 2025-11-23\n\nI paketet:\n- 1 st Rain jacket\n- 2 st Wool socks\n\n"
    "Vänliga hälsningar\nKundservice\n"
)


def _trigger() -> OperationDoc:
    href = f"{COMMUNICATIONS}?actionId={story.ACTION_ID}"
    accepted = {
        "actionId": story.ACTION_ID,
        "links": [{"href": href, "method": "GET", "rel": "communications"}],
    }
    request = Example(
        "Confirm the order, pinned to its current version",
        example_json("order-action.json"),
        "The versionTag is the one `GET /orders/{orderId}` shows (also its `ETag`).",
    )
    return OperationDoc(
        {
            202: Answer({"Accepted": Example("Queued for delivery", accepted)}),
            400: Answer(_bad_requests()),
            404: Answer({"StaleVersion": _stale_version()}),
            422: Answer({"ContactMissing": _contact_missing()}),
        },
        Body(ActionRequest, {"confirm": request}),
        {"orderId": story.ORDER_ID},
    )


def _bad_requests() -> dict[str, Example]:
    return {
        "Required": Example(
            "No versionTag",
            format_problem(("/versionTag", "Required", "Field required")),
            "An action always names the order version it is about.",
            Replay(body=dumps({"action": "ConfirmOrder", "language": "sv-SE"})),
        ),
        "UnknownAction": Example(
            "No automation defines the action",
            format_problem(
                (
                    "/action",
                    "UnknownAction",
                    "No automation defines this action; known: ConfirmOrder, ConfirmShipment, "
                    "ConfirmReturn.",
                )
            ),
            "The known actions are the configured automations (the shipped ones here).",
            Replay(body=dumps({"action": "SendInvoice", "versionTag": story.VERSION_TAG})),
        ),
    }


def _stale_version() -> Example:
    return not_found(
        "OrderNotFound",
        "No such order, or the versionTag is not the order's current version.",
        Replay(body=dumps({"action": "ConfirmOrder", "versionTag": story.CREATED_VERSION_TAG})),
        "Not the order's current version (or no such order)",
    )


def _contact_missing() -> Example:
    value = problem(
        422,
        "Unprocessable Content",
        "ContactMissing",
        "The order has no contact to send to. Create the contact, then change the order so "
        "that it is linked, and trigger the action on the new version.",
        ("", "ContactMissing", "Contact is missing"),
    )
    return Example("The order has no contact", value)


def _communication(**fields: Any) -> dict[str, Any]:
    return {
        "communicationId": 2,
        "actionId": "02f4c015-c0af-55fc-ae15-bec6bccdbf4d",
        "action": "ConfirmShipment",
        "channel": "outbox",
        "status": "Sent",
        "attempts": 1,
        "orderId": story.ORDER_ID,
        "contactId": story.CONTACT_ID,
        "versionTag": story.SHIPPED_VERSION_TAG,
        "language": "sv-SE",
        "recipient": story.EMAIL,
        "subject": "Din order WEB-2025-000481 är på väg",
        "body": _SHIPMENT_BODY,
        "lastError": None,
        "createdAt": "2025-11-21T13:03:10.208259Z",
        "updatedAt": "2025-11-21T13:03:41.023255Z",
        "sentAt": "2025-11-21T13:03:41.023255Z",
        **fields,
    }


def _communications() -> OperationDoc:
    queued = _communication(
        communicationId=3,
        actionId=story.ACTION_ID,
        action="ConfirmOrder",
        status="Queued",
        attempts=0,
        versionTag=story.VERSION_TAG,
        language=None,
        recipient=None,
        subject=None,
        body=None,
        createdAt="2025-11-21T13:10:58.074114Z",
        updatedAt="2025-11-21T13:10:58.074114Z",
        sentAt=None,
    )
    messages = page([queued, _communication()])
    bad_action_id = Example(
        "`actionId` is not a GUID",
        parameter_problem(
            (
                "/query/actionId",
                "InvalidParameter",
                "Input should be a valid UUID, invalid character: found `o` at 1",
            )
        ),
        "Filter by the `actionId` an action's 202 answered with.",
        Replay(query={"actionId": "ConfirmOrder"}),
    )
    unknown = unknown_contact(Replay(query={"contactId": story.UNKNOWN_ID}))
    return OperationDoc(
        {
            200: Answer({"page": Example("The order's messages, newest first", messages)}),
            400: Answer({"actionId": bad_action_id, "count": count_too_large()}),
            404: Answer({"NotFound": unknown}),
        },
        parameters={"orderId": story.ORDER_ID},
    )


def operations() -> Operations:
    return {
        ("POST", "/api/v3/orders/{orderId}/action"): _trigger(),
        ("GET", COMMUNICATIONS): _communications(),
    }
