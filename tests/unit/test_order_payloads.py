"""Orders v3 request bodies: parsing, the error codes and JSON-pointer paths an integrator reads,
and the business rules checked before a change is landed (SPEC 2.1)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.orders import (
    ChangeDelivery,
    ChangeStatus,
    MatchKeyType,
    Order,
    change_status_rule_errors,
    order_rule_errors,
)
from schemas.problems import FieldError, field_errors_from_validation, json_pointer

STATUSES = ("InProgress", "Completed", "Cancelled")


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def create_body(change: Callable[[dict[str, Any]], object] = lambda body: None) -> str:
    """The order-create example as JSON, after `change` edited a copy of it."""
    body = copy.deepcopy(example("order-create.json"))
    change(body)
    return json.dumps(body)


def errors_of(model: type[BaseModel], raw: str) -> list[tuple[str, str]]:
    """(path, code) of every error the intake would answer for this body."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(raw)
    return [(error.path, error.code) for error in field_errors_from_validation(caught.value)]


def first_line(body: dict[str, Any]) -> dict[str, Any]:
    return body["lineItems"]["items"][0]


def order_with(change: Callable[[dict[str, Any]], object]) -> Order:
    return Order.model_validate_json(create_body(change))


def codes(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(error.path, error.code) for error in errors]


# --- the example bodies ------------------------------------------------------------------------


def test_create_example_parses_into_an_order() -> None:
    order = Order.model_validate_json((EXAMPLES / "order-create.json").read_text())

    assert order.order_id == "WEB-2025-000481"
    assert order.contact.match_key_type is MatchKeyType.EMAIL
    assert [line.article.sku for line in order.line_items.items] == [
        "7391-RAIN-BLU-L",
        "2210-SOCK-GRY-M",
    ]
    assert order.line_items.sub_total == Decimal("1257.0")
    assert order.created_at.utcoffset() is not None
    assert order.action is not None
    assert order.action.action == "ConfirmOrder"


def test_change_status_example_parses() -> None:
    change = ChangeStatus.model_validate_json((EXAMPLES / "order-change-status.json").read_text())

    assert change.status == "InProgress"
    assert change.external_status == "Shipped"
    assert change.action is not None
    assert change.action.action == "ConfirmShipment"


def test_change_delivery_example_parses() -> None:
    raw = (EXAMPLES / "order-change-delivery.json").read_text()
    change = ChangeDelivery.model_validate_json(raw)

    assert change.method == "Budbee"
    assert change.tracking_number == "BB123456789SE"
    assert change.delivery_date is not None


def test_example_order_breaks_no_business_rule() -> None:
    order = Order.model_validate_json(create_body())

    assert order_rule_errors(order, STATUSES) == []


@pytest.mark.parametrize("spelling", ["email", "EMAIL", "eMaIl", "Email"])
def test_match_key_type_is_case_insensitive(spelling: str) -> None:
    order = order_with(lambda body: body["contact"].update(matchKeyType=spelling))

    assert order.contact.match_key_type is MatchKeyType.EMAIL
    assert order.model_dump(mode="json", by_alias=True)["contact"]["matchKeyType"] == "Email"


def test_unknown_match_key_type_is_an_invalid_value() -> None:
    raw = create_body(lambda body: body["contact"].update(matchKeyType="Twitter"))

    assert errors_of(Order, raw) == [("/contact/matchKeyType", "InvalidValue")]


# --- format errors: codes and JSON pointers ----------------------------------------------------


def test_unknown_field_in_a_line_is_reported_at_its_pointer() -> None:
    raw = create_body(lambda body: first_line(body).update(foo="bar"))

    assert errors_of(Order, raw) == [("/lineItems/items/0/foo", "UnknownField")]


def test_unknown_top_level_field_is_rejected() -> None:
    raw = create_body(lambda body: body.update(orderNumber="x"))

    assert errors_of(Order, raw) == [("/orderNumber", "UnknownField")]


