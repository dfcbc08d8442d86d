"""Applying landed order changes to order state (SPEC 2.1 semantics), and order documents."""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl
import pytest

from assets.orders.changes import (
    CHANGE_SEQ_BITS,
    AppliedBatch,
    LandedChange,
    OrderState,
    Outcome,
    Payload,
    apply_changes,
    change_seq,
    first_seq_after,
)
from assets.orders.documents import (
    line_frame,
    order_document,
    order_type,
    state_columns,
    version_tag_for,
)
from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.problems import FieldError, ProcessingWarning

ORDER_ID = "WEB-2025-000481"
CONTACT_ID = "contact-lena"
LANDED_AT = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)
BASE_SEQ = change_seq(1, 0)
"""The base state was made by a change landed in bronze commit 1; the batch lands in commit 2."""


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def order(change: Callable[[dict[str, Any]], object] = lambda body: None) -> Order:
    """The order-create example, after `change` edited a copy of it."""
    body = copy.deepcopy(example("order-create.json"))
    change(body)
    return Order.model_validate_json(json.dumps(body))


def change_status(body: dict[str, Any] | None = None) -> ChangeStatus:
    return ChangeStatus.model_validate_json(json.dumps(body or example("order-change-status.json")))


def change_delivery(body: dict[str, Any] | None = None) -> ChangeDelivery:
    return ChangeDelivery.model_validate_json(
        json.dumps(body or example("order-change-delivery.json"))
    )


def landed(
    job_id: str,
    change_type: str,
    payload: Payload | None,
    position: int,
    *,
    order_id: str = ORDER_ID,
    if_match: str | None = None,
) -> LandedChange:
    return LandedChange(
        job_id=job_id,
        order_id=order_id,
        change_type=change_type,
        change_seq=change_seq(2, position),
        landed_at=LANDED_AT,
        if_match=if_match,
        payload=payload,
    )


def contacts(known: Mapping[tuple[str, str], str]) -> Callable[[dict[str, Any]], str | None]:
    """A contact resolver backed by a dict of (matchKeyType, matchKey) -> contact id."""

    def resolve(document: dict[str, Any]) -> str | None:
        contact = document.get("contact", {})
        return known.get((contact.get("matchKeyType"), contact.get("matchKey")))

    return resolve


LENA = contacts({("Email", "lena.berg@example.org"): CONTACT_ID})
NOBODY = contacts({})


def stored(document_order: Order | None = None, *, tag: str = "base-tag") -> OrderState:
    """The order as already processed before the batch (version 1)."""
    return OrderState(
        order_id=ORDER_ID,
        version_tag=tag,
        version_number=1,
        change_seq=BASE_SEQ,
        document=order_document(document_order or order()),
        contact_id=CONTACT_ID,
    )


def apply(
    changes: Iterable[LandedChange],
    base: Mapping[str, OrderState] | None = None,
    rejected: Mapping[str, list[FieldError]] | None = None,
    resolve_contact: Callable[[dict[str, Any]], str | None] = LENA,
) -> AppliedBatch:
    return apply_changes(list(changes), base or {}, rejected or {}, resolve_contact)


def only_outcome(batch: AppliedBatch) -> Outcome:
    [outcome] = batch.outcomes
    return outcome


def error_codes(outcome: Outcome) -> list[tuple[str, str]]:
    return [(error.path, error.code) for error in outcome.errors]


def with_base() -> dict[str, OrderState]:
    return {ORDER_ID: stored()}


# --- landing order -----------------------------------------------------------------------------


def test_change_seq_orders_by_commit_then_position() -> None:
    assert change_seq(1, 5) < change_seq(1, 6) < change_seq(2, 0)
    assert change_seq(3, 0) == 3 << CHANGE_SEQ_BITS


def test_first_seq_after_is_above_every_change_of_that_commit() -> None:
    largest_position = (1 << CHANGE_SEQ_BITS) - 1

    assert first_seq_after(4) > change_seq(4, largest_position)
    assert first_seq_after(4) == change_seq(5, 0)


