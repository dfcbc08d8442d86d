"""The shapes of answers that handlers build as plain JSON, for the OpenAPI document only.

Reads such as `GET /orders/{orderId}` answer with the stored document and a few fields around it,
without a response model (building one would parse and re-render every document on the read
path). FastAPI therefore cannot describe them; these models do, so that clients and the fuzzer
(tests/api/test_fuzzing.py, which checks every answer against the schema) know what comes back.
They describe, they do not validate: no handler uses them.

Clients must ignore fields they do not know, so every shape allows more than it lists.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from schemas.common import ResponseModel
from schemas.orders import EmbeddedAction, Order
from schemas.paging import Page
from schemas.receipts import Receipt


class _Open(ResponseModel):
    model_config = ConfigDict(extra="allow")


class ProcessedOrder(Order):
    """The order's current processed version: the Orders v3 document as last written (a change
    applied to it), with the version's tag and the contact the order was resolved to."""

    model_config = ConfigDict(extra="allow")

    action: SkipJsonSchema[EmbeddedAction | None] = None
    version_tag: str = Field(
        description="The version's opaque tag (also the `ETag` header); send it with actions."
    )
    contact_id: str | None = Field(
        description="The contact the order was resolved to; null if no contact matched."
    )


class ProcessedReceipt(Receipt):
    """A registered receipt as it was sent, with the contact it was resolved to."""

    model_config = ConfigDict(extra="allow")

    contact_id: str | None = Field(
        description="The contact the receipt was resolved to; null if no contact matched."
    )


class OrderJobSucceeded(_Open):
    """The body of the `302` a succeeded order job answers with (Location: the order)."""

    job_id: str
    status: Literal["Succeeded"]
    order_id: str
    version_tag: str = Field(description="The version the change produced.")


class IntegrationLogEntry(_Open):
    """A warning or error from processing, without personal data."""

    id: int
    type: str = Field(description="Orders, Receipts, Actions, ...")
    severity: str = Field(description="Warning or Error.")
    code: str
    message: str
    job_id: str | None
    order_id: str | None
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class LoyaltyEntry(_Open):
    """One change of a contact's points, from one processed receipt."""

    entry_id: str
    unique_receipt_id: str
    type: str = Field(description="Earned, Deducted or BonusCheckIssued.")
    points: int = Field(description="Positive when earned, negative when deducted or spent.")
    balance_after: int
    occurred_at: str = Field(json_schema_extra={"format": "date-time"})


class Loyalty(_Open):
    """A contact's points balance, bonus checks and ledger (newest first, paged)."""

    contact_id: str
    balance: int
    bonus_checks_issued: int
    ledger: Page[LoyaltyEntry]


class PersonalDataExtract(BaseModel):
    """Everything stored about a contact, as built by the `extract_personal_data` job."""

    model_config = ConfigDict(extra="allow", alias_generator=None)

    generatedAt: str = Field(json_schema_extra={"format": "date-time"})  # noqa: N815
    contact: dict[str, Any] = Field(description="The contact as `GET /contacts/{id}` shows it.")
    orders: list[dict[str, Any]] = Field(description="Each order with all its versions.")
    receipts: list[dict[str, Any]]
    communications: list[dict[str, Any]]
    loyalty: list[dict[str, Any]] = Field(description="The loyalty ledger.")
    integrationLog: list[dict[str, Any]]  # noqa: N815


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """`ready` when every check is `ok`; otherwise `unavailable` (with 503)."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, Literal["ok", "timeout", "unreachable"]] = Field(
        description="`database` and `lake`."
    )