def test_snake_case_field_names_are_unknown_on_the_wire() -> None:
    raw = create_body(lambda body: body.update(order_id=body.pop("orderId")))

    assert sorted(errors_of(Order, raw)) == [
        ("/orderId", "Required"),
        ("/order_id", "UnknownField"),
    ]


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        (lambda body: first_line(body).pop("quantity"), "/lineItems/items/0/quantity"),
        (lambda body: first_line(body)["article"].pop("sku"), "/lineItems/items/0/article/sku"),
        (lambda body: first_line(body).pop("totalPrice"), "/lineItems/items/0/totalPrice"),
        (lambda body: body.pop("orderId"), "/orderId"),
        (lambda body: body.pop("contact"), "/contact"),
        (lambda body: body.pop("createdAt"), "/createdAt"),
    ],
    ids=["quantity", "sku", "totalPrice", "orderId", "contact", "createdAt"],
)
def test_missing_required_field_is_reported_at_its_pointer(
    remove: Callable[[dict[str, Any]], object], path: str
) -> None:
    assert errors_of(Order, create_body(remove)) == [(path, "Required")]


def test_missing_return_details_type_is_required() -> None:
    def return_line_without_type(body: dict[str, Any]) -> None:
        first_line(body).update(type="Return", returnDetails={"reason": "Too small"})

    assert errors_of(Order, create_body(return_line_without_type)) == [
        ("/lineItems/items/0/returnDetails/type", "Required")
    ]


@pytest.mark.parametrize("quantity", [1.5, "1", True, None])
def test_quantity_must_be_an_integer(quantity: object) -> None:
    raw = create_body(lambda body: first_line(body).update(quantity=quantity))

    assert errors_of(Order, raw) == [("/lineItems/items/0/quantity", "InvalidType")]


def test_negative_quantity_is_out_of_range() -> None:
    raw = create_body(lambda body: first_line(body).update(quantity=-1))

    assert errors_of(Order, raw) == [("/lineItems/items/0/quantity", "OutOfRange")]


def test_money_as_a_string_is_number_expected() -> None:
    raw = create_body(lambda body: first_line(body).update(totalPrice="3"))

    assert errors_of(Order, raw) == [("/lineItems/items/0/totalPrice", "NumberExpected")]


def test_money_with_more_than_four_decimals_is_too_many_decimals() -> None:
    raw = create_body(lambda body: first_line(body).update(totalPrice=1.23456))

    assert errors_of(Order, raw) == [("/lineItems/items/0/totalPrice", "TooManyDecimals")]


def test_money_with_four_decimals_is_kept_exactly() -> None:
    order = order_with(lambda body: first_line(body).update(totalPrice=999.1234))

    assert order.line_items.items[0].total_price == Decimal("999.1234")


def test_nested_collection_amount_errors_point_into_the_collection() -> None:
    raw = create_body(lambda body: body["payments"]["items"][0].update(amount="1306"))

    assert errors_of(Order, raw) == [("/payments/items/0/amount", "NumberExpected")]


def test_date_without_offset_is_offset_required() -> None:
    raw = create_body(lambda body: body.update(createdAt="2025-11-20T09:41:07"))

    assert errors_of(Order, raw) == [("/createdAt", "OffsetRequired")]


def test_offset_required_message_shows_an_example() -> None:
    raw = create_body(lambda body: body.update(createdAt="2025-11-20T09:41:07"))
    with pytest.raises(ValidationError) as caught:
        Order.model_validate_json(raw)

    [error] = field_errors_from_validation(caught.value)
    assert "offset" in error.message
    assert "+01:00" in error.message


@pytest.mark.parametrize("value", ["2025-11-20", "yesterday", "2025-13-40T25:00:00+01:00", ""])
def test_date_only_or_garbage_date_is_invalid_date_time(value: str) -> None:
    raw = create_body(lambda body: body.update(createdAt=value))

    assert errors_of(Order, raw) == [("/createdAt", "InvalidDateTime")]


def test_delivery_date_without_offset_in_change_delivery_is_offset_required() -> None:
    raw = json.dumps({"deliveryDate": "2025-11-22T18:00:00"})

    assert errors_of(ChangeDelivery, raw) == [("/deliveryDate", "OffsetRequired")]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number_in_extra_data_is_invalid_number(literal: str) -> None:
    # json.dumps would write NaN itself; splice the literal into the raw text instead.
    raw = create_body(lambda body: body.update(extraData={"score": {"deep": ["@N@"]}}))
    raw = raw.replace('"@N@"', literal)

    assert errors_of(Order, raw) == [("/extraData", "InvalidNumber")]


def test_non_finite_number_in_action_data_is_invalid_number() -> None:
    raw = create_body(lambda body: body["action"].update(data={"points": "@N@"}))
    raw = raw.replace('"@N@"', "NaN")

    assert errors_of(Order, raw) == [("/action/data", "InvalidNumber")]