# --- create ------------------------------------------------------------------------------------


def test_create_makes_version_one_tagged_from_the_job() -> None:
    batch = apply([landed("job-1", "create", order(), 0)])

    [version] = batch.versions
    assert version.state.version_number == 1
    assert version.state.version_tag == version_tag_for("job-1")
    assert version.state.document == order_document(order())
    assert version.state.is_deleted is False
    assert (version.job_id, version.change_type, version.landed_at) == (
        "job-1",
        "create",
        LANDED_AT,
    )
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.version_tag == version_tag_for("job-1")
    assert outcome.errors == ()


def test_version_tag_is_sixteen_bytes_base64_and_stable() -> None:
    tag = version_tag_for("job-1")

    assert len(base64.b64decode(tag)) == 16
    assert version_tag_for("job-1") == tag
    assert version_tag_for("job-2") != tag


def test_stored_document_leaves_the_embedded_action_out() -> None:
    document = order_document(order())

    assert "action" not in document
    assert document["orderId"] == ORDER_ID
    assert document["lineItems"]["items"][0]["totalPrice"] == 999.0


def test_identical_create_retry_in_the_same_batch_succeeds_with_the_first_tag() -> None:
    batch = apply([landed("job-1", "create", order(), 0), landed("job-2", "create", order(), 1)])

    assert len(batch.versions) == 1
    assert [outcome.succeeded for outcome in batch.outcomes] == [True, True]
    assert [outcome.version_tag for outcome in batch.outcomes] == [version_tag_for("job-1")] * 2


def test_identical_create_retry_of_a_stored_order_succeeds_with_the_stored_tag() -> None:
    batch = apply([landed("job-2", "create", order(), 0)], base=with_base())

    assert batch.versions == []
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.version_tag == "base-tag"


def test_different_create_for_an_existing_order_fails_with_order_already_exists() -> None:
    other = order(lambda body: body.update(channel="Store"))

    batch = apply([landed("job-2", "create", other, 0)], base=with_base())

    assert batch.versions == []
    outcome = only_outcome(batch)
    assert not outcome.succeeded
    assert outcome.version_tag is None
    assert error_codes(outcome) == [("/orderId", "OrderAlreadyExists")]


def test_create_after_a_delete_makes_the_next_version() -> None:
    tombstone = OrderState(
        ORDER_ID, "deleted-tag", 2, BASE_SEQ, order_document(order()), CONTACT_ID, is_deleted=True
    )

    batch = apply([landed("job-3", "create", order(), 0)], base={ORDER_ID: tombstone})

    [version] = batch.versions
    assert version.state.version_number == 3
    assert not version.state.is_deleted
    assert only_outcome(batch).version_tag == version_tag_for("job-3")


# --- replace -----------------------------------------------------------------------------------


def test_replace_of_an_unknown_order_creates_it() -> None:
    batch = apply([landed("job-1", "replace", order(), 0)])

    [version] = batch.versions
    assert version.state.version_number == 1
    assert version.change_type == "replace"
    assert only_outcome(batch).version_tag == version_tag_for("job-1")


def test_identical_replace_makes_no_new_version() -> None:
    batch = apply([landed("job-2", "replace", order(), 0)], base=with_base())

    assert batch.versions == []
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.version_tag == "base-tag"


def test_replace_with_other_content_makes_the_next_version() -> None:
    replacement = order(
        lambda body: body.update(status="Completed", lastChangedAt="2025-11-22T10:00:00+01:00")
    )

    batch = apply([landed("job-2", "replace", replacement, 0)], base=with_base())

    [version] = batch.versions
    assert version.state.version_number == 2
    assert version.state.document["status"] == "Completed"
    assert version.state.change_seq == change_seq(2, 0)
    assert only_outcome(batch).version_tag == version_tag_for("job-2")


