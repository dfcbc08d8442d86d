"""Personal data extract (SPEC 2.4), end to end: request over HTTP, build by the real Dagster job,
download the document; the run's record never names the person."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
import pytest

from pipelines.definitions import build_definitions
from pipelines.gdpr_extract import personal_data_extract_sensor
from pipelines.resources import resources_from_settings
from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import create_contact, soft_delete
from tests.support.installations import LAKE_INCIDENTAL, REFUSED_BEFORE_THE_LAKE
from tests.support.orders import change, order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded
from tests.support.server import client

UNKNOWN_ID = "3f2b9c4e-0000-4000-8000-000000000000"
"""A well-formed id that names nothing (fixed, so parallel workers collect the same tests)."""

Process = Callable[[], None]
LENA = "lena.berg@example.org"  # the contact of the example receipt
PER = "per.holm@example.org"
CREATED_STATUS = order_body()["externalStatus"]
SHIPPED = {
    "status": "InProgress",
    "externalStatus": "Shipped",
    "action": {"action": "ConfirmShipment", "language": "sv-SE"},
}


@dataclass(frozen=True)
class Shop:
    lena: str
    per: str
    lena_order: str
    lena_tags: tuple[str, str]
    lena_jobs: frozenset[str]
    per_order: str
    receipt_id: str


@pytest.fixture
def shop(api: httpx.Client, process: Process) -> Shop:
    """Lena: an order changed once (two versions, the change with an embedded action, so a
    communication), a receipt (so loyalty points); Per: an order of his own, changed the same way.
    Everything processed and the communications delivered."""
    lena = create_contact(api, {"email": LENA, "firstName": "Lena", "lastName": "Berg"})
    per = create_contact(api, {"email": PER, "firstName": "Per"})
    created = {
        order_id: post_order(
            api, order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})
        )
        for order_id, email in (("EXT-LENA-1", LENA), ("EXT-PER-1", PER))
    }
    changed = {order_id: change(api, order_id, "change-status", SHIPPED) for order_id in created}
    receipt = receipt_body(receipt_id="EXT-RECEIPT-1")
    receipt_job = post_receipt(api, receipt)
    process()
    succeeded(api, receipt_job)
    tags = (succeeded_tag(api, created["EXT-LENA-1"]), succeeded_tag(api, changed["EXT-LENA-1"]))
    return Shop(
        lena=lena,
        per=per,
        lena_order="EXT-LENA-1",
        lena_tags=tags,
        lena_jobs=frozenset({created["EXT-LENA-1"], changed["EXT-LENA-1"], receipt_job}),
        per_order="EXT-PER-1",
        receipt_id=receipt["uniqueReceiptId"],
    )


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:engage-orders:problem:{code}"
    return body


def request_extract(api: httpx.Client, contact_id: str) -> str:
    response = api.post(f"/contacts/{contact_id}/personal-data-extract")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body == {"requestId": body["requestId"], "status": "Pending"}
    assert response.headers["location"] == f"/api/v3/gdpr/requests/{body['requestId']}"
    return body["requestId"]


def request_of(api: httpx.Client, request_id: str) -> dict[str, Any]:
    response = api.get(f"/gdpr/requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.json()


def run_extract_job(
    settings: EngageSettings, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("extract_personal_data")
    result = job.execute_in_process(instance=instance)
    assert result.success
    return result


def test_an_extract_holds_everything_about_the_contact_and_nothing_else(
    api: httpx.Client, settings: EngageSettings, shop: Shop
) -> None:
    request_id = request_extract(api, shop.lena)

    pending = request_of(api, request_id)
    assert (pending["kind"], pending["status"], pending["completedAt"]) == (
        "extract",
        "Pending",
        None,
    )
    assert pending["eraseAfter"] is None
    assert "extractUrl" not in pending
    problem(api.get(f"/gdpr/requests/{request_id}/extract"), 409, "ExtractNotReady")

    instance = dg.DagsterInstance.ephemeral()
    result = run_extract_job(settings, instance)

    completed = request_of(api, request_id)
    assert completed["status"] == "Completed"
    assert completed["completedAt"] is not None
    assert completed["extractUrl"] == f"/api/v3/gdpr/requests/{request_id}/extract"
    response = api.get(completed["extractUrl"].removeprefix("/api/v3"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="personal-data-{request_id}.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()

    assert set(document) == {
        "generatedAt",
        "contact",
        "orders",
        "receipts",
        "communications",
        "loyalty",
        "integrationLog",
    }
    # The contact exactly as GET /contacts/{id} shows it.
    assert document["contact"] == api.get(f"/contacts/{shop.lena}").json()
    assert document["contact"]["email"] == LENA

    # Every version of the order, oldest first, with the version's own document.
    [order] = document["orders"]
    assert order["orderId"] == shop.lena_order
    versions = order["versions"]
    assert [version["versionTag"] for version in versions] == list(shop.lena_tags)
    assert [version["versionNumber"] for version in versions] == [1, 2]
    assert [version["isDeleted"] for version in versions] == [False, False]
    assert [version["externalStatus"] for version in versions] == [CREATED_STATUS, "Shipped"]
    assert all(version["orderId"] == shop.lena_order for version in versions)
    assert all(version["processedAt"] for version in versions)
    current = api.get(f"/orders/{shop.lena_order}").json()
    assert {key: versions[-1][key] for key in current} == current

    [receipt] = document["receipts"]
    assert receipt == api.get(f"/receipts/{shop.receipt_id}").json()

    [communication] = document["communications"]
    assert communication["action"] == "ConfirmShipment"
    assert communication["orderId"] == shop.lena_order
    assert communication["contactId"] == shop.lena
    assert communication["versionTag"] == shop.lena_tags[1]
    assert communication["status"] == "Sent"
    assert communication["recipient"] == LENA
    assert communication["subject"]
    assert communication["body"]
    assert communication["sentAt"] is not None

    loyalty = api.get(f"/contacts/{shop.lena}/loyalty").json()
    assert loyalty["balance"] > 0
    by_id = sorted(loyalty["ledger"]["items"], key=lambda entry: entry["entryId"])
    assert sorted(document["loyalty"], key=lambda entry: entry["entryId"]) == by_id
    assert {entry["uniqueReceiptId"] for entry in document["loyalty"]} == {shop.receipt_id}

    # The integration-log entries about the contact's jobs and orders, and only those.
    logged = document["integrationLog"]
    assert logged, "the order and receipt name an unknown store and articles"
    for entry in logged:
        assert entry["jobId"] in shop.lena_jobs or entry["orderId"] == shop.lena_order, entry
    everything = api.get("/integration-log", params={"count": 100}).json()["items"]
    about_lena = [
        entry
        for entry in everything
        if entry["jobId"] in shop.lena_jobs or entry["orderId"] == shop.lena_order
    ]
    assert sorted(entry["id"] for entry in logged) == sorted(entry["id"] for entry in about_lena)

    # Nothing of Per.
    text = response.text
    for value in (shop.per, PER, shop.per_order):
        assert value not in text

    # The run is visible in Dagster, under its job, and names nobody.
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    assert run.job_name == "extract_personal_data"
    [materialised] = [
        event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_OUTPUT
    ]
    metadata = materialised.event_specific_data.metadata  # type: ignore[union-attr]
    assert metadata["extracts_built"].value == 1
    assert metadata["extracts_failed"].value == 0
    assert metadata["bytes"].value == len(response.content)
    record = "\n".join(
        [
            *(str(entry.dagster_event) for entry in instance.all_logs(result.run_id)),
            *(entry.user_message for entry in instance.all_logs(result.run_id)),
            json.dumps(run.tags),
            json.dumps(run.run_config),
        ]
    )
    assert request_id in record
    for value in (
        shop.lena,
        shop.per,
        LENA,
        PER,
        "Lena",
        "Berg",
        shop.lena_order,
        shop.per_order,
        shop.receipt_id,
        *shop.lena_tags,
    ):
        assert value not in record, value


@LAKE_INCIDENTAL
def test_process_builds_pending_extracts(api: httpx.Client, process: Process, shop: Shop) -> None:
    request_id = request_extract(api, shop.per)

    process()

    assert request_of(api, request_id)["status"] == "Completed"
    document = api.get(f"/gdpr/requests/{request_id}/extract").json()
    assert document["contact"]["contactId"] == shop.per
    assert [order["orderId"] for order in document["orders"]] == [shop.per_order]
    assert document["receipts"] == []
    assert document["loyalty"] == []
    assert LENA not in json.dumps(document)


@LAKE_INCIDENTAL
def test_a_contact_deleted_before_the_build_gets_a_failed_extract(
    api: httpx.Client, settings: EngageSettings, shop: Shop
) -> None:
    request_id = request_extract(api, shop.lena)
    soft_delete(api, shop.lena)

    run_extract_job(settings, dg.DagsterInstance.ephemeral())

    request = request_of(api, request_id)
    assert (request["status"], request["completedAt"]) == ("Failed", None)
    assert "extractUrl" not in request
    problem(api.get(f"/gdpr/requests/{request_id}/extract"), 409, "ExtractFailed")


@LAKE_INCIDENTAL
def test_the_sensor_launches_one_run_per_set_of_pending_requests(
    api: httpx.Client, settings: EngageSettings
) -> None:
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=instance, resources=resources_from_settings(settings)
        )
        return personal_data_extract_sensor(context)

    assert isinstance(evaluate(), dg.SkipReason)  # nothing pending
    contact = create_contact(api, {"email": PER})
    request_id = request_extract(api, contact)

    due = evaluate()
    assert isinstance(due, dg.SensorResult)
    [run_request] = due.run_requests
    assert run_request.run_key is not None
    assert run_request.run_key.startswith("extract-")
    assert run_request.run_key == evaluate().run_requests[0].run_key  # type: ignore[union-attr]
    for value in (contact, PER):
        assert value not in json.dumps(run_request.tags) + run_request.run_key

    job = build_definitions(settings).resolve_job_def("extract_personal_data")
    assert job.execute_in_process(instance=instance, tags=run_request.tags).success
    assert isinstance(evaluate(), dg.SkipReason)  # built
    assert request_of(api, request_id)["status"] == "Completed"


@pytest.mark.parametrize("contact_id", [UNKNOWN_ID, "not-a-guid"])
@LAKE_INCIDENTAL
def test_an_unknown_contact_has_no_extract(api: httpx.Client, contact_id: str) -> None:
    problem(api.post(f"/contacts/{contact_id}/personal-data-extract"), 404, "ContactNotFound")


@LAKE_INCIDENTAL
def test_a_deleted_contact_has_no_extract(api: httpx.Client) -> None:
    contact = create_contact(api, {"email": PER})
    soft_delete(api, contact)

    problem(api.post(f"/contacts/{contact}/personal-data-extract"), 404, "ContactNotFound")


@REFUSED_BEFORE_THE_LAKE
def test_extracts_need_the_gdpr_scope(
    api: httpx.Client, intake_url: str, settings: EngageSettings
) -> None:
    contact = create_contact(api, {"email": PER})
    request_id = request_extract(api, contact)
    calls = [
        ("POST", f"/contacts/{contact}/personal-data-extract"),
        ("GET", f"/gdpr/requests/{request_id}/extract"),
    ]
    reader = make_key(settings, Scope.CONTACTS_READ, Scope.CONTACTS_WRITE, Scope.ORDERS_READ)
    with client(intake_url, None) as anonymous, client(intake_url, reader) as other:
        for method, path in calls:
            problem(anonymous.request(method, path), 401, "MissingApiKey")
            problem(other.request(method, path), 403, "MissingScope")
    with client(intake_url, make_key(settings, Scope.GDPR)) as officer:
        assert request_extract(officer, contact) != request_id
        problem(officer.get(f"/gdpr/requests/{request_id}/extract"), 409, "ExtractNotReady")
