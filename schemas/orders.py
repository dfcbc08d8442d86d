"""Orders v3 request bodies (SPEC 2.1) and the business rules checked before anything is landed."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.common import (
    EngageModel,
    Identifier,
    JsonObject,
    LanguageTag,
    LongText,
    Money,
    OffsetDatetime,
    Percent,
    ShortText,
)
from schemas.problems import FieldError

SUBTOTAL_TOLERANCE = Decimal("0.01")
"""How far `subTotal` may be from the sum of line totals: integrators round per line."""

MAX_LINES = 1000
MAX_COLLECTION_ITEMS = 200


class MatchKeyType(StrEnum):
    """How an order names its contact; matched case-insensitively on input."""

    CONTACT_ID = "ContactId"
    EMAIL = "Email"
    MOBILE_PHONE = "MobilePhone"
    SOCIAL_SECURITY_NUMBER = "SocialSecurityNumber"
    MEMBER_NUMBER = "MemberNumber"
    EXTERNAL_ID = "ExternalId"


_MATCH_KEY_TYPES = {member.value.lower(): member.value for member in MatchKeyType}


def _canonical_match_key_type(value: Any) -> Any:
    if isinstance(value, str):
        return _MATCH_KEY_TYPES.get(value.lower(), value)
    return value


class LineType(StrEnum):
    PURCHASE = "Purchase"
    RETURN = "Return"


class ReturnType(StrEnum):
    NORMAL = "Normal"
    COMPLAINT = "Complaint"
    CHANGE = "Change"


ItemT = TypeVar("ItemT")


class ItemCollection(EngageModel, Generic[ItemT]):
    """Engage wraps every list in an object with `items`."""

    items: Annotated[list[ItemT], Field(max_length=MAX_COLLECTION_ITEMS)] = []


class Discount(EngageModel):
    type: ShortText | None = None
    description: ShortText | None = None
    amount: Money


class Tax(EngageModel):
    description: ShortText | None = None
    percent: Percent | None = None
    amount: Money


class Payment(EngageModel):
    type: ShortText | None = None
    description: ShortText | None = None
    amount: Money


class Fee(EngageModel):
    type: ShortText | None = None
    description: ShortText | None = None
    amount: Money


class ContactReference(EngageModel):
    match_key: Annotated[str, Field(min_length=1, max_length=255)]
    match_key_type: Annotated[MatchKeyType, BeforeValidator(_canonical_match_key_type)]


class Article(EngageModel):
    sku: Annotated[str, Field(min_length=1, max_length=128)]
    name: ShortText | None = None
    description: LongText | None = None
    image_uri: Annotated[str, Field(max_length=2048)] | None = None
    target_uri: Annotated[str, Field(max_length=2048)] | None = None


class ReturnDetails(EngageModel):
    type: ReturnType
    reason: ShortText | None = None


class LineItem(EngageModel):
    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    type: LineType = LineType.PURCHASE
    external_status: ShortText | None = None
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]
    article: Article
    discounts: ItemCollection[Discount] | None = None
    return_details: ReturnDetails | None = None
    price_per_unit: Money | None = None
    original_price_per_unit: Money | None = None
    total_price: Money
    original_total_price: Money | None = None
    taxes: ItemCollection[Tax] | None = None
    group: ShortText | None = None


class LineItems(EngageModel):
    items: Annotated[list[LineItem], Field(max_length=MAX_LINES)]
    sub_total: Money | None = None


class Delivery(EngageModel):
    method: ShortText | None = None
    tracking_number: ShortText | None = None
    tracking_uri: Annotated[str, Field(max_length=2048)] | None = None
    delivery_date: OffsetDatetime | None = None


class Address(EngageModel):
    title: ShortText | None = None
    firstname: ShortText | None = None
    lastname: ShortText | None = None
    care_of: ShortText | None = None
    street: ShortText | None = None
    zip_code: Annotated[str, Field(max_length=32)] | None = None
    city: ShortText | None = None
    country: ShortText | None = None
    country_code: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    email: ShortText | None = None
    mobile_phone: Annotated[str, Field(max_length=32)] | None = None


class EmbeddedAction(EngageModel):
    """An action to run once the change carrying it has been processed (SPEC 2.2)."""

    action: Annotated[str, Field(min_length=1, max_length=100)]
    language: LanguageTag | None = None
    data: JsonObject | None = None


class Order(EngageModel):
    """A whole order, as posted to create it or put to replace it."""

    order_id: Identifier
    contact: ContactReference
    external_store_id: ShortText | None = None
    status: ShortText | None = None
    external_status: ShortText | None = None
    references: Annotated[list[Identifier], Field(max_length=100)] = []
    currency_code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    channel: ShortText | None = None
    created_at: OffsetDatetime
    last_changed_at: OffsetDatetime | None = None
    line_items: LineItems
    payments: ItemCollection[Payment] | None = None
    fees: ItemCollection[Fee] | None = None
    discounts: ItemCollection[Discount] | None = None
    taxes: ItemCollection[Tax] | None = None
    delivery: Delivery | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    extra_data: JsonObject | None = None
    action: EmbeddedAction | None = None


class ChangeStatus(EngageModel):
    status: ShortText | None = None
    external_status: ShortText | None = None
    last_changed_at: OffsetDatetime | None = None
    action: EmbeddedAction | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ChangeStatus:
        if self.status is None and self.external_status is None:
            raise PydanticCustomError("NothingToChange", "Give status, externalStatus or both.")
        return self


class ChangeDelivery(EngageModel):
    method: ShortText | None = None
    tracking_number: ShortText | None = None
    tracking_uri: Annotated[str, Field(max_length=2048)] | None = None
    delivery_date: OffsetDatetime | None = None
    action: EmbeddedAction | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ChangeDelivery:
        fields = (self.method, self.tracking_number, self.tracking_uri, self.delivery_date)
        if all(value is None for value in fields):
            raise PydanticCustomError(
                "NothingToChange",
                "Give at least one of method, trackingNumber, trackingUri, deliveryDate.",
            )
        return self


def order_rule_errors(order: Order, statuses: Collection[str]) -> list[FieldError]:
    """Business rules of SPEC 2.1 that a well-formed order can still break.

    They are checked at the intake (400, nothing landed) and again by the pipeline's pandera
    models, which guard data that reached bronze by any other way.
    """
    errors = [*_line_errors(order), *_sub_total_errors(order)]
    if order.status is not None and order.status not in statuses:
        errors.append(_unknown_status("/status", order.status, statuses))
    return errors


def change_status_rule_errors(change: ChangeStatus, statuses: Collection[str]) -> list[FieldError]:
    if change.status is not None and change.status not in statuses:
        return [_unknown_status("/status", change.status, statuses)]
    return []


def _line_errors(order: Order) -> list[FieldError]:
    errors: list[FieldError] = []
    seen_ids: set[str] = set()
    for index, line in enumerate(order.line_items.items):
        path = f"/lineItems/items/{index}"
        if line.type is LineType.RETURN and line.return_details is None:
            errors.append(
                FieldError(
                    path=f"{path}/returnDetails",
                    code="ReturnDetailsMissing",
                    message="A Return line must have returnDetails.",
                )
            )
        if line.id is not None and line.id in seen_ids:
            errors.append(
                FieldError(
                    path=f"{path}/id", code="DuplicateLineId", message="Line ids must be unique."
                )
            )
        if line.id is not None:
            seen_ids.add(line.id)
    return errors


def _sub_total_errors(order: Order) -> list[FieldError]:
    sub_total = order.line_items.sub_total
    if sub_total is None:
        return []
    line_sum = sum((line.total_price for line in order.line_items.items), Decimal(0))
    if abs(line_sum - sub_total) <= SUBTOTAL_TOLERANCE:
        return []
    return [
        FieldError(
            path="/lineItems/subTotal",
            code="SubTotalMismatch",
            message=f"subTotal {sub_total} differs from the sum of line totalPrice {line_sum}.",
        )
    ]


def _unknown_status(path: str, status: str, statuses: Collection[str]) -> FieldError:
    allowed = ", ".join(statuses)
    return FieldError(
        path=path, code="UnknownStatus", message=f"Unknown status '{status}'; one of: {allowed}."
    )