def test_replace_with_an_older_last_changed_at_is_stale() -> None:
    older = order(
        lambda body: body.update(status="Completed", lastChangedAt="2025-11-19T09:41:07+01:00")
    )

    batch = apply([landed("job-2", "replace", older, 0)], base=with_base())

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("/lastChangedAt", "StaleChange")]


def test_replace_older_only_in_another_offset_notation_is_not_stale() -> None:
    # 08:41:07Z is the very instant of the stored 09:41:07+01:00.
    same_instant = order(
        lambda body: body.update(status="Completed", lastChangedAt="2025-11-20T08:41:07Z")
    )

    batch = apply([landed("job-2", "replace", same_instant, 0)], base=with_base())

    assert only_outcome(batch).succeeded
    assert len(batch.versions) == 1


def test_replace_with_an_equal_last_changed_at_is_not_stale() -> None:
    same_time = order(lambda body: body.update(status="Completed"))

    batch = apply([landed("job-2", "replace", same_time, 0)], base=with_base())

    assert only_outcome(batch).succeeded
    assert batch.versions[0].state.document["status"] == "Completed"


# --- delete ------------------------------------------------------------------------------------


def test_delete_makes_a_tombstone_version() -> None:
    batch = apply([landed("job-2", "delete", None, 0)], base=with_base())

    [version] = batch.versions
    assert version.state.is_deleted
    assert version.state.version_number == 2
    assert version.state.version_tag == version_tag_for("job-2")
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.warnings == ()


def test_changes_after_a_delete_fail_with_order_not_found() -> None:
    batch = apply(
        [
            landed("job-2", "delete", None, 0),
            landed("job-3", "change_status", change_status(), 1),
            landed("job-4", "change_delivery", change_delivery(), 2),
            landed("job-5", "delete", None, 3),
        ],
        base=with_base(),
    )

    assert [outcome.succeeded for outcome in batch.outcomes] == [True, False, False, False]
    for outcome in batch.outcomes[1:]:
        assert error_codes(outcome) == [("", "OrderNotFound")]
    assert len(batch.versions) == 1


def test_delete_of_an_unknown_order_fails_with_order_not_found() -> None:
    batch = apply([landed("job-1", "delete", None, 0)])

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("", "OrderNotFound")]


# --- change-status and change-delivery ---------------------------------------------------------


def test_change_status_patches_only_the_fields_given() -> None:
    batch = apply([landed("job-2", "change_status", change_status(), 0)], base=with_base())

    [version] = batch.versions
    document = version.state.document
    assert document["status"] == "InProgress"
    assert document["externalStatus"] == "Shipped"
    assert document["lastChangedAt"] == "2025-11-21T14:02:00+01:00"
    unchanged = {
        key: value
        for key, value in order_document(order()).items()
        if key not in {"externalStatus", "lastChangedAt"}
    }
    assert {key: document[key] for key in unchanged} == unchanged
    assert "action" not in document
    assert version.state.version_number == 2


def test_change_status_with_external_status_only_keeps_the_status() -> None:
    batch = apply(
        [landed("job-2", "change_status", change_status({"externalStatus": "Packed"}), 0)],
        base=with_base(),
    )

    document = batch.versions[0].state.document
    assert document["status"] == "InProgress"
    assert document["externalStatus"] == "Packed"
    assert document["lastChangedAt"] == "2025-11-20T09:41:07+01:00"


def test_identical_change_status_makes_no_version() -> None:
    same = change_status({"status": "InProgress", "externalStatus": "Received"})

    batch = apply([landed("job-2", "change_status", same, 0)], base=with_base())

    assert batch.versions == []
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.version_tag == "base-tag"


def test_change_status_with_an_older_last_changed_at_is_stale() -> None:
    older = change_status({"status": "Completed", "lastChangedAt": "2025-11-19T00:00:00+01:00"})

    batch = apply([landed("job-2", "change_status", older, 0)], base=with_base())

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("/lastChangedAt", "StaleChange")]


