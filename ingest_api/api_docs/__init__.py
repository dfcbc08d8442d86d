"""The OpenAPI document's prose and examples, beyond what FastAPI derives from the routes.

One module per resource holds its operations' examples (`OperationDoc`, keyed by method and path);
`render.document_operations` writes them into the schema FastAPI generated. Descriptions stay in
the route docstrings, next to the behaviour they describe. Example payloads come from
schemas/examples/, the one set of Engage example bodies the tests post as well.
"""

from __future__ import annotations

from ingest_api.api_docs import (
    actions,
    contacts,
    operators,
    orders,
    receipts,
    registers,
    segments,
)
from ingest_api.api_docs.model import Operations

TAGS: list[dict[str, str]] = [
    {
        "name": "orders",
        "description": "Orders v3: create, replace, change and delete orders, and read them once "
        "processed. Writes are asynchronous: `202 Accepted` means the body is durably stored; "
        "poll the job named in `Location` for the outcome and the new `versionTag`.",
    },
    {
        "name": "order jobs",
        "description": "Where an order write stands: `Queued` or `Processing` (200), `Succeeded` "
        "(302 to the order, with its versionTag) or `Failed` (422 with the errors).",
    },
    {
        "name": "actions",
        "description": "Automations on one order version, such as the order-confirmation "
        "e-mail, and the messages they produced. Which actions exist is configuration.",
    },
    {
        "name": "receipts",
        "description": "Transactions: receipts of goods that changed hands. Immutable once "
        "registered; they drive loyalty points and sales reporting. Asynchronous like orders.",
    },
    {
        "name": "contacts",
        "description": "The contact register, written synchronously: a contact's id is known "
        "when the call returns. Orders and receipts name contacts by a match key.",
    },
    {"name": "loyalty", "description": "Points earned and spent, from processed receipts."},
    {
        "name": "articles",
        "description": "The article register, upserted by SKU from JSON or the Engage article XML; "
        "asynchronous, one job per call.",
    },
    {
        "name": "stores",
        "description": "The store register, upserted by `externalId`; asynchronous, one job "
        "per call.",
    },
    {
        "name": "segments",
        "description": "Saved definitions of contact sets over the star schema, previews, and "
        "their materialised members.",
    },
    {
        "name": "integration log",
        "description": "Warnings and errors from processing (e.g. `ContactMissing`), without "
        "personal data.",
    },
    {
        "name": "gdpr",
        "description": "Deletion (soft at once, erased after a grace period), restore, and the "
        "personal data extract. Requests are recorded without personal data.",
    },
    {
        "name": "operations",
        "description": "Probes and metrics for operators; no API key, no data.",
    },
]
"""The tags in the order Swagger UI shows them, each with what an integrator finds there."""

_MODULES = (orders, actions, receipts, contacts, registers, segments, operators)


def all_operations() -> Operations:
    """Every documented operation; a key claimed by two modules is an error."""
    registry: Operations = {}
    for module in _MODULES:
        for key, doc in module.operations().items():
            if key in registry:
                raise ValueError(f"{key} is documented twice")
            registry[key] = doc
    return registry
