"""Examples of the receipt operations: registration, its job, processed receipts, and the methods
that receipts, being immutable, refuse."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import accepted, page
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.problems import (
    OFFSET_REQUIRED,
    count_too_large,
    format_problem,
    not_found,
    parameter_problem,
    problem,
    since_without_offset,
    unknown_contact,
)
from ingest_api.api_docs.shapes import ProcessedReceipt
from schemas.examples import example_json
from schemas.paging import Page
from schemas.receipts import Receipt, ReceiptJobState, receipt_document

RECEIPTS = "/api/v3/receipts"
RECEIPT = f"{RECEIPTS}/{{uniqueReceiptId}}"
JOBS = f"{RECEIPTS}/jobs"
LINE_SUM_WARNING = {
    "code": "LineSumMismatch",
    "message": "/totalGrossPrice: 1306.0 differs from the lines' grossPaidPrice, returns "
    "negative, which add up to 1257.0.",
}
IMMUTABLE_DETAIL = (
    "Receipts are immutable: a registered receipt is never updated or deleted. Register a "
    "return receipt to reverse a purchase."
)


def processed(name: str) -> dict[str, Any]:
    """The receipt of example `name` as served: the fields sent, and the resolved contact."""
    receipt = Receipt.model_validate_json(dumps(example_json(name)))
    return {**receipt_document(receipt), "contactId": story.CONTACT_ID}


def _bad_receipts() -> dict[str, Example]:
    no_items = example_json("receipt-purchase.json")
    no_items["items"] = []
    no_items["createdDate"] = "2025-11-22T18:05:00"
    negative = example_json("receipt-purchase.json")
    negative["items"][0]["grossPaidPrice"] = -999.0
    return {
        "FormatError": Example(
            "No lines, and a date without offset",
            format_problem(
                ("/createdDate", "OffsetRequired", OFFSET_REQUIRED),
                ("/items", "TooShort", "List should have at least 1 item after validation, not 0"),
            ),
            "A receipt records goods that changed hands: it has at least one line.",
            Replay(body=dumps(no_items)),
        ),
        "NegativePrice": Example(
            "A negative price",
            format_problem(
                (
                    "/items/0/grossPaidPrice",
                    "OutOfRange",
                    "Input should be greater than or equal to 0",
                )
            ),
            "The line `type` gives the direction; the price is positive, on returns too.",
            Replay(body=dumps(negative)),
        ),
    }


def _register() -> OperationDoc:
    examples = {
        "purchase": Example(
            "A purchase",
            example_json("receipt-purchase.json"),
            "Lena's delivered web order: a receipt with two lines.",
        ),
        "return": Example(
            "A return",
            example_json("receipt-return.json"),
            "One pair of socks returned: negative quantity and total, positive price.",
        ),
    }
    return OperationDoc(
        {202: accepted(JOBS, story.PURCHASE_JOB_ID), 400: Answer(_bad_receipts())},
        Body(Receipt, examples),
    )


def _job_state(**fields: Any) -> dict[str, Any]:
    """A processed purchase's job state; `fields` override, None leaves a field out."""
    state = {
        "jobId": story.PURCHASE_JOB_ID,
        "status": "Succeeded",
        "uniqueReceiptId": story.PURCHASE_RECEIPT_ID,
        "createdAt": story.RECEIPT_LANDED_AT,
        "duplicate": False,
        "warnings": [LINE_SUM_WARNING],
        **fields,
    }
    return {name: value for name, value in state.items() if value is not None}


def _job_examples() -> dict[str, Example]:
    queued = _job_state(status="Queued", uniqueReceiptId=None, duplicate=None, warnings=None)
    return {
        "Queued": Example("Landed, not processed yet", queued),
        "Succeeded": Example(
            "Registered, with a warning",
            _job_state(),
            "Warnings (also in the integration log) never stop a receipt.",
        ),
        "Duplicate": Example(
            "A uniqueReceiptId registered before",
            _job_state(duplicate=True, warnings=None),
            "Accepted and ignored: a receipt is never registered twice.",
        ),
    }


