"""From landed bronze rows to parsed changes, re-checked against the business rules with pandera.

The intake normally stops a body that breaks the rules, but bronze may hold rows landed by an older
intake or repaired by hand: the pipeline must reject them with the same codes and paths.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandera.errors
import polars as pl
import pytest

from assets.orders.changes import change_seq
from assets.orders.validation import ValidatedBatch, check_rules, parse_changes
from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.frames import (
    ORDER_CHANGE_POLARS_SCHEMA,
    ORDER_LINE_POLARS_SCHEMA,
    OrderLineFrame,
    order_change_schema,
)
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.problems import FieldError
from schemas.tables import ORDER_CHANGES

STATUSES = ("InProgress", "Completed", "Cancelled")
LANDED_AT = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text()


def create_body(change: Callable[[dict[str, Any]], object] = lambda body: None) -> str:
    """The order-create example as JSON, after `change` edited a copy of it."""
    body = copy.deepcopy(json.loads(example_text("order-create.json")))
    change(body)
    return json.dumps(body)


def bronze_schema() -> pl.Schema:
    """bronze order_changes as the pipeline reads it: the table's columns and the commit version."""
    empty = pl.from_arrow(ORDER_CHANGES.arrow_schema.empty_table())
    assert isinstance(empty, pl.DataFrame)
    return pl.Schema({**empty.schema, "_commit_version": pl.Int64})


def row(
    job_id: str,
    change_type: str,
    body: str | None,
    *,
    commit: int = 1,
    position: int = 0,
    order_id: str = "WEB-2025-000481",
    if_match: str | None = None,
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "order_id": order_id,
        "change_type": change_type,
        "landed_at": LANDED_AT,
        "batch_position": position,
        "api_key_id": "key-1",
        "if_match": if_match,
        "body": body,
        "contact_match_key": None,
        "contact_match_key_type": None,
        "_commit_version": commit,
    }


def bronze(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=bronze_schema())


def validated(*rows: dict[str, Any], statuses: tuple[str, ...] = STATUSES) -> ValidatedBatch:
    """parse_changes then check_rules, as the pipeline runs them."""
    batch = parse_changes(bronze(*rows))
    check_rules(batch, statuses)
    return batch


def rejections(batch: ValidatedBatch, job_id: str) -> list[tuple[str, str]]:
    return sorted((error.path, error.code) for error in batch.rejected.get(job_id, []))


# --- parsing landed rows -----------------------------------------------------------------------


def test_bronze_frame_has_the_order_changes_columns() -> None:
    assert bronze_schema().names() == [*ORDER_CHANGES.column_names, "_commit_version"]


def test_changes_come_out_in_landing_order_with_their_change_seq() -> None:
    batch = parse_changes(
        bronze(
            row("c", "delete", None, commit=3, position=0),
            row("b", "delete", None, commit=2, position=1),
            row("a", "delete", None, commit=2, position=0),
            row("d", "delete", None, commit=3, position=2),
        )
    )

    assert [change.job_id for change in batch.changes] == ["a", "b", "c", "d"]
    assert [change.change_seq for change in batch.changes] == [
        change_seq(2, 0),
        change_seq(2, 1),
        change_seq(3, 0),
        change_seq(3, 2),
    ]


def test_parsed_change_carries_the_landed_facts() -> None:
    batch = parse_changes(
        bronze(
            row("job-1", "change_status", example_text("order-change-status.json"), if_match="T")
        )
    )

    [change] = batch.changes
    assert (change.job_id, change.order_id, change.change_type) == (
        "job-1",
        "WEB-2025-000481",
        "change_status",
    )
    assert change.landed_at == LANDED_AT
    assert change.if_match == "T"


def test_each_change_type_is_parsed_with_its_model() -> None:
    batch = parse_changes(
        bronze(
            row("create", "create", example_text("order-create.json"), position=0),
            row("replace", "replace", example_text("order-create.json"), position=1),
            row("status", "change_status", example_text("order-change-status.json"), position=2),
            row(
                "delivery",
                "change_delivery",
                example_text("order-change-delivery.json"),
                position=3,
            ),
            row("delete", "delete", None, position=4),
        )
    )

    assert batch.rejected == {}
    payloads = {change.job_id: change.payload for change in batch.changes}
    assert isinstance(payloads["create"], Order)
    assert isinstance(payloads["replace"], Order)
    assert isinstance(payloads["status"], ChangeStatus)
    assert isinstance(payloads["delivery"], ChangeDelivery)
    assert payloads["delete"] is None