def test_change_status_of_an_unknown_order_fails_with_order_not_found() -> None:
    batch = apply([landed("job-1", "change_status", change_status(), 0)])

    assert error_codes(only_outcome(batch)) == [("", "OrderNotFound")]


def test_change_delivery_merges_into_the_existing_delivery() -> None:
    tracking_only = change_delivery({"trackingNumber": "BB123456789SE"})

    batch = apply([landed("job-2", "change_delivery", tracking_only, 0)], base=with_base())

    document = batch.versions[0].state.document
    assert document["delivery"] == {
        "method": "Budbee",
        "deliveryDate": "2025-11-23T18:00:00+01:00",
        "trackingNumber": "BB123456789SE",
    }
    assert document["status"] == "InProgress"
    assert document["lineItems"] == order_document(order())["lineItems"]


def test_change_delivery_overwrites_only_the_fields_given() -> None:
    batch = apply([landed("job-2", "change_delivery", change_delivery(), 0)], base=with_base())

    document = batch.versions[0].state.document
    assert document["delivery"] == {
        "method": "Budbee",
        "trackingNumber": "BB123456789SE",
        "trackingUri": "https://tracking.example.org/BB123456789SE",
        "deliveryDate": "2025-11-22T18:00:00+01:00",
    }
    assert {key: value for key, value in document.items() if key != "delivery"} == {
        key: value for key, value in order_document(order()).items() if key != "delivery"
    }


def test_change_delivery_on_an_order_without_delivery_adds_one() -> None:
    base = {ORDER_ID: stored(order(lambda body: body.pop("delivery")))}

    batch = apply(
        [landed("job-2", "change_delivery", change_delivery({"method": "Pickup"}), 0)], base
    )

    assert batch.versions[0].state.document["delivery"] == {"method": "Pickup"}


def test_identical_change_delivery_makes_no_version() -> None:
    same = change_delivery({"method": "Budbee"})

    batch = apply([landed("job-2", "change_delivery", same, 0)], base=with_base())

    assert batch.versions == []
    assert only_outcome(batch).version_tag == "base-tag"


# --- If-Match ----------------------------------------------------------------------------------


def test_if_match_with_the_current_tag_is_applied() -> None:
    change = landed("job-2", "change_status", change_status(), 0, if_match="base-tag")

    batch = apply([change], base=with_base())

    assert only_outcome(batch).succeeded
    assert len(batch.versions) == 1


def test_if_match_with_another_tag_fails_with_version_conflict() -> None:
    change = landed("job-2", "change_status", change_status(), 0, if_match="old-tag")

    batch = apply([change], base=with_base())

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("", "VersionConflict")]


def test_if_match_on_a_missing_order_fails_with_version_conflict() -> None:
    batch = apply([landed("job-1", "replace", order(), 0, if_match="base-tag")])

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("", "VersionConflict")]


def test_if_match_sees_the_tag_of_an_earlier_change_in_the_same_batch() -> None:
    batch = apply(
        [
            landed("job-2", "change_status", change_status(), 0),
            landed("job-3", "delete", None, 1, if_match=version_tag_for("job-2")),
        ],
        base=with_base(),
    )

    assert [outcome.succeeded for outcome in batch.outcomes] == [True, True]
    assert batch.versions[-1].state.is_deleted


# --- several changes in one batch --------------------------------------------------------------


def test_two_changes_to_one_order_make_two_increasing_versions() -> None:
    batch = apply(
        [
            landed("job-1", "create", order(), 0),
            landed("job-2", "change_status", change_status(), 1),
        ]
    )

    assert [version.state.version_number for version in batch.versions] == [1, 2]
    assert [version.job_id for version in batch.versions] == ["job-1", "job-2"]
    assert batch.versions[1].state.document["externalStatus"] == "Shipped"