def _job() -> OperationDoc:
    failed = problem(
        422,
        "Unprocessable Content",
        "JobFailed",
        "The receipt was not registered.",
        ("", "Required", "The submission has no body."),
        jobId=story.FAILED_JOB_ID,
        jobStatus="Failed",
    )
    unknown = not_found(
        "JobNotFound", "No such job.", Replay(path={"jobId": story.UNKNOWN_ID}), "Unknown job"
    )
    return OperationDoc(
        {
            200: Answer(_job_examples(), ReceiptJobState),
            404: Answer({"NotFound": unknown}),
            422: Answer({"JobFailed": Example("Failed: nothing to register", failed)}),
        },
        parameters={"jobId": story.PURCHASE_JOB_ID},
    )


def _jobs() -> OperationDoc:
    returned = _job_state(
        jobId=story.RETURN_JOB_ID,
        uniqueReceiptId=story.RETURN_RECEIPT_ID,
        createdAt=story.RETURN_LANDED_AT,
        warnings=None,
    )
    newest = page([returned, _job_state()])
    bad_status = Example(
        "An unknown status",
        parameter_problem(
            (
                "/query/status",
                "InvalidParameter",
                "Input should be 'Queued', 'Processing', 'Succeeded' or 'Failed'",
            )
        ),
        replay=Replay(query={"status": "Done"}),
    )
    return OperationDoc(
        {
            200: Answer({"page": Example("Newest first", newest)}, Page[ReceiptJobState]),
            400: Answer(
                {"status": bad_status, "since": since_without_offset(), "count": count_too_large()}
            ),
        },
        parameters={"status": "Succeeded"},
    )


def _list() -> OperationDoc:
    receipts = page([processed("receipt-return.json"), processed("receipt-purchase.json")])
    no_contact = Example(
        "No contactId",
        parameter_problem(("/query/contactId", "InvalidParameter", "Field required")),
        "The list is always of one contact's receipts.",
        Replay(),
    )
    unknown = unknown_contact(Replay(query={"contactId": story.UNKNOWN_ID}))
    return OperationDoc(
        {
            200: Answer({"page": Example("Lena's receipts", receipts)}, Page[ProcessedReceipt]),
            400: Answer(
                {"contactId": no_contact, "count": count_too_large(contactId=story.CONTACT_ID)}
            ),
            404: Answer({"NotFound": unknown}),
        },
        parameters={"contactId": story.CONTACT_ID},
    )


def _read() -> OperationDoc:
    unknown = not_found(
        "ReceiptNotFound",
        "No such receipt.",
        Replay(path={"uniqueReceiptId": "SE-WEB-2025-000999-1"}),
        "Unknown (or not yet processed) receipt",
    )
    receipt = Example("The purchase receipt", processed("receipt-purchase.json"))
    return OperationDoc(
        {200: Answer({"receipt": receipt}, ProcessedReceipt), 404: Answer({"NotFound": unknown})},
        parameters={"uniqueReceiptId": story.PURCHASE_RECEIPT_ID},
    )


def _immutable(path: str) -> OperationDoc:
    """Never succeeds: the answer is always 405, with `Allow` naming what the path supports."""
    refused = Example(
        "Receipts are immutable",
        problem(405, "Method Not Allowed", "ReceiptsAreImmutable", IMMUTABLE_DETAIL),
        "To reverse a purchase, register a return receipt.",
        Replay(),
    )
    parameters = {"uniqueReceiptId": story.PURCHASE_RECEIPT_ID} if "{" in path else {}
    answer = Answer(
        {"ReceiptsAreImmutable": refused}, description="Always: receipts are immutable."
    )
    return OperationDoc({405: answer}, parameters=parameters)


def operations() -> Operations:
    immutable = {
        (method, path): _immutable(path)
        for method in ("PUT", "PATCH", "DELETE")
        for path in (RECEIPTS, RECEIPT)
    }
    return {
        ("POST", RECEIPTS): _register(),
        ("GET", RECEIPTS): _list(),
        ("GET", RECEIPT): _read(),
        ("GET", f"{JOBS}/{{jobId}}"): _job(),
        ("GET", JOBS): _jobs(),
        **immutable,
    }