def test_unparseable_body_is_rejected_with_its_format_error() -> None:
    batch = parse_changes(bronze(row("job-1", "create", '{"orderId": ')))

    assert rejections(batch, "job-1") == [("", "MalformedJson")]
    [change] = batch.changes
    assert change.payload is None


def test_body_with_format_errors_is_rejected_with_pointers() -> None:
    def broken(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][0]["foo"] = 1
        body["createdAt"] = "2025-11-20T09:41:07"

    batch = parse_changes(bronze(row("job-1", "replace", create_body(broken))))

    assert rejections(batch, "job-1") == [
        ("/createdAt", "OffsetRequired"),
        ("/lineItems/items/0/foo", "UnknownField"),
    ]


def test_create_without_a_body_is_rejected() -> None:
    batch = parse_changes(bronze(row("job-1", "create", None)))

    assert rejections(batch, "job-1") == [("", "Required")]


def test_empty_change_status_is_rejected_with_nothing_to_change() -> None:
    batch = parse_changes(bronze(row("job-1", "change_status", "{}")))

    assert rejections(batch, "job-1") == [("", "NothingToChange")]


# --- business rules (check_rules) --------------------------------------------------------------


def test_valid_rows_are_not_rejected() -> None:
    batch = validated(
        row("create", "create", example_text("order-create.json"), position=0),
        row("status", "change_status", example_text("order-change-status.json"), position=1),
        row("delivery", "change_delivery", example_text("order-change-delivery.json"), position=2),
        row("delete", "delete", None, position=3),
    )

    assert batch.rejected == {}
    assert batch.error_counts == {}
    assert len(batch.changes) == 4


def test_delete_rows_without_a_body_pass_the_rules() -> None:
    batch = validated(row("delete-1", "delete", None), row("delete-2", "delete", None, position=1))

    assert batch.rejected == {}


def test_sub_total_mismatch_is_rejected_at_the_sub_total() -> None:
    body = create_body(lambda body: body["lineItems"].update(subTotal=1300.0))

    batch = validated(row("job-1", "create", body))

    assert rejections(batch, "job-1") == [("/lineItems/subTotal", "SubTotalMismatch")]


@pytest.mark.parametrize(("first", "second", "sub_total"), [(100.0, 0.3, 100.31), (0.3, 0.0, 0.31)])
def test_sub_total_exactly_a_cent_off_is_accepted_like_at_the_intake(
    first: float, second: float, sub_total: float
) -> None:
    def cent_off(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][0]["totalPrice"] = first
        body["lineItems"]["items"][1]["totalPrice"] = second
        body["lineItems"]["subTotal"] = sub_total

    batch = validated(row("job-1", "create", create_body(cent_off)))

    assert batch.rejected == {}


def test_missing_sub_total_is_not_checked() -> None:
    batch = validated(row("job-1", "create", create_body(lambda b: b["lineItems"].pop("subTotal"))))

    assert batch.rejected == {}


def test_return_line_without_return_details_is_rejected_at_the_line() -> None:
    body = create_body(lambda body: body["lineItems"]["items"][1].update(type="Return"))

    batch = validated(row("job-1", "replace", body))

    assert rejections(batch, "job-1") == [
        ("/lineItems/items/1/returnDetails", "ReturnDetailsMissing")
    ]


def test_return_line_with_return_details_is_accepted() -> None:
    def returned(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][1].update(type="Return", returnDetails={"type": "Normal"})

    batch = validated(row("job-1", "create", create_body(returned)))

    assert batch.rejected == {}


def test_status_outside_the_allowed_set_is_unknown_status() -> None:
    body = create_body(lambda body: body.update(status="Shipped"))

    batch = validated(row("job-1", "create", body))

    assert rejections(batch, "job-1") == [("/status", "UnknownStatus")]


def test_change_status_outside_the_allowed_set_is_unknown_status() -> None:
    batch = validated(row("job-1", "change_status", '{"status": "Shipped"}'))

    assert rejections(batch, "job-1") == [("/status", "UnknownStatus")]