def test_changes_are_applied_in_change_seq_order_whatever_the_input_order() -> None:
    changes = [
        landed("job-1", "create", order(), 0),
        landed("job-2", "change_status", change_status(), 1),
        landed("job-3", "change_delivery", change_delivery(), 2),
        landed("job-4", "delete", None, 3),
    ]
    shuffled = changes[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != changes

    batch = apply(shuffled)

    assert [outcome.change.job_id for outcome in batch.outcomes] == [
        "job-1",
        "job-2",
        "job-3",
        "job-4",
    ]
    assert all(outcome.succeeded for outcome in batch.outcomes)
    assert [version.state.version_number for version in batch.versions] == [1, 2, 3, 4]
    assert batch.versions[-1].state.is_deleted


def test_a_change_landed_before_its_create_fails() -> None:
    batch = apply(
        [
            landed("job-2", "create", order(), 1),
            landed("job-1", "change_status", change_status(), 0),
        ]
    )

    assert [outcome.change.job_id for outcome in batch.outcomes] == ["job-1", "job-2"]
    assert error_codes(batch.outcomes[0]) == [("", "OrderNotFound")]
    assert batch.outcomes[1].succeeded


def test_changes_to_different_orders_are_independent() -> None:
    other = order(lambda body: body.update(orderId="WEB-2025-000482"))

    batch = apply(
        [
            landed("job-1", "create", order(), 0),
            landed("job-2", "create", other, 1, order_id="WEB-2025-000482"),
        ]
    )

    assert [(v.state.order_id, v.state.version_number) for v in batch.versions] == [
        (ORDER_ID, 1),
        ("WEB-2025-000482", 1),
    ]


def test_rejected_jobs_fail_with_their_errors_and_the_rest_still_applies() -> None:
    rejected = {"job-2": [FieldError(path="/status", code="UnknownStatus", message="Unknown.")]}

    batch = apply(
        [
            landed("job-1", "create", order(), 0),
            landed("job-2", "change_status", change_status({"status": "Lost"}), 1),
            landed("job-3", "change_delivery", change_delivery(), 2),
        ],
        rejected=rejected,
    )

    assert [outcome.succeeded for outcome in batch.outcomes] == [True, False, True]
    assert error_codes(batch.outcomes[1]) == [("/status", "UnknownStatus")]
    assert [version.job_id for version in batch.versions] == ["job-1", "job-3"]
    assert [version.state.version_number for version in batch.versions] == [1, 2]
    assert batch.versions[1].state.document["status"] == "InProgress"


def test_rejected_job_without_a_payload_fails_without_being_applied() -> None:
    rejected = {"job-1": [FieldError(path="", code="MalformedJson", message="Bad JSON.")]}

    batch = apply([landed("job-1", "create", None, 0)], rejected=rejected)

    assert batch.versions == []
    assert error_codes(only_outcome(batch)) == [("", "MalformedJson")]


# --- contacts and warnings ---------------------------------------------------------------------


def test_unresolved_contact_is_a_contact_missing_warning_and_the_order_is_stored() -> None:
    batch = apply([landed("job-1", "create", order(), 0)], resolve_contact=NOBODY)

    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert outcome.contact_id is None
    assert [(warning.code, warning.message) for warning in outcome.warnings] == [
        ("ContactMissing", "Contact is missing")
    ]
    assert batch.versions[0].state.contact_id is None


def test_resolved_contact_is_set_without_warning() -> None:
    batch = apply([landed("job-1", "create", order(), 0)], resolve_contact=LENA)

    outcome = only_outcome(batch)
    assert outcome.contact_id == CONTACT_ID
    assert outcome.warnings == ()
    assert batch.versions[0].state.contact_id == CONTACT_ID


def test_contact_is_resolved_from_the_new_document() -> None:
    resolver = contacts({("MemberNumber", "M-1"): "contact-member"})
    member = order(
        lambda body: body.update(contact={"matchKey": "M-1", "matchKeyType": "membernumber"})
    )

    batch = apply([landed("job-1", "create", member, 0)], resolve_contact=resolver)

    assert only_outcome(batch).contact_id == "contact-member"


def test_failed_outcome_has_no_warnings_or_contact() -> None:
    batch = apply([landed("job-1", "delete", None, 0)], resolve_contact=NOBODY)

    outcome = only_outcome(batch)
    assert outcome.warnings == ()
    assert outcome.contact_id is None


# --- embedded actions --------------------------------------------------------------------------


def test_embedded_action_is_carried_on_a_succeeded_outcome() -> None:
    batch = apply([landed("job-1", "create", order(), 0)])

    assert only_outcome(batch).action == {
        "action": "ConfirmOrder",
        "language": "sv-SE",
        "data": {"loyaltyLevel": "Gold"},
    }


def test_embedded_action_of_change_status_is_carried_without_version_tag() -> None:
    batch = apply([landed("job-2", "change_status", change_status(), 0)], base=with_base())

    action = only_outcome(batch).action
    assert action == {"action": "ConfirmShipment", "language": "sv-SE"}
    assert "versionTag" not in action


def test_a_failed_outcome_keeps_its_embedded_action_to_discard_it() -> None:
    """The order view discards it with an integration-log entry saying the change failed."""
    batch = apply(
        [landed("job-2", "create", order(lambda b: b.update(channel="X")), 0)], with_base()
    )

    outcome = only_outcome(batch)
    assert not outcome.succeeded
    assert outcome.action is not None
    assert outcome.version_tag is None


def test_no_action_when_the_change_has_none() -> None:
    batch = apply([landed("job-1", "create", order(lambda body: body.pop("action")), 0)])

    assert only_outcome(batch).action is None


# --- determinism -------------------------------------------------------------------------------


def test_applying_the_same_batch_twice_gives_the_same_result() -> None:
    def run() -> AppliedBatch:
        return apply(
            [
                landed("job-2", "change_status", change_status(), 0),
                landed(
                    "job-3", "create", order(lambda b: b.update(orderId="B-1")), 1, order_id="B-1"
                ),
                landed("job-4", "change_delivery", change_delivery(), 2),
                landed("job-5", "delete", None, 3, order_id="missing"),
            ],
            base=with_base(),
        )

    first, second = run(), run()

    assert first == second
    assert [v.state.version_tag for v in first.versions] == [
        version_tag_for("job-2"),
        version_tag_for("job-3"),
        version_tag_for("job-4"),
    ]


def test_base_state_is_not_mutated() -> None:
    base = with_base()
    before = copy.deepcopy(base)

    apply([landed("job-2", "change_delivery", change_delivery(), 0)], base=base)

    assert base == before


# --- documents ---------------------------------------------------------------------------------


def document_with_lines(*types: str | None) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for line_type in types:
        line: dict[str, Any] = {"quantity": 1, "article": {"sku": "S"}, "totalPrice": 10.0}
        if line_type is not None:
            line["type"] = line_type
        lines.append(line)
    return {"lineItems": {"items": lines}}


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (("Purchase", "Purchase"), "Purchase"),
        ((None,), "Purchase"),
        (("Return", "Return"), "Return"),
        (("Purchase", "Return"), "Mixed"),
        ((None, "Return"), "Mixed"),
        ((), "Purchase"),
    ],
)
def test_order_type_is_derived_from_line_types(
    types: tuple[str | None, ...], expected: str
) -> None:
    assert order_type(document_with_lines(*types)) == expected


