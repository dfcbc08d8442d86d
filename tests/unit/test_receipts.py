"""Receipts without HTTP or storage: the strict model, the pandera warning rules, deduplication."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from assets.frame_checks import FrameResult
from assets.incremental import change_seq
from assets.receipts.registration import (
    CONTACT_MISSING,
    Submission,
    canonical_json,
    register_receipts,
)
from assets.receipts.state import line_table, receipt_table
from assets.receipts.validation import check_conventions, convention_warnings, parse_submissions
from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.problems import FieldError, ProcessingWarning, field_errors_from_validation
from schemas.receipts import Receipt, ReceiptLineType, receipt_document
from schemas.tables import RECEIPT_SUBMISSIONS

LANDED_AT = datetime(2025, 11, 22, 18, 0, tzinfo=UTC)


def example(name: str = "receipt-purchase.json") -> dict[str, Any]:
    return copy.deepcopy(json.loads((EXAMPLES / name).read_text()))


def balanced(receipt_id: str = "R-1", **changes: Any) -> dict[str, Any]:
    """The purchase example without the 49 SEK of shipping its lines do not carry."""
    body = example() | {"uniqueReceiptId": receipt_id, "totalGrossPrice": 1257.0}
    body["taxDetails"] = []
    return body | changes


def parse(body: dict[str, Any] | str) -> Receipt:
    return Receipt.model_validate_json(body if isinstance(body, str) else json.dumps(body))


def errors(body: dict[str, Any] | str) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    return [(error.path, error.code) for error in field_errors_from_validation(caught.value)]


# The model ---------------------------------------------------------------------------------------


def test_the_specification_examples_parse() -> None:
    purchase = parse(example())
    assert purchase.contact is not None
    assert purchase.contact.match_key_type.value == "Email"  # sent as "email"
    assert [item.type for item in purchase.items] == [ReceiptLineType.PURCHASE] * 2
    assert str(purchase.total_gross_price) == "1306.0"
    returned = parse(example("receipt-return.json"))
    assert returned.items[0].quantity < 0 < returned.items[0].gross_paid_price


def test_the_document_holds_what_was_sent_and_nothing_else() -> None:
    body = example("receipt-return.json")
    document = receipt_document(parse(body))
    body["contact"]["matchKeyType"] = "Email"  # canonical spelling
    assert document == body
    assert "taxDetails" not in document


def test_line_types_are_matched_case_insensitively() -> None:
    body = example()
    body["items"][0]["type"] = "Purchase"
    body["items"][1]["type"] = "return"
    assert [item.type.value for item in parse(body).items] == ["PURCHASE", "RETURN"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.update(createdDate="2025-11-22T18:05:00"), ("/createdDate", "OffsetRequired")),
        (lambda b: b.update(items=[]), ("/items", "TooShort")),
        (lambda b: b.pop("totalGrossPrice"), ("/totalGrossPrice", "Required")),
        (
            lambda b: b["items"][1].update(grossPaidPrice=-1),
            ("/items/1/grossPaidPrice", "OutOfRange"),
        ),
        (lambda b: b["items"][0].update(quantity="1"), ("/items/0/quantity", "NumberExpected")),
        (
            lambda b: b["items"][0].update(awardsBonus="yes"),
            ("/items/0/awardsBonus", "InvalidType"),
        ),
        (lambda b: b.update(usedBonusChecks=[{}]), ("/usedBonusChecks/0/checkNumber", "Required")),
        (
            lambda b: b.update(paymentMethods=[{"type": "card"}]),
            ("/paymentMethods/0/value", "Required"),
        ),
    ],
)
def test_hard_format_rules(change: Any, expected: tuple[str, str]) -> None:
    body = example()
    change(body)
    assert expected in errors(body)


def test_sign_conventions_and_fractions_are_not_format_errors() -> None:
    body = example("receipt-return.json")
    body["items"][0]["quantity"] = 0.5  # a RETURN line should have a negative quantity
    body["totalGrossPrice"] = 129.0  # and a return receipt a negative total
    body["usedBonusChecks"] = [{"checkNumber": "BC-1", "value": -50.0}]
    body["usedPromotions"] = [{"code": "AUTUMN"}]
    assert parse(body).items[0].quantity == pytest.approx(0.5)


# The pandera warning rules -----------------------------------------------------------------------


def submission(body: dict[str, Any], job_id: str = "job-1", position: int = 0) -> Submission:
    return Submission(
        job_id=job_id,
        unique_receipt_id=body["uniqueReceiptId"],
        api_key_id="key",
        change_seq=change_seq(1, position),
        landed_at=LANDED_AT,
        receipt=parse(body),
    )


def codes(body: dict[str, Any]) -> list[str]:
    found = convention_warnings([submission(body)])
    return sorted(warning.code for warning in found.get("job-1", ()))


def test_balanced_receipts_have_no_warnings() -> None:
    assert codes(balanced()) == []
    assert codes(example("receipt-return.json")) == []


def test_lines_that_do_not_add_up_to_the_total_warn() -> None:
    # The specification's purchase example charges 49 SEK of shipping that no line carries.
    [warning] = convention_warnings([submission(example())])["job-1"]
    assert warning.code == "LineSumMismatch"
    assert warning.message.startswith("/totalGrossPrice: 1306.0 differs")
    assert "1257.0" in warning.message


def test_each_pandera_model_reports_the_rows_it_checked_and_those_that_failed() -> None:
    """What the per-model asset checks show (assets.frame_checks)."""
    # The purchase example: 2 lines and 1 tax detail; its total does not match its lines.
    _, frames = check_conventions([submission(example()), submission(balanced(), "job-2")])
    lines = len(example()["items"]) + len(balanced()["items"])
    details = len(example().get("taxDetails", [])) + len(balanced().get("taxDetails", []))
    assert frames == {
        "ReceiptFrame": FrameResult(2, 1),
        "ReceiptLineFrame": FrameResult(lines, 0),
        "ReceiptTaxDetailFrame": FrameResult(details, 0),
    }


def test_rounding_within_a_cent_is_no_mismatch() -> None:
    assert codes(balanced(totalGrossPrice=1257.01)) == []
    assert codes(balanced(totalGrossPrice=1257.02)) == ["LineSumMismatch"]


def test_returns_count_negative_in_the_line_sum() -> None:
    body = balanced()
    body["items"].append(example("receipt-return.json")["items"][0])
    assert codes(body) == ["LineSumMismatch"]
    body["totalGrossPrice"] = 1257.0 - 129.0
    assert codes(body) == []


def test_tax_amounts_must_follow_the_rate() -> None:
    body = balanced()
    body["items"][1]["taxAmount"] = 51.61  # 258 * 25 / 125 = 51.6: within a cent
    assert codes(body) == []
    body["items"][1]["taxAmount"] = 64.5  # 258 * 25 %: tax added on top, not included
    found = convention_warnings([submission(body)])["job-1"]
    assert [(w.code, w.message.split(":")[0]) for w in found] == [
        ("TaxMismatch", "/items/1/taxAmount")
    ]


def test_a_line_without_tax_amount_or_rate_is_not_checked() -> None:
    body = balanced()
    del body["items"][0]["taxPercent"]
    body["items"][0]["taxAmount"] = 1.0
    assert codes(body) == []


def test_tax_details_value_is_including_minus_excluding() -> None:
    body = example()
    assert codes(body) == ["LineSumMismatch"]
    body["taxDetails"][0]["value"] = 261.0
    assert codes(body) == ["LineSumMismatch", "TaxMismatch"]


def test_line_quantity_signs_follow_the_line_type() -> None:
    body = example("receipt-return.json")
    body["items"][0]["quantity"] = 1
    body["items"].append(balanced()["items"][1] | {"quantity": -2})
    body["totalGrossPrice"] = 129.0
    found = convention_warnings([submission(body)])["job-1"]
    messages = sorted(warning.message for warning in found if warning.code == "SignConvention")
    assert messages == [
        "/items/0/quantity: a RETURN line should have a negative quantity.",
        "/items/1/quantity: a PURCHASE line should have a positive quantity.",
    ]


def test_the_total_sign_follows_receipts_of_one_kind() -> None:
    returned = example("receipt-return.json")
    returned["totalGrossPrice"] = 129.0
    assert codes(returned) == ["LineSumMismatch", "SignConvention"]
    sold = balanced()
    sold["items"][0]["grossPaidPrice"] = 0
    sold["items"][1]["grossPaidPrice"] = 0
    sold["items"][0]["taxAmount"] = sold["items"][1]["taxAmount"] = 0
    sold["totalGrossPrice"] = -0.005
    assert codes(sold) == ["SignConvention"]


def test_warnings_are_kept_apart_by_job() -> None:
    found = convention_warnings(
        [submission(balanced(), "clean"), submission(example(), "off", position=1)]
    )
    assert set(found) == {"off"}


# Registration ------------------------------------------------------------------------------------


def resolver(known: dict[str, str]):
    return lambda contact: known.get(contact.match_key) if contact else None


def test_the_first_landing_of_an_id_wins_and_later_ones_are_duplicates() -> None:
    later = submission(balanced("R-1"), "later", position=2)
    first = submission(balanced("R-1"), "first", position=1)
    other = submission(balanced("R-2"), "other", position=3)
    batch = register_receipts(
        [later, other, first], {}, resolver({"lena.berg@example.org": "c-1"}), {}
    )
    assert [entry.submission.job_id for entry in batch.receipts] == ["first", "other"]
    assert [(o.submission.job_id, o.duplicate) for o in batch.outcomes] == [
        ("first", False),
        ("later", True),
        ("other", False),
    ]
    assert all(outcome.succeeded for outcome in batch.outcomes)
    assert batch.receipts[0].contact_id == "c-1"


def test_a_receipt_registered_before_the_batch_is_a_duplicate() -> None:
    stored = canonical_json(receipt_document(parse(balanced("R-1"))))
    same = submission(balanced("R-1"), "same")
    changed = submission(balanced("R-1", receiptNumber="other"), "changed", position=1)
    batch = register_receipts([same, changed], {"R-1": stored}, resolver({}), {})
    assert batch.receipts == []
    assert [(o.duplicate, [w.code for w in o.warnings]) for o in batch.outcomes] == [
        (True, []),
        (True, ["DuplicateDiffers"]),
    ]


def test_only_the_registered_submission_carries_the_warnings() -> None:
    first = submission(example(), "first")
    again = submission(example(), "again", position=1)
    warnings = convention_warnings([first, again])
    batch = register_receipts([first, again], {}, resolver({}), warnings)
    assert [w.code for w in batch.outcomes[0].warnings] == ["ContactMissing", "LineSumMismatch"]
    assert batch.outcomes[1].warnings == ()


def test_a_body_that_failed_fails_its_job_and_does_not_block_a_later_landing() -> None:
    broken = Submission(
        job_id="broken",
        unique_receipt_id="R-1",
        api_key_id="key",
        change_seq=change_seq(1, 0),
        landed_at=LANDED_AT,
        receipt=None,
        errors=(FieldError(path="/items", code="TooShort", message="..."),),
    )
    good = submission(balanced("R-1"), "good", position=1)
    batch = register_receipts([broken, good], {}, resolver({}), {})
    assert [(o.submission.job_id, o.succeeded) for o in batch.outcomes] == [
        ("broken", False),
        ("good", True),
    ]
    assert batch.outcomes[1].warnings == (CONTACT_MISSING,)
    assert [entry.submission.job_id for entry in batch.receipts] == ["good"]


def test_landed_rows_are_parsed_again_in_landing_order() -> None:
    bad = example() | {"items": []}
    rows = pl.DataFrame(
        [
            _row("second", balanced("R-2"), commit=2, position=0),
            _row("bad", bad, commit=1, position=1),
            _row("first", balanced("R-1"), commit=1, position=0),
        ],
        schema=_bronze_schema(),
    )
    parsed = parse_submissions(rows)
    assert [s.job_id for s in parsed] == ["first", "bad", "second"]
    assert [s.change_seq for s in parsed] == [change_seq(1, 0), change_seq(1, 1), change_seq(2, 0)]
    assert parsed[1].receipt is None
    assert [(e.path, e.code) for e in parsed[1].errors] == [("/items", "TooShort")]


def test_rows_carry_signed_amounts_group_currency_and_the_business_date() -> None:
    body = balanced()
    body["items"].append(example("receipt-return.json")["items"][0])
    body["createdDate"] = "2025-11-22T23:30:00-05:00"
    batch = register_receipts([submission(body)], {}, resolver({}), {})
    receipts = pl.DataFrame(receipt_table(batch.receipts, LANDED_AT))
    lines = pl.DataFrame(line_table(batch.receipts))
    assert receipts["receipt_type"].to_list() == ["Mixed"]
    assert receipts["business_date"].cast(pl.String).to_list() == ["2025-11-22"]
    assert receipts["created_at"].dt.day().to_list() == [23]
    assert receipts["total_gross_price_group"].to_list() == [pytest.approx(1257.0 * 0.087)]
    assert lines["signed_amount"].to_list() == [999.0, 258.0, -129.0]
    assert lines["discount_amount"].to_list() == [-200.0, None, None]


def test_warning_shape_is_code_and_message() -> None:
    assert ProcessingWarning("X", "y").__dict__ == {"code": "X", "message": "y"}


def _row(job_id: str, body: dict[str, Any], commit: int, position: int) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "unique_receipt_id": body["uniqueReceiptId"],
        "landed_at": LANDED_AT,
        "batch_position": position,
        "api_key_id": "key",
        "body": json.dumps(body),
        "contact_match_key": None,
        "contact_match_key_type": None,
        "_commit_version": commit,
    }


def _bronze_schema() -> pl.Schema:
    empty = pl.from_arrow(RECEIPT_SUBMISSIONS.arrow_schema.empty_table())
    assert isinstance(empty, pl.DataFrame)
    return pl.Schema({**empty.schema, "_commit_version": pl.Int64})