def test_non_finite_number_in_change_status_action_data_is_invalid_number() -> None:
    raw = '{"status": "Completed", "action": {"action": "Thanks", "data": {"x": Infinity}}}'

    assert errors_of(ChangeStatus, raw) == [("/action/data", "InvalidNumber")]


def test_non_finite_money_is_invalid_number() -> None:
    raw = create_body(lambda body: first_line(body).update(totalPrice="@N@"))
    raw = raw.replace('"@N@"', "NaN")

    assert errors_of(Order, raw) == [("/lineItems/items/0/totalPrice", "InvalidNumber")]


def test_finite_numbers_in_extra_data_are_accepted() -> None:
    order = order_with(lambda body: body.update(extraData={"a": 1.5, "b": [1, {"c": -2e10}]}))

    assert order.extra_data == {"a": 1.5, "b": [1, {"c": -2e10}]}


@pytest.mark.parametrize("raw", ['{"orderId": ', "{'orderId': 'x'}", "", "not json"])
def test_malformed_json_is_reported_on_the_whole_body(raw: str) -> None:
    assert errors_of(Order, raw) == [("", "MalformedJson")]


def test_a_json_array_body_is_invalid_type_on_the_whole_body() -> None:
    assert errors_of(Order, "[]") == [("", "InvalidType")]


def test_several_errors_are_all_reported() -> None:
    def break_twice(body: dict[str, Any]) -> None:
        first_line(body).pop("quantity")
        body["lineItems"]["items"][1].update(totalPrice="258")

    assert sorted(errors_of(Order, create_body(break_twice))) == [
        ("/lineItems/items/0/quantity", "Required"),
        ("/lineItems/items/1/totalPrice", "NumberExpected"),
    ]


# --- JSON pointers (RFC 6901) ------------------------------------------------------------------


def test_json_pointer_of_the_body_is_empty() -> None:
    assert json_pointer([]) == ""


def test_json_pointer_joins_keys_and_indexes() -> None:
    assert json_pointer(["lineItems", "items", 0, "article", "sku"]) == (
        "/lineItems/items/0/article/sku"
    )


def test_json_pointer_escapes_tilde_and_slash_in_extra_data_keys() -> None:
    assert json_pointer(["extraData", "size/colour", "a~b", 3]) == "/extraData/size~1colour/a~0b/3"


def test_json_pointer_escapes_tilde_before_slash() -> None:
    # "~1" must become "~01" (a literal ~ then 1), not be mistaken for an escaped slash.
    assert json_pointer(["~1", "/0"]) == "/~01/~10"


def test_field_errors_escape_keys_of_free_form_objects() -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(dict[str, dict[str, int]]).validate_python({"a/b": {"c~d": "x"}})

    [error] = field_errors_from_validation(caught.value)
    assert error.path == "/a~1b/c~0d"


# --- change-status and change-delivery bodies --------------------------------------------------


def test_empty_change_status_is_nothing_to_change() -> None:
    assert errors_of(ChangeStatus, "{}") == [("", "NothingToChange")]


def test_change_status_with_only_last_changed_at_is_nothing_to_change() -> None:
    raw = json.dumps({"lastChangedAt": "2025-11-21T14:02:00+01:00"})

    assert errors_of(ChangeStatus, raw) == [("", "NothingToChange")]


def test_change_status_with_only_external_status_is_accepted() -> None:
    change = ChangeStatus.model_validate_json('{"externalStatus": "Packed"}')

    assert change.external_status == "Packed"
    assert change.status is None


def test_empty_change_delivery_is_nothing_to_change() -> None:
    assert errors_of(ChangeDelivery, "{}") == [("", "NothingToChange")]


def test_change_status_rejects_unknown_fields() -> None:
    assert errors_of(ChangeStatus, '{"status": "Completed", "state": "x"}') == [
        ("/state", "UnknownField")
    ]


def test_change_status_with_a_known_status_breaks_no_rule() -> None:
    change = ChangeStatus.model_validate_json('{"status": "Completed"}')

    assert change_status_rule_errors(change, STATUSES) == []


def test_change_status_with_an_unknown_status_is_unknown_status() -> None:
    change = ChangeStatus.model_validate_json('{"status": "Shipped"}')

    assert codes(change_status_rule_errors(change, STATUSES)) == [("/status", "UnknownStatus")]


