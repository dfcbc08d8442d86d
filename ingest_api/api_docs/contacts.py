"""Examples of the contact operations: contacts, their loyalty ledger, and GDPR requests."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import page
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.orders import processed_order
from ingest_api.api_docs.problems import (
    count_too_large,
    format_problem,
    not_found,
    problem,
    unknown_contact,
)
from ingest_api.api_docs.receipts import processed
from ingest_api.api_docs.shapes import Loyalty, PersonalDataExtract
from schemas.contacts import ContactOut, ContactPatch, NewContact
from schemas.examples import example_json

CONTACTS = "/api/v3/contacts"
CONTACT = f"{CONTACTS}/{{contactId}}"
REQUESTS = "/api/v3/gdpr/requests"
ON_CONTACT = {"contactId": story.CONTACT_ID}
KEYS_MESSAGE = (
    "Give exactly one of: email, mobilePhone, socialSecurityNumber, externalId, customKey, "
    "memberNumber, any."
)
TAKEN = "Another contact already has this value."


_STAMPS = ("contact_id", "contact_type", "created_at", "updated_at")
_FIELDS = [field.alias for name, field in ContactOut.model_fields.items() if name not in _STAMPS]
"""The contact fields an integrator writes, in the order `GET /contacts/{contactId}` shows them."""
_KEYS = ("email", "externalId", "memberNumber", "mobilePhone")
"""The create example's key fields, as a duplicate names them."""


def contact(**changes: Any) -> dict[str, Any]:
    """Lena as `GET /contacts/{contactId}` shows her after the create example."""
    created = example_json("contact-create.json")
    fields = {
        "contactId": story.CONTACT_ID,
        "contactType": created["contactType"],
        **{name: created.get(name) for name in _FIELDS},
        "createdAt": story.CONTACT_CREATED_AT,
        "updatedAt": story.CONTACT_CREATED_AT,
    }
    return {**fields, **changes}


def patched() -> dict[str, Any]:
    """Lena after the patch example."""
    return contact(
        **example_json("contact-patch.json"), updatedAt="2025-11-26T19:42:13.507114+00:00"
    )


def _unknown(summary: str = "No live contact has this id", **replay: Any) -> Example:
    return unknown_contact(Replay(path={"contactId": story.UNKNOWN_ID}, **replay), summary)


def _duplicate() -> Example:
    errors = [(f"/{name}", "DuplicateContactKey", TAKEN) for name in _KEYS]
    value = problem(
        409,
        "Conflict",
        "DuplicateContactKey",
        "A key field belongs to another contact; nothing was stored.",
        *errors,
    )
    return Example(
        "Keys of another contact",
        value,
        "Each clashing key field is named (never its value). Look the contact up instead.",
        Replay(body=dumps(example_json("contact-create.json"))),
    )


def _create() -> OperationDoc:
    invalid = {"firstName": "Nils", "email": "nils.holm(at)example.org", "mobilePhone": "12345"}
    bad = Example(
        "An e-mail address and a phone number that are not",
        format_problem(
            ("/email", "InvalidEmailAddress", "Not a valid e-mail address."),
            (
                "/mobilePhone",
                "InvalidPhoneNumber",
                "Not a valid phone number in international format, e.g. +46701234567.",
            ),
        ),
        replay=Replay(body=dumps(invalid)),
    )
    request = Example("A member", example_json("contact-create.json"))
    return OperationDoc(
        {
            201: Answer({"Created": Example("Created", {"contactId": story.CONTACT_ID})}),
            400: Answer({"InvalidEmailAddress": bad}),
            409: Answer({"DuplicateContactKey": _duplicate()}),
        },
        Body(NewContact, {"member": request}),
    )


