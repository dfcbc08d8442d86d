"""Receipts (transactions, SPEC 2.3): the body of `POST /receipts`, its format rules, its status.

A receipt is an exchange of goods that already happened, so it is never rejected for what it says
about the business, only for being unusable. Two kinds of rules follow from that:

Hard format rules (400 at the intake, nothing landed; a landed body breaking them fails its job):
- required fields (`uniqueReceiptId`, `createdDate`, `totalGrossPrice`, and per item `type`,
  `quantity` and `grossPaidPrice`), JSON types, dates with an offset, no unknown fields;
- at least one item: a receipt without lines earns no points and sells nothing;
- no control characters in `uniqueReceiptId`, `storeExternalId` and `sku` (see `ReceiptId`);
- `grossPaidPrice` >= 0. The line `type` says which way the money went and the price is its size
  (returns carry a positive price). A negative price makes the direction ambiguous: counted as sent,
  a negative RETURN price would turn a refund into a sale and credit loyalty points for it.

Sign conventions that are only warnings (`SignConvention` in the integration log, the receipt is
registered as sent), checked by the pipeline with the pandera models of `schemas/frames.py`:
- a PURCHASE line's quantity should be > 0, a RETURN line's < 0. The type already tells which way
  the goods went, so a quantity with the other sign (or 0) leaves the receipt usable;
- `totalGrossPrice` should not be negative on a receipt of only PURCHASE lines, nor positive on one
  of only RETURN lines.
The arithmetic (line amounts against `totalGrossPrice`, tax amounts against rates) is likewise
checked by the pipeline and reported as warnings (`LineSumMismatch`, `TaxMismatch`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.common import (
    EngageModel,
    Identifier,
    LongText,
    Money,
    Number,
    OffsetDatetime,
    Percent,
    ResponseModel,
    ShortText,
)
from schemas.contacts import has_control_characters
from schemas.orders import ContactReference
from schemas.problems import FieldError

MAX_ITEMS = 1000
MAX_COLLECTION_ITEMS = 200

NonNegativeMoney = Annotated[Money, Field(ge=0)]
Quantity = Annotated[Number, Field(ge=-1_000_000, le=1_000_000, max_digits=14, decimal_places=4)]
"""A quantity may be fractional (1.25 kg); its sign is a convention checked as a warning."""
ExchangeRate = Annotated[Number, Field(gt=0, max_digits=18, decimal_places=10)]
MarginPercent = Annotated[Number, Field(ge=-10_000, le=100, max_digits=9, decimal_places=4)]
"""Share of the price that is margin: at most 100 % (no cost), negative when sold at a loss."""
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("InvalidCharacter", "Control characters are not allowed.")
    return value


ReceiptId = Annotated[Identifier, AfterValidator(_no_control_characters)]
"""Ids and keys are stored in the operational database and quoted in the integration log, where
control characters (NUL above all, which PostgreSQL cannot hold) would stop processing."""
StoreId = Annotated[ShortText, AfterValidator(_no_control_characters)]
Sku = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_control_characters)]


class ReceiptLineType(StrEnum):
    """Which way the goods (and the money) went on a line; matched case-insensitively on input."""

    PURCHASE = "PURCHASE"
    RETURN = "RETURN"


def _upper_line_type(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class ExtraData(EngageModel):
    """A free name/value pair (receipts send extraData as a list, unlike orders)."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    value: LongText | None = None


class ReceiptDiscount(EngageModel):
    """A discount on a line; `value` as sent (negative reduces the price)."""

    value: Money
    type: ShortText | None = None
    description: ShortText | None = None


class ReceiptItem(EngageModel):
    type: Annotated[ReceiptLineType, BeforeValidator(_upper_line_type)]
    sku: Sku | None = None
    article_number: ShortText | None = None
    article_name: ShortText | None = None
    article_group: ShortText | None = None
    quantity: Quantity
    gross_paid_price: NonNegativeMoney
    """What was paid for the whole line, tax included; positive on RETURN lines too."""
    tax_amount: Money | None = None
    tax_percent: Percent | None = None
    margin_percent: MarginPercent | None = None
    awards_bonus: bool | None = None
    discounts: Annotated[list[ReceiptDiscount], Field(max_length=MAX_COLLECTION_ITEMS)] = []
    extra_data: Annotated[list[ExtraData], Field(max_length=100)] = []


class PaymentMethod(EngageModel):
    type: ShortText | None = None
    description: ShortText | None = None
    value: Money
    """Amount paid with the method; negative for a refund."""


class TaxDetail(EngageModel):
    """Tax per rate on the whole receipt: value = totalIncludingTax - totalExcludingTax."""

    description: ShortText | None = None
    value: Money
    percent: Percent | None = None
    total_including_tax: Money | None = None
    total_excluding_tax: Money | None = None


class UsedBonusCheck(EngageModel):
    """A loyalty bonus check redeemed as payment on the receipt."""

    check_number: Annotated[str, Field(min_length=1, max_length=128)]
    value: Money | None = None
    description: ShortText | None = None


class UsedPromotion(EngageModel):
    """A promotion redeemed on the receipt, by its id, its code or both."""

    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    code: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    description: ShortText | None = None
    value: Money | None = None

    @model_validator(mode="after")
    def _names_a_promotion(self) -> UsedPromotion:
        if self.id is None and self.code is None:
            raise PydanticCustomError("PromotionUnnamed", "Give the promotion's id, code or both.")
        return self


class Receipt(EngageModel):
    """A receipt as posted: registered once per `uniqueReceiptId`, never changed."""

    unique_receipt_id: ReceiptId
    receipt_number: ShortText | None = None
    created_date: OffsetDatetime
    store_external_id: StoreId | None = None
    currency: CurrencyCode | None = None
    exchange_rate_to_group_currency: ExchangeRate | None = None
    total_gross_price: Money
    """What the customer paid in all; negative for a return receipt."""
    contact: ContactReference | None = None
    items: Annotated[list[ReceiptItem], Field(min_length=1, max_length=MAX_ITEMS)]
    payment_methods: Annotated[list[PaymentMethod], Field(max_length=MAX_COLLECTION_ITEMS)] = []
    tax_details: Annotated[list[TaxDetail], Field(max_length=MAX_COLLECTION_ITEMS)] = []
    used_bonus_checks: Annotated[list[UsedBonusCheck], Field(max_length=MAX_COLLECTION_ITEMS)] = []
    used_promotions: Annotated[list[UsedPromotion], Field(max_length=MAX_COLLECTION_ITEMS)] = []
    extra_data: Annotated[list[ExtraData], Field(max_length=100)] = []


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The canonical JSON of a receipt, as stored and served: the fields that were sent."""
    return receipt.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


class WarningOut(ResponseModel):
    """A processing warning, as the job status and the integration log report it."""

    code: str
    message: str


class ReceiptJobState(ResponseModel):
    """Status of a receipt submission: Queued, Processing, Succeeded (possibly as a duplicate that
    was ignored) or Failed. `uniqueReceiptId`, `duplicate` and `warnings` come with processing."""

    job_id: str
    status: str
    unique_receipt_id: str | None = None
    created_at: datetime
    duplicate: bool | None = None
    warnings: list[WarningOut] | None = None
    errors: list[FieldError] | None = None