def line_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The order_lines columns of one document's lines."""
    return line_frame(pl.DataFrame({"document": [orjson.dumps(document).decode()]})).to_dicts()


def test_line_rows_of_the_example_order() -> None:
    rows = line_rows(order_document(order()))

    assert [row["line_number"] for row in rows] == [0, 1]
    first, second = rows
    assert first["line_id"] == "1"
    assert first["sku"] == "7391-RAIN-BLU-L"
    assert first["article_name"] == "Rain jacket"
    assert first["total_price"] == 999.0
    assert first["discount_amount"] == 200.0
    assert first["tax_amount"] == 199.8
    assert second["discount_amount"] is None
    assert second["tax_amount"] is None
    assert second["quantity"] == 2


def test_line_frame_numbers_each_orders_lines_and_skips_orders_without_lines() -> None:
    documents = [
        document_with_lines("Return", None),
        document_with_lines(),
        {"orderId": "no-line-items"},
        document_with_lines("Purchase"),
    ]
    versions = pl.DataFrame(
        {
            "order_id": ["A", "B", "C", "D"],
            "document": [orjson.dumps(document).decode() for document in documents],
        }
    )

    lines = line_frame(versions)

    assert lines.select("order_id", "line_number", "line_type").rows() == [
        ("A", 0, "Return"),
        ("A", 1, "Purchase"),
        ("D", 0, "Purchase"),
    ]


