"""Receipts over HTTP, processed by the real Dagster job: registered once, listed, warned about."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
import httpx
import polars as pl
import pyarrow as pa
import pytest

from assets.incremental import append_new
from assets.receipts import RECEIPT_ASSETS, RECEIPT_CHECKS, WATERMARK
from assets.receipts.registration import register_receipts
from assets.receipts.state import APP_ID, receipt_table, registered_documents
from assets.receipts.validation import parse_submissions
from pipelines.definitions import build_definitions
from pipelines.processing import process_pending
from pipelines.resources import resources_from_settings
from pipelines.sensors import receipt_submissions_sensor
from schemas.tables import RECEIPT_LINES, RECEIPT_SUBMISSION_OUTCOMES, RECEIPT_SUBMISSIONS, RECEIPTS
from storage.db import session_scope
from storage.lake import Lake
from storage.settings import EngageSettings
from storage.watermarks import get_watermark
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.lake_files import lake_files
from tests.support.orders import JSON
from tests.support.receipts import (
    PURCHASE,
    RETURN,
    post_receipt,
    receipt_body,
    receipt_job,
    register_articles,
    register_stores,
    succeeded,
    warning_codes,
)

pytestmark = pytest.mark.without_gold

Process = Callable[[], None]
EMAIL = "lena.berg@example.org"
STORE = "Webshop-SE"
SKUS = ("7391-RAIN-BLU-L", "2210-SOCK-GRY-M")
SILVER = (RECEIPTS.name, RECEIPT_LINES.name, RECEIPT_SUBMISSION_OUTCOMES.name)


def create_contact(api: httpx.Client, **fields: str) -> str:
    response = api.post("/contacts", content=json.dumps(fields), headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


def known_world(api: httpx.Client, settings: EngageSettings) -> str:
    """The contact, store and articles the example receipts name; returns the contact id."""
    register_stores(settings, STORE)
    register_articles(settings, *SKUS)
    return create_contact(api, email=EMAIL, firstName="Lena")


def balanced_purchase(receipt_id: str = "SE-WEB-2025-000481-1") -> dict:
    """The purchase example with the 49 SEK shipping fee its lines do not carry taken out."""
    return receipt_body(PURCHASE, receipt_id, totalGrossPrice=1257.0, taxDetails=[])


def lake_frame(settings: EngageSettings, spec) -> pl.DataFrame:
    return Lake(settings.resolved_lake_uri).scan(spec).collect()


def receipts_of(api: httpx.Client, contact_id: str, **params: str | int) -> dict:
    response = api.get("/receipts", params={"contactId": contact_id, **params})
    assert response.status_code == 200, response.text
    return response.json()


@LAKE_INCIDENTAL
def test_purchase_and_return_are_registered_and_listed_newest_first(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    contact_id = known_world(api, settings)
    bought = post_receipt(api, balanced_purchase())
    returned = post_receipt(api, receipt_body(RETURN))
    assert receipt_job(api, bought).json()["status"] == "Queued"

    process()

    for job_id, receipt_id in (
        (bought, "SE-WEB-2025-000481-1"),
        (returned, "SE-WEB-2025-000481-R1"),
    ):
        state = succeeded(api, job_id)
        assert state["uniqueReceiptId"] == receipt_id
        assert state["duplicate"] is False
        assert "warnings" not in state, state["warnings"]
    page = receipts_of(api, contact_id)
    assert page["totalCount"] == 2
    assert [item["uniqueReceiptId"] for item in page["items"]] == [
        "SE-WEB-2025-000481-R1",
        "SE-WEB-2025-000481-1",
    ]
    latest = page["items"][0]
    assert latest["contactId"] == contact_id
    assert latest["totalGrossPrice"] == -129.0
    assert latest["items"][0]["quantity"] == -1
    assert latest["createdDate"] == "2025-11-29T11:20:00+01:00"
    assert api.get("/receipts/SE-WEB-2025-000481-1").json()["totalGrossPrice"] == 1257.0

    lines = lake_frame(settings, RECEIPT_LINES).sort("unique_receipt_id", "line_number")
    assert lines["signed_amount"].to_list() == [999.0, 258.0, -129.0]
    assert set(lines["contact_id"]) == {contact_id}
    receipts = lake_frame(settings, RECEIPTS).sort("unique_receipt_id")
    assert receipts["receipt_type"].to_list() == ["Purchase", "Return"]
    assert receipts["business_date"].cast(pl.String).to_list() == ["2025-11-22", "2025-11-29"]


@pytest.mark.lake("local", "s3", "azure")
def test_a_repeated_receipt_is_registered_once_in_the_same_and_a_later_batch(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    contact_id = known_world(api, settings)
    first = post_receipt(api, balanced_purchase())
    same_batch = post_receipt(api, balanced_purchase())
    process()
    later = post_receipt(api, balanced_purchase())
    changed = post_receipt(api, balanced_purchase() | {"receiptNumber": "changed"})
    process()

    assert succeeded(api, first)["duplicate"] is False
    for job_id in (same_batch, later, changed):
        state = succeeded(api, job_id)
        assert state["duplicate"] is True
        assert state["uniqueReceiptId"] == "SE-WEB-2025-000481-1"
    assert "warnings" not in succeeded(api, later)
    assert warning_codes(succeeded(api, changed)) == ["DuplicateDiffers"]

    receipts = lake_frame(settings, RECEIPTS)
    assert receipts.height == 1
    assert receipts["job_id"].to_list() == [first]
    assert receipts["receipt_number"].to_list() == ["000481-1"]
    assert lake_frame(settings, RECEIPT_LINES).height == 2
    outcomes = lake_frame(settings, RECEIPT_SUBMISSION_OUTCOMES)
    assert outcomes.height == 4
    assert outcomes.filter(pl.col("duplicate"))["job_id"].sort().to_list() == sorted(
        [same_batch, later, changed]
    )
    assert receipts_of(api, contact_id)["totalCount"] == 1


def materialize_only(settings: EngageSettings, instance: dg.DagsterInstance, *keys: str) -> None:
    """Run part of the job, as a run that died after these steps would have."""
    result = dg.materialize(
        [*RECEIPT_ASSETS, *RECEIPT_CHECKS],
        selection=list(keys),
        resources=resources_from_settings(settings),
        instance=instance,
    )
    assert result.success


def test_rerun_after_a_crash_before_publishing_registers_nothing_twice(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    contact_id = known_world(api, settings)
    bought = post_receipt(api, balanced_purchase())
    returned = post_receipt(api, receipt_body(RETURN))
    repeated = post_receipt(api, balanced_purchase())
    # The run dies after registering, before the receipt view and the jobs were published.
    materialize_only(settings, dg.DagsterInstance.ephemeral(), *SILVER)
    assert receipt_job(api, bought).json()["status"] == "Processing"
    again = post_receipt(api, balanced_purchase())
    other = post_receipt(api, balanced_purchase("SE-WEB-2025-000482-1"))

    process()

    assert succeeded(api, bought)["duplicate"] is False
    assert succeeded(api, returned)["duplicate"] is False
    assert succeeded(api, other)["duplicate"] is False
    assert succeeded(api, repeated)["duplicate"] is True
    assert succeeded(api, again)["duplicate"] is True
    receipts = lake_frame(settings, RECEIPTS)
    assert sorted(receipts["job_id"]) == sorted([bought, returned, other])
    assert lake_frame(settings, RECEIPT_LINES).height == 5
    assert sorted(lake_frame(settings, RECEIPT_SUBMISSION_OUTCOMES)["job_id"]) == sorted(
        [bought, returned, repeated, again, other]
    )
    assert receipts_of(api, contact_id)["totalCount"] == 3


def test_rerun_after_a_crash_between_the_receipt_appends_registers_nothing_twice(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    known_world(api, settings)
    bought = post_receipt(api, balanced_purchase())
    repeated = post_receipt(api, balanced_purchase())
    # What the first attempt wrote before it died: the receipts, not their lines nor outcomes.
    lake = Lake(settings.resolved_lake_uri)
    through = lake.version(RECEIPT_SUBMISSIONS)
    submissions = parse_submissions(lake.read_changes(RECEIPT_SUBMISSIONS, 0, through))
    batch = register_receipts(
        submissions, registered_documents(lake, {"SE-WEB-2025-000481-1"}, 0), lambda _: None, {}
    )
    table = receipt_table(batch.receipts, datetime.now(UTC))
    assert append_new(lake, RECEIPTS, table, 0, through, APP_ID) == 1

    process()

    assert succeeded(api, bought)["duplicate"] is False
    assert succeeded(api, repeated)["duplicate"] is True
    assert lake_frame(settings, RECEIPTS)["job_id"].to_list() == [bought]
    assert lake_frame(settings, RECEIPT_LINES).height == 2
    with session_scope(settings.resolved_database_url) as session:
        assert get_watermark(session, WATERMARK) == through


def log_entries(api: httpx.Client) -> dict[str, list[dict]]:
    """Integration-log entries of type Receipts, by job id."""
    response = api.get("/integration-log", params={"type": "Receipts", "count": 100})
    assert response.status_code == 200, response.text
    entries: dict[str, list[dict]] = {}
    for entry in response.json()["items"]:
        assert entry["type"] == "Receipts"
        entries.setdefault(entry["jobId"], []).append(entry)
    return entries


@LAKE_INCIDENTAL
def test_missing_contact_store_and_articles_are_warnings_and_the_receipt_is_stored(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    unknown = post_receipt(api, balanced_purchase())
    anonymous = receipt_body(RETURN)
    del anonymous["contact"]
    nameless = post_receipt(api, anonymous)
    process()

    state = succeeded(api, unknown)
    assert warning_codes(state) == ["ArticleMissing", "ContactMissing", "StoreMissing"]
    assert warning_codes(succeeded(api, nameless)) == [
        "ArticleMissing",
        "ContactMissing",
        "StoreMissing",
    ]
    entries = log_entries(api)
    messages = {entry["code"]: entry["message"] for entry in entries[unknown]}
    assert messages["ContactMissing"] == "Contact is missing"
    assert messages["StoreMissing"].startswith("Store is missing")
    assert messages["ArticleMissing"].startswith("Article is missing")
    assert {entry["severity"] for entry in entries[unknown]} == {"Warning"}
    receipts = lake_frame(settings, RECEIPTS)
    assert receipts.height == 2
    assert receipts["contact_id"].to_list() == [None, None]

    # Once the contact, the store and the articles exist, the next receipt is clean.
    known_world(api, settings)
    later = post_receipt(api, balanced_purchase("SE-WEB-2025-000483-1"))
    process()
    assert "warnings" not in succeeded(api, later)
    assert later not in log_entries(api)


@LAKE_INCIDENTAL
def test_numbers_that_do_not_add_up_are_warnings_not_failures(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    contact_id = known_world(api, settings)
    purchase = receipt_body(PURCHASE)  # its totalGrossPrice includes 49 SEK shipping
    purchase["items"][0]["taxAmount"] = 150.0
    purchase["taxDetails"][0]["value"] = 250.0
    odd = receipt_body(RETURN, "SE-WEB-2025-000481-R2")
    odd["items"][0]["quantity"] = 1
    odd["totalGrossPrice"] = 129.0
    off = post_receipt(api, purchase)
    signs = post_receipt(api, odd)
    process()

    state = succeeded(api, off)
    assert warning_codes(state) == ["LineSumMismatch", "TaxMismatch", "TaxMismatch"]
    paths = sorted(warning["message"].split(":")[0] for warning in state["warnings"])
    assert paths == ["/items/0/taxAmount", "/taxDetails/0/value", "/totalGrossPrice"]
    assert warning_codes(succeeded(api, signs)) == [
        "LineSumMismatch",
        "SignConvention",
        "SignConvention",
    ]
    codes = {entry["code"] for entry in log_entries(api)[off]}
    assert codes == {"LineSumMismatch", "TaxMismatch"}
    assert receipts_of(api, contact_id)["totalCount"] == 2


@LAKE_INCIDENTAL
def test_a_landed_body_that_breaks_the_format_fails_its_job(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    """Bronze may hold rows an older intake accepted: processing fails them with their errors."""
    body = receipt_body(PURCHASE)
    body["items"][1]["grossPaidPrice"] = -258.0
    job_id = str(uuid.uuid4())
    row = {
        "job_id": job_id,
        "unique_receipt_id": body["uniqueReceiptId"],
        "landed_at": datetime.now(UTC),
        "batch_position": 0,
        "api_key_id": "older-intake",
        "body": json.dumps(body),
        "contact_match_key": EMAIL,
        "contact_match_key_type": "Email",
    }
    lake = Lake(settings.resolved_lake_uri)
    lake.append(RECEIPT_SUBMISSIONS, pa.Table.from_pylist([row], RECEIPT_SUBMISSIONS.arrow_schema))
    good = post_receipt(api, balanced_purchase())

    process()

    failed = receipt_job(api, job_id)
    assert failed.status_code == 422, failed.text
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert [(e["path"], e["code"]) for e in failed.json()["errors"]] == [
        ("/items/1/grossPaidPrice", "OutOfRange")
    ]
    assert succeeded(api, good)["duplicate"] is False
    assert lake_frame(settings, RECEIPTS)["job_id"].to_list() == [good]
    entries = log_entries(api)[job_id]
    assert [(entry["severity"], entry["code"]) for entry in entries] == [("Error", "OutOfRange")]


@LAKE_INCIDENTAL
def test_the_sensor_starts_a_receipts_run_for_new_submissions_only(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dg.SensorResult | dg.SkipReason:
        resources = resources_from_settings(settings)
        return receipt_submissions_sensor(
            dg.build_sensor_context(instance=instance, resources=resources)
        )

    assert isinstance(evaluate(), dg.SkipReason)
    post_receipt(api, balanced_purchase())
    requested = evaluate()
    assert isinstance(requested, dg.SensorResult)
    version = Lake(settings.resolved_lake_uri).version(RECEIPT_SUBMISSIONS)
    assert [request.run_key for request in requested.run_requests] == [
        f"receipt_submissions-v{version}|loyalty_ledger-w0,receipt_submissions-w0"
    ]
    process()
    assert isinstance(evaluate(), dg.SkipReason)


@LAKE_INCIDENTAL
def test_a_backlog_of_receipts_is_registered_in_runs_of_at_most_max_changes_per_run(
    api: httpx.Client, settings: EngageSettings
) -> None:
    capped = settings.model_copy(update={"max_changes_per_run": 1})
    jobs = [post_receipt(api, balanced_purchase(f"SE-WEB-BACKLOG-{n}")) for n in range(3)]
    job = build_definitions(capped).resolve_job_def("process_receipts")
    instance = dg.DagsterInstance.ephemeral()
    assert job.execute_in_process(instance=instance).success
    assert [receipt_job(api, job_id).json()["status"] for job_id in jobs] == [
        "Succeeded",
        "Queued",
        "Queued",
    ]
    assert process_pending(capped, instance=instance)
    assert all(succeeded(api, job_id) for job_id in jobs)
    assert lake_frame(settings, RECEIPTS).height == 3


def test_personal_data_stays_out_of_statistics_and_run_metadata(
    api: httpx.Client, settings: EngageSettings, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = post_receipt(api, receipt_body(PURCHASE))
    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(settings).resolve_job_def("process_receipts")
    result = job.execute_in_process(instance=instance)
    assert result.success
    succeeded(api, job_id)

    lake = Lake(settings.resolved_lake_uri)
    specs = (RECEIPT_SUBMISSIONS, RECEIPTS, RECEIPT_LINES, RECEIPT_SUBMISSION_OUTCOMES)
    log_texts = [
        data.decode()
        for spec in specs
        for path, data in lake_files(lake, f"{spec.path}/_delta_log")
        if path.endswith(".json")
    ]
    assert any("SE-WEB-2025-000481-1" in text for text in log_texts)
    events = "\n".join(str(record.dagster_event) for record in instance.all_logs(result.run_id))
    events += "\n".join(record.getMessage() for record in caplog.records)
    for text in [*log_texts, events]:
        assert EMAIL not in text