def _lookup() -> OperationDoc:
    two_keys = Example(
        "Two keys",
        problem(
            400,
            "Bad Request",
            "InvalidParameter",
            "The lookup parameters are not valid.",
            ("/query/email", "ExactlyOneLookupKey", KEYS_MESSAGE),
            ("/query/memberNumber", "ExactlyOneLookupKey", KEYS_MESSAGE),
        ),
        replay=Replay(query={"email": story.EMAIL, "memberNumber": "100481"}),
    )
    unknown = unknown_contact(
        Replay(query={"email": "nils.holm@example.org"}), "No live contact has the key"
    )
    several = Example(
        "`any` matched several contacts",
        problem(
            409,
            "Conflict",
            "MultipleMatches",
            "More than one contact has this key; look the contact up by a more specific key.",
        ),
    )
    return OperationDoc(
        {
            200: Answer({"Found": Example("Found", {"contactId": story.CONTACT_ID})}),
            400: Answer({"ExactlyOneLookupKey": two_keys}),
            404: Answer({"NotFound": unknown}),
            409: Answer({"MultipleMatches": several}),
        },
        parameters={"email": story.EMAIL},
    )


def _read() -> OperationDoc:
    return OperationDoc(
        {
            200: Answer({"contact": Example("Lena", contact())}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_CONTACT,
    )


def _patch() -> OperationDoc:
    request = Example(
        "Moved, and gender no longer kept",
        example_json("contact-patch.json"),
        "Fields sent are set, `null` clears one, fields left out are kept.",
    )
    not_nullable = Example(
        "contactType cleared",
        format_problem(("/contactType", "NotNullable", "contactType cannot be cleared.")),
        replay=Replay(body=dumps({"contactType": None})),
    )
    return OperationDoc(
        {
            200: Answer({"contact": Example("Lena after the change", patched())}),
            400: Answer({"NotNullable": not_nullable}),
            404: Answer({"NotFound": _unknown(body=dumps(example_json("contact-patch.json")))}),
        },
        Body(ContactPatch, {"moved": request}),
        ON_CONTACT,
    )


def _ledger() -> list[dict[str, Any]]:
    """Lena's points: earned with the purchase receipt, part deducted with the return."""
    return [
        _entry(story.RETURN_RECEIPT_ID, "Deducted", -11, 98, "2025-11-29T10:20:00+00:00"),
        _entry(story.PURCHASE_RECEIPT_ID, "Earned", 109, 109, "2025-11-22T17:05:00+00:00"),
    ]


def _loyalty() -> OperationDoc:
    value = {
        "contactId": story.CONTACT_ID,
        "balance": 98,
        "bonusChecksIssued": 0,
        "ledger": page(_ledger()),
    }
    return OperationDoc(
        {
            200: Answer({"loyalty": Example("Earned, then a return", value)}, Loyalty),
            400: Answer({"count": count_too_large()}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_CONTACT,
    )


def _entry(receipt: str, kind: str, points: int, balance: int, at: str) -> dict[str, Any]:
    return {
        "entryId": f"{receipt}:{kind}",
        "uniqueReceiptId": receipt,
        "type": kind,
        "points": points,
        "balanceAfter": balance,
        "occurredAt": at,
    }


def _request(**fields: Any) -> dict[str, Any]:
    """A GDPR request as `GET /gdpr/requests/{requestId}` shows it."""
    return {
        "requestId": story.ERASURE_REQUEST_ID,
        "kind": "erasure",
        "status": "Pending",
        "requestedAt": "2026-01-12T09:30:11.776289+00:00",
        "eraseAfter": "2026-01-19T09:30:11.776289+00:00",
        "restoredAt": None,
        "erasedAt": None,
        "contactHash": story.CONTACT_HASH,
        "reason": "request",
        "runId": None,
        "audit": None,
        **fields,
    }


def _extract_request(**fields: Any) -> dict[str, Any]:
    return _request(
        requestId=story.EXTRACT_REQUEST_ID,
        kind="extract",
        requestedAt="2026-01-05T14:02:37.370284+00:00",
        eraseAfter=None,
        **fields,
    )


def _delete() -> OperationDoc:
    pending = _request()
    value = {k: pending[k] for k in ("requestId", "status", "eraseAfter")}
    return OperationDoc(
        {
            202: Answer({"Pending": Example("Hidden now, erased after the grace period", value)}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_CONTACT,
    )


def _restore() -> OperationDoc:
    unknown = not_found(
        "ContactNotFound",
        "No deletion of this contact can be restored (none, restored already, or past its grace "
        "period).",
        Replay(path={"contactId": story.UNKNOWN_ID}),
        "Nothing to restore",
    )
    return OperationDoc(
        {
            200: Answer({"contact": Example("Lena, back", patched())}),
            404: Answer({"NotFound": unknown}),
        },
        parameters=ON_CONTACT,
    )


_AUDIT = {
    "lake": {
        "bronze/order_changes": {"rows": 4, "filesRemoved": 4, "logEntriesRemoved": 0},
        "bronze/receipt_submissions": {"rows": 2, "filesRemoved": 2, "logEntriesRemoved": 0},
    },
    "database": {"contacts": 1, "order_view": 1, "receipt_view": 2, "communications": 2},
}
"""What an erasure removed: rows, files and log entries per table; never any personal data."""


def _unknown_request() -> Example:
    return not_found(
        "GdprRequestNotFound",
        "No such GDPR request.",
        Replay(path={"requestId": story.UNKNOWN_ID}),
        "Unknown request",
    )


def _status() -> OperationDoc:
    examples = {
        "Pending": Example("An erasure in its grace period", _request()),
        "Erased": Example(
            "An erasure done, with its audit (counts only)",
            _request(
                status="Erased",
                erasedAt="2026-01-19T10:00:42.102117+00:00",
                runId="c7210869-669b-4835-a52a-4d8b0f408e60",
                audit=_AUDIT,
            ),
        ),
        "ExtractCompleted": Example(
            "An extract ready to download",
            _extract_request(
                status="Completed",
                runId="0b1e7c55-2d8a-4f3e-9c61-5a4d3e2f1b07",
                completedAt="2026-01-05T14:03:02.649938+00:00",
                extractUrl=f"{REQUESTS}/{story.EXTRACT_REQUEST_ID}/extract",
            ),
        ),
    }
    return OperationDoc(
        {200: Answer(examples), 404: Answer({"NotFound": _unknown_request()})},
        parameters={"requestId": story.ERASURE_REQUEST_ID},
    )


def _request_extract() -> OperationDoc:
    value = {"requestId": story.EXTRACT_REQUEST_ID, "status": "Pending"}
    return OperationDoc(
        {
            202: Answer({"Pending": Example("Being built; poll Location", value)}),
            404: Answer({"NotFound": _unknown()}),
        },
        parameters=ON_CONTACT,
    )


def _download() -> OperationDoc:
    version = {
        **processed_order(),
        "versionNumber": 4,
        "isDeleted": False,
        "processedAt": "2025-11-21T13:06:02.117204+00:00",
    }
    extract = {
        "generatedAt": "2026-01-05T14:03:02.624019+00:00",
        "contact": patched(),
        "orders": [{"orderId": story.ORDER_ID, "versions": [version]}],
        "receipts": [processed("receipt-purchase.json"), processed("receipt-return.json")],
        "communications": [],
        "loyalty": _ledger()[::-1],
        "integrationLog": [],
    }
    not_ready = Example(
        "Still being built",
        problem(
            409,
            "Conflict",
            "ExtractNotReady",
            "The extract is still being built; poll the request until it is Completed.",
        ),
    )
    failed = Example(
        "Could not be built",
        problem(
            409, "Conflict", "ExtractFailed", "The extract could not be built; request a new one."
        ),
    )
    return OperationDoc(
        {
            200: Answer(
                {"extract": Example("Lena's data (abridged: one version of each)", extract)},
                PersonalDataExtract,
            ),
            404: Answer({"NotFound": _unknown_request()}),
            409: Answer({"ExtractNotReady": not_ready, "ExtractFailed": failed}),
        },
        parameters={"requestId": story.EXTRACT_REQUEST_ID},
    )


def operations() -> Operations:
    return {
        ("POST", CONTACTS): _create(),
        ("GET", f"{CONTACTS}/id"): _lookup(),
        ("GET", CONTACT): _read(),
        ("PATCH", CONTACT): _patch(),
        ("GET", f"{CONTACT}/loyalty"): _loyalty(),
        ("DELETE", CONTACT): _delete(),
        ("POST", f"{CONTACT}/restore"): _restore(),
        ("POST", f"{CONTACT}/personal-data-extract"): _request_extract(),
        ("GET", f"{REQUESTS}/{{requestId}}"): _status(),
        ("GET", f"{REQUESTS}/{{requestId}}/extract"): _download(),
    }