def test_line_rows_sum_several_discounts_and_taxes() -> None:
    def many_amounts(body: dict[str, Any]) -> None:
        line = body["lineItems"]["items"][0]
        line["discounts"] = {"items": [{"amount": 0.1}, {"amount": 0.2}]}
        line["taxes"] = {"items": [{"amount": 1.15}, {"description": "Eco", "amount": 2.2}]}

    [row, _] = line_rows(order_document(order(many_amounts)))

    assert row["discount_amount"] == 0.3  # not 0.30000000000000004
    assert row["tax_amount"] == 3.35


def test_line_rows_carry_return_details() -> None:
    def returned(body: dict[str, Any]) -> None:
        body["lineItems"]["items"][1].update(
            type="Return", returnDetails={"type": "Complaint", "reason": "Hole"}
        )

    rows = line_rows(order_document(order(returned)))

    assert (rows[1]["line_type"], rows[1]["return_type"], rows[1]["return_reason"]) == (
        "Return",
        "Complaint",
        "Hole",
    )
    assert (rows[0]["line_type"], rows[0]["return_type"]) == ("Purchase", None)


def test_state_columns_of_the_example_order() -> None:
    columns = state_columns(order_document(order()))

    assert columns["contact_match_key_type"] == "Email"
    assert columns["status"] == "InProgress"
    assert columns["order_type"] == "Purchase"
    assert columns["line_count"] == 2
    assert columns["sub_total"] == 1257.0
    assert columns["created_at"] == datetime(2025, 11, 20, 8, 41, 7, tzinfo=UTC)


def test_state_columns_sum_lines_when_sub_total_is_absent() -> None:
    def no_sub_total(body: dict[str, Any]) -> None:
        body["lineItems"].pop("subTotal")
        body["lineItems"]["items"][0]["totalPrice"] = 0.1
        body["lineItems"]["items"][1]["totalPrice"] = 0.2

    assert state_columns(order_document(order(no_sub_total)))["sub_total"] == 0.3


def _missing_articles(document: dict[str, Any]) -> tuple[ProcessingWarning, ...]:
    return (ProcessingWarning("ArticleMissing", f"Article is missing ({document['orderId']})"),)


def test_reference_warnings_are_added_to_succeeded_changes_of_live_orders_only() -> None:
    changes = [
        landed("j-create", "create", order(), 0),
        landed("j-status-unknown", "change_status", change_status(), 1, order_id="OTHER"),
        landed("j-delete", "delete", None, 2),
    ]
    batch = apply_changes(changes, {}, {}, LENA, _missing_articles)
    created, failed, deleted = batch.outcomes
    assert [warning.code for warning in created.warnings] == ["ArticleMissing"]
    assert failed.warnings == ()
    assert deleted.warnings == ()


def test_reference_warnings_do_not_stop_the_order_from_being_stored() -> None:
    batch = apply_changes([landed("j-1", "create", order(), 0)], {}, {}, NOBODY, _missing_articles)
    outcome = only_outcome(batch)
    assert outcome.succeeded
    assert [warning.code for warning in outcome.warnings] == ["ContactMissing", "ArticleMissing"]
    assert len(batch.versions) == 1