def test_change_status_without_status_breaks_no_status_rule() -> None:
    change = ChangeStatus.model_validate_json('{"externalStatus": "Whatever"}')

    assert change_status_rule_errors(change, STATUSES) == []


# --- business rules of a whole order -----------------------------------------------------------


def test_return_line_without_return_details_is_return_details_missing() -> None:
    def second_line_returned(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][1].update(type="Return")

    order = order_with(second_line_returned)

    assert codes(order_rule_errors(order, STATUSES)) == [
        ("/lineItems/items/1/returnDetails", "ReturnDetailsMissing")
    ]


def test_return_line_with_return_details_is_fine() -> None:
    def second_line_returned(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][1].update(
            type="Return", returnDetails={"type": "Complaint", "reason": "Hole in the heel"}
        )

    assert order_rule_errors(order_with(second_line_returned), STATUSES) == []


def test_sub_total_off_by_more_than_a_cent_is_sub_total_mismatch() -> None:
    order = order_with(lambda body: body["lineItems"].update(subTotal=1257.02))

    assert codes(order_rule_errors(order, STATUSES)) == [
        ("/lineItems/subTotal", "SubTotalMismatch")
    ]


@pytest.mark.parametrize("sub_total", [1257.01, 1256.99, 1257.0])
def test_sub_total_within_a_cent_is_accepted(sub_total: float) -> None:
    order = order_with(lambda body: body["lineItems"].update(subTotal=sub_total))

    assert order_rule_errors(order, STATUSES) == []


def test_missing_sub_total_is_not_checked() -> None:
    order = order_with(lambda body: body["lineItems"].pop("subTotal"))

    assert order_rule_errors(order, STATUSES) == []


def test_unknown_order_status_is_unknown_status() -> None:
    order = order_with(lambda body: body.update(status="Shipped"))

    [error] = order_rule_errors(order, STATUSES)
    assert (error.path, error.code) == ("/status", "UnknownStatus")
    assert "InProgress" in error.message


def test_order_without_status_breaks_no_status_rule() -> None:
    assert order_rule_errors(order_with(lambda body: body.pop("status")), STATUSES) == []


def test_duplicate_line_id_is_reported_on_the_second_line() -> None:
    order = order_with(lambda body: body["lineItems"]["items"][1].update(id="1"))

    assert codes(order_rule_errors(order, STATUSES)) == [
        ("/lineItems/items/1/id", "DuplicateLineId")
    ]


def test_lines_without_ids_are_not_duplicates() -> None:
    def no_ids(body: dict[str, Any]) -> None:
        for line in body["lineItems"]["items"]:
            line.pop("id")

    assert order_rule_errors(order_with(no_ids), STATUSES) == []


def test_all_rule_violations_are_reported_together() -> None:
    def break_everything(body: dict[str, Any]) -> None:
        body.update(status="Lost")
        body["lineItems"]["subTotal"] = 1.0
        body["lineItems"]["items"][1].update(id="1", type="Return")

    errors = codes(order_rule_errors(order_with(break_everything), STATUSES))

    assert sorted(errors) == [
        ("/lineItems/items/1/id", "DuplicateLineId"),
        ("/lineItems/items/1/returnDetails", "ReturnDetailsMissing"),
        ("/lineItems/subTotal", "SubTotalMismatch"),
        ("/status", "UnknownStatus"),
    ]


# --- writing orders back -----------------------------------------------------------------------


def test_money_dumps_as_json_numbers() -> None:
    order = Order.model_validate_json(create_body())

    dumped = order.model_dump(mode="json", by_alias=True)
    line = dumped["lineItems"]["items"][0]
    assert line["totalPrice"] == 999.0
    assert isinstance(line["totalPrice"], float)
    assert isinstance(dumped["lineItems"]["subTotal"], float)
    assert dumped["lineItems"]["items"][0]["taxes"]["items"][0]["amount"] == 199.8
    assert '"totalPrice":999.0' in order.model_dump_json(by_alias=True)


def test_dumped_order_parses_back_to_the_same_order() -> None:
    order = Order.model_validate_json(create_body())

    again = Order.model_validate_json(order.model_dump_json(by_alias=True))

    assert again == order


def test_dump_uses_camel_case_and_keeps_the_offset() -> None:
    dumped = Order.model_validate_json(create_body()).model_dump(mode="json", by_alias=True)

    assert dumped["orderId"] == "WEB-2025-000481"
    assert dumped["createdAt"] == "2025-11-20T09:41:07+01:00"
    assert "order_id" not in dumped