def test_allowed_statuses_are_the_configured_ones() -> None:
    body = create_body(lambda body: body.update(status="Open"))

    batch = validated(
        row("job-1", "create", body),
        row("job-2", "change_status", '{"status": "InProgress"}', position=1),
        statuses=("Open", "Closed"),
    )

    assert list(batch.rejected) == ["job-2"]
    assert rejections(batch, "job-2") == [("/status", "UnknownStatus")]


def test_every_broken_rule_of_one_change_is_reported() -> None:
    def broken(body: dict[str, Any]) -> None:
        body["status"] = "Lost"
        body["lineItems"]["subTotal"] = 5.0
        body["lineItems"]["items"][0].update(type="Return")

    batch = validated(row("job-1", "create", create_body(broken)))

    assert rejections(batch, "job-1") == [
        ("/lineItems/items/0/returnDetails", "ReturnDetailsMissing"),
        ("/lineItems/subTotal", "SubTotalMismatch"),
        ("/status", "UnknownStatus"),
    ]


def test_only_the_breaking_changes_are_rejected() -> None:
    batch = validated(
        row("good", "create", example_text("order-create.json"), position=0),
        row("bad", "create", create_body(lambda b: b.update(status="Lost")), position=1),
        row("gone", "delete", None, commit=2, position=0),
    )

    assert list(batch.rejected) == ["bad"]
    assert [change.job_id for change in batch.changes] == ["good", "bad", "gone"]


def test_rows_rejected_for_format_keep_only_their_format_errors() -> None:
    batch = validated(
        row("job-1", "create", "not json", position=0),
        row("job-2", "create", create_body(lambda b: b.update(status="Lost")), position=1),
    )

    assert rejections(batch, "job-1") == [("", "MalformedJson")]
    assert rejections(batch, "job-2") == [("/status", "UnknownStatus")]


def test_rule_errors_carry_a_readable_message() -> None:
    body = create_body(lambda body: body["lineItems"].update(subTotal=1.0))

    [error] = validated(row("job-1", "create", body)).rejected["job-1"]

    assert error.message
    assert "subTotal" in error.message


def test_check_rules_on_an_empty_batch_rejects_nothing() -> None:
    batch = validated()

    assert batch.changes == []
    assert batch.rejected == {}


# --- error counts ------------------------------------------------------------------------------


def test_error_counts_count_errors_by_code() -> None:
    batch = ValidatedBatch(
        changes=[],
        rejected={
            "job-1": [
                FieldError(path="/status", code="UnknownStatus", message="x"),
                FieldError(path="/lineItems/subTotal", code="SubTotalMismatch", message="x"),
            ],
            "job-2": [FieldError(path="/status", code="UnknownStatus", message="x")],
        },
    )

    assert batch.error_counts == {"UnknownStatus": 2, "SubTotalMismatch": 1}


def test_error_counts_of_a_validated_batch() -> None:
    batch = validated(
        row("job-1", "create", "{", position=0),
        row("job-2", "create", create_body(lambda b: b.update(status="Lost")), position=1),
        row("job-3", "change_status", '{"status": "Lost"}', position=2),
        row("job-4", "delete", None, position=3),
    )

    assert batch.error_counts == {"MalformedJson": 1, "UnknownStatus": 2}


# --- the pandera frames themselves -------------------------------------------------------------


def failing_checks(schema: Any, frame: pl.DataFrame) -> set[str]:
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        schema.validate(frame, lazy=True)
    return set(caught.value.failure_cases["check"].to_list())


def test_order_change_frame_names_failed_checks_by_their_error_codes() -> None:
    frame = pl.DataFrame(
        [
            {
                "job_id": "job-1",
                "order_id": "A",
                "change_type": "create",
                "status": "Lost",
                "sub_total": 10.0,
                "line_total": 12.0,
            }
        ],
        schema=ORDER_CHANGE_POLARS_SCHEMA,
    )

    assert failing_checks(order_change_schema(STATUSES), frame) == {
        "UnknownStatus",
        "SubTotalMismatch",
    }


def test_order_line_frame_names_the_return_details_check_by_its_code() -> None:
    frame = pl.DataFrame(
        [
            {
                "job_id": "job-1",
                "line_index": 0,
                "line_type": "Return",
                "return_type": None,
                "sku": "S",
                "quantity": 1,
                "total_price": 1.0,
            }
        ],
        schema=ORDER_LINE_POLARS_SCHEMA,
    )

    assert failing_checks(OrderLineFrame.to_schema(), frame) == {"ReturnDetailsMissing"}
