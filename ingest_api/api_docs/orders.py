"""Examples of the order operations: the writes, the processed order, and the order jobs."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import accepted, page
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.problems import (
    OFFSET_REQUIRED,
    UNKNOWN_FIELD,
    UNKNOWN_STATUS,
    count_too_large,
    format_problem,
    not_found,
    problem,
    since_without_offset,
    unknown_contact,
)
from ingest_api.api_docs.shapes import OrderJobSucceeded, ProcessedOrder
from schemas.examples import example_json
from schemas.jobs import JobState
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.paging import Page

ORDERS = "/api/v3/orders"
ORDER = f"{ORDERS}/{{orderId}}"
JOBS = f"{ORDERS}/jobs"
ON_ORDER = {"orderId": story.ORDER_ID}


def _document(order: dict[str, Any]) -> dict[str, Any]:
    """The order as processing stores it: the canonical Orders v3 JSON, the action left out
    (as assets/orders/documents.py `order_document` renders it)."""
    parsed = Order.model_validate_json(dumps(order))
    return parsed.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"action"})


def processed_order() -> dict[str, Any]:
    """The order after the replace, change-status and change-delivery examples, as served."""
    document = _document(example_json("order-replace.json"))
    status = example_json("order-change-status.json")
    status.pop("action")
    document |= status
    document["delivery"] |= example_json("order-change-delivery.json")
    return {**document, "versionTag": story.VERSION_TAG, "contactId": story.CONTACT_ID}


def _unknown_status(body: dict[str, Any]) -> Example:
    return Example(
        "A status outside the configured set",
        format_problem(("/status", "UnknownStatus", UNKNOWN_STATUS)),
        "`status` is one of the configured statuses; the shop's own wording goes in "
        "`externalStatus`.",
        Replay(body=dumps(body)),
    )


def _bad_create() -> dict[str, Example]:
    fields = example_json("order-create.json")
    fields["createdAt"] = "2025-11-20T09:41:07"
    fields["lineItems"]["items"][0] |= {"quantity": "1", "colour": "blue"}
    rules = example_json("order-create.json")
    rules["lineItems"]["subTotal"] = 1000.0
    rules["lineItems"]["items"][1]["type"] = "Return"
    return {
        "FormatError": Example(
            "Fields that break the format",
            format_problem(
                ("/createdAt", "OffsetRequired", OFFSET_REQUIRED),
                ("/lineItems/items/0/quantity", "InvalidType", "Input should be a valid integer"),
                ("/lineItems/items/0/colour", "UnknownField", UNKNOWN_FIELD),
            ),
            '`createdAt` without an offset, `quantity` as the string `"1"` and a field the '
            "format does not define: every problem is listed, each by JSON pointer.",
            Replay(body=dumps(fields)),
        ),
        "BusinessRules": Example(
            "Well-formed but breaking the rules",
            format_problem(
                (
                    "/lineItems/items/1/returnDetails",
                    "ReturnDetailsMissing",
                    "A Return line must have returnDetails.",
                ),
                (
                    "/lineItems/subTotal",
                    "SubTotalMismatch",
                    "subTotal 1000.0 differs from the sum of line totalPrice 1257.0.",
                ),
            ),
            "A `Return` line without `returnDetails`, and a `subTotal` that is not the sum of "
            "the lines' `totalPrice`.",
            Replay(body=dumps(rules)),
        ),
        "MalformedJson": Example(
            "Not JSON at all",
            format_problem(
                ("", "MalformedJson", "Invalid JSON: EOF while parsing a value at line 1 column 30")
            ),
            "The body ends in the middle of an object.",
            Replay(body='{"orderId": "WEB-2025-000481",'),
        ),
    }


def _create() -> OperationDoc:
    request = Example(
        "A web order with an embedded action",
        example_json("order-create.json"),
        "Lena's order; the embedded `ConfirmOrder` runs once the order is processed.",
    )
    return OperationDoc(
        {202: accepted(JOBS, story.CREATE_JOB_ID), 400: Answer(_bad_create())},
        Body(Order, {"order": request}),
    )


def _replace() -> OperationDoc:
    request = Example(
        "The whole order, packed and with a shipping address",
        example_json("order-replace.json"),
        "Replaces the order of the create example in full (a field left out is removed).",
    )
    wrong_status = example_json("order-replace.json") | {"status": "Shipped"}
    other_order = Example(
        "Body of another order",
        format_problem(("/orderId", "OrderIdMismatch", "Must equal the orderId in the URL.")),
        "The body's `orderId` is WEB-2025-000481, the URL's WEB-2025-000482.",
        Replay(path={"orderId": "WEB-2025-000482"}, body=dumps(example_json("order-replace.json"))),
    )
    bad = {"OrderIdMismatch": other_order, "UnknownStatus": _unknown_status(wrong_status)}
    return OperationDoc(
        {202: accepted(JOBS, story.REPLACE_JOB_ID), 400: Answer(bad)},
        Body(Order, {"order": request}),
        ON_ORDER,
    )


def _change_status() -> OperationDoc:
    request = Example(
        "Shipped, confirming the shipment",
        example_json("order-change-status.json"),
        "The external status changes; `ConfirmShipment` e-mails Lena once it is processed.",
    )
    nothing = Example(
        "Nothing to change",
        format_problem(("", "NothingToChange", "Give status, externalStatus or both.")),
        "An empty object.",
        Replay(body="{}"),
    )
    shipped = {"status": "Shipped", "lastChangedAt": "2025-11-21T14:02:00+01:00"}
    return OperationDoc(
        {
            202: accepted(JOBS, story.STATUS_JOB_ID),
            400: Answer({"NothingToChange": nothing, "UnknownStatus": _unknown_status(shipped)}),
        },
        Body(ChangeStatus, {"shipped": request}),
        ON_ORDER,
    )


def _change_delivery() -> OperationDoc:
    request = Example(
        "Tracking number and delivery date",
        example_json("order-change-delivery.json"),
        "The fields given replace the order's delivery fields; the others are kept.",
    )
    no_offset = Example(
        "A date without offset",
        format_problem(("/deliveryDate", "OffsetRequired", OFFSET_REQUIRED)),
        "`deliveryDate` is ISO 8601 with an offset.",
        Replay(body=dumps({"deliveryDate": "2025-11-22 18:00"})),
    )
    return OperationDoc(
        {202: accepted(JOBS, story.DELIVERY_JOB_ID), 400: Answer({"OffsetRequired": no_offset})},
        Body(ChangeDelivery, {"tracking": request}),
        ON_ORDER,
    )


def _delete() -> OperationDoc:
    return OperationDoc({202: accepted(JOBS, story.DELETE_JOB_ID)}, parameters=ON_ORDER)


def _read() -> OperationDoc:
    unknown = not_found(
        "OrderNotFound",
        "No such order.",
        Replay(path={"orderId": "WEB-2025-000999"}),
        "Unknown order (or not the contact's)",
    )
    return OperationDoc(
        {
            200: Answer(
                {"order": Example("Shipped and on its way", processed_order())}, ProcessedOrder
            ),
            404: Answer({"NotFound": unknown}),
        },
        parameters=ON_ORDER,
    )


def _list() -> OperationDoc:
    next_href = f"{ORDERS}?contactId={story.CONTACT_ID}&offset=1&count=1"
    first = page([processed_order()], total=3, count=1, next_href=next_href)
    unknown = unknown_contact(Replay(query={"contactId": story.UNKNOWN_ID}))
    return OperationDoc(
        {
            200: Answer({"page": Example("Lena's newest order", first)}, Page[ProcessedOrder]),
            400: Answer({"count": count_too_large(contactId=story.CONTACT_ID)}),
            404: Answer({"NotFound": unknown}),
        },
        parameters={"contactId": story.CONTACT_ID},
    )


def _job_state(job_id: str, landed_at: str, **fields: Any) -> dict[str, Any]:
    state = {"jobId": job_id, "status": "Succeeded", "orderId": story.ORDER_ID}
    return {**state, "createdAt": landed_at, **fields}


def _failed_job() -> Example:
    value = problem(
        422,
        "Unprocessable Content",
        "JobFailed",
        "The change was not applied.",
        (
            "/orderId",
            "OrderAlreadyExists",
            "An order with this orderId exists with other content; use PUT to replace it.",
        ),
        jobId=story.FAILED_JOB_ID,
        orderId=story.ORDER_ID,
        jobStatus="Failed",
    )
    return Example(
        "Failed: the order exists with other content",
        value,
        "A POST of an order that exists. Other codes: `VersionConflict` (If-Match), "
        "`StaleChange` (an older lastChangedAt), `OrderNotFound` (a change of an unknown order).",
    )


def _job() -> OperationDoc:
    queued = _job_state(story.CREATE_JOB_ID, story.ORDER_LANDED_AT, status="Queued")
    succeeded = {
        "jobId": story.CREATE_JOB_ID,
        "status": "Succeeded",
        "orderId": story.ORDER_ID,
        "versionTag": story.CREATED_VERSION_TAG,
    }
    unknown = not_found(
        "JobNotFound", "No such job.", Replay(path={"jobId": story.UNKNOWN_ID}), "Unknown job"
    )
    return OperationDoc(
        {
            200: Answer({"Queued": Example("Stored, not processed yet", queued)}, JobState),
            302: Answer(
                {"Succeeded": Example("Processed: follow Location to the order", succeeded)},
                OrderJobSucceeded,
                "Succeeded: `Location` is the order; the body names the version it made.",
            ),
            404: Answer({"NotFound": unknown}),
            422: Answer({"JobFailed": _failed_job()}),
        },
        parameters={"jobId": story.CREATE_JOB_ID},
    )


def _jobs() -> OperationDoc:
    items = [
        _job_state(story.DELIVERY_JOB_ID, story.DELIVERY_LANDED_AT, versionTag=story.VERSION_TAG),
        _job_state(
            story.STATUS_JOB_ID, story.STATUS_LANDED_AT, versionTag=story.SHIPPED_VERSION_TAG
        ),
    ]
    newest = page(items, total=4, count=2, next_href=f"{JOBS}?offset=2&count=2")
    return OperationDoc(
        {
            200: Answer({"page": Example("The two newest jobs", newest)}, Page[JobState]),
            400: Answer({"since": since_without_offset(), "count": count_too_large()}),
        },
        parameters={"status": "Failed"},
    )


def operations() -> Operations:
    return {
        ("POST", ORDERS): _create(),
        ("GET", ORDERS): _list(),
        ("PUT", ORDER): _replace(),
        ("DELETE", ORDER): _delete(),
        ("GET", ORDER): _read(),
        ("POST", f"{ORDER}/change-status"): _change_status(),
        ("POST", f"{ORDER}/change-delivery"): _change_delivery(),
        ("GET", f"{JOBS}/{{jobId}}"): _job(),
        ("GET", JOBS): _jobs(),
    }
