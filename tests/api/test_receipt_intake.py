"""Receipt intake over HTTP: 202 and a job for good receipts; a clear 4xx and nothing landed for bad
ones; receipts cannot be changed or deleted."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from schemas.tables import RECEIPT_SUBMISSIONS
from storage.apikeys import Scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.orders import JSON, order_body, post_order
from tests.support.receipts import (
    PURCHASE,
    RETURN,
    accepted_receipt_job,
    receipt_body,
    receipt_job,
)
from tests.support.server import client


def bronze_rows(settings: EngageSettings) -> int:
    return Lake(settings.resolved_lake_uri).table(RECEIPT_SUBMISSIONS).count()


def assert_nothing_landed(api: httpx.Client, settings: EngageSettings) -> None:
    assert bronze_rows(settings) == 0
    assert api.get("/receipts/jobs").json()["totalCount"] == 0


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


def post(api: httpx.Client, body: dict[str, Any] | str) -> httpx.Response:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api.post("/receipts", content=raw, headers=JSON)


@pytest.mark.parametrize("name", [PURCHASE, RETURN])
def test_example_receipts_are_landed_and_answered_202_with_a_queued_job(
    api: httpx.Client, settings: EngageSettings, name: str
) -> None:
    response = post(api, receipt_body(name))
    job_id = accepted_receipt_job(response)
    assert response.json()["links"] == [
        {"href": f"/api/v3/receipts/jobs/{job_id}", "method": "GET", "rel": "status"}
    ]
    state = receipt_job(api, job_id)
    assert state.status_code == 200
    assert state.json()["status"] == "Queued"
    assert state.json()["createdAt"]
    landed = Lake(settings.resolved_lake_uri).scan(RECEIPT_SUBMISSIONS).collect()
    assert landed["unique_receipt_id"].to_list() == [receipt_body(name)["uniqueReceiptId"]]
    assert landed["contact_match_key_type"].to_list() == ["Email"]
    assert landed["job_id"].to_list() == [job_id]


def test_a_repeated_receipt_is_accepted_too(api: httpx.Client, settings: EngageSettings) -> None:
    """Duplicates are dropped when processed, never refused: a retry must not look like an error."""
    first = accepted_receipt_job(post(api, receipt_body()))
    second = accepted_receipt_job(post(api, receipt_body()))
    assert first != second
    assert bronze_rows(settings) == 2


def test_a_body_is_landed_exactly_as_received(api: httpx.Client, settings: EngageSettings) -> None:
    raw = json.dumps(receipt_body(), indent=2)
    accepted_receipt_job(post(api, raw))
    landed = Lake(settings.resolved_lake_uri).scan(RECEIPT_SUBMISSIONS).collect()
    assert landed["body"].to_list() == [raw]


def _receipt(change: Any) -> dict[str, Any]:
    body = receipt_body()
    change(body)
    return body


def _set(path: list[str | int], value: Any) -> dict[str, Any]:
    def change(body: Any) -> None:
        for step in path[:-1]:
            body = body[step]
        body[path[-1]] = value

    return _receipt(change)


def _drop(path: list[str | int]) -> dict[str, Any]:
    def change(body: Any) -> None:
        for step in path[:-1]:
            body = body[step]
        del body[path[-1]]

    return _receipt(change)


BAD_BODIES = {
    "malformed json": ('{"uniqueReceiptId": "A",', "", "MalformedJson"),
    "not an object": ("[1, 2]", "", "InvalidType"),
    "missing id": (_drop(["uniqueReceiptId"]), "/uniqueReceiptId", "Required"),
    "missing created date": (_drop(["createdDate"]), "/createdDate", "Required"),
    "missing total": (_drop(["totalGrossPrice"]), "/totalGrossPrice", "Required"),
    "date without offset": (
        _set(["createdDate"], "2025-11-22T18:05:00"),
        "/createdDate",
        "OffsetRequired",
    ),
    "number as string": (_set(["totalGrossPrice"], "1306.0"), "/totalGrossPrice", "NumberExpected"),
    "quantity as string": (
        _set(["items", 1, "quantity"], "2"),
        "/items/1/quantity",
        "NumberExpected",
    ),
    "no items": (_set(["items"], []), "/items", "TooShort"),
    "negative price": (
        _set(["items", 0, "grossPaidPrice"], -999.0),
        "/items/0/grossPaidPrice",
        "OutOfRange",
    ),
    "unknown line type": (_set(["items", 0, "type"], "GIFT"), "/items/0/type", "InvalidValue"),
    "missing line type": (_drop(["items", 0, "type"]), "/items/0/type", "Required"),
    "missing price": (_drop(["items", 0, "grossPaidPrice"]), "/items/0/grossPaidPrice", "Required"),
    "unknown field": (
        _set(["items", 0, "colour"], "blue"),
        "/items/0/colour",
        "UnknownField",
    ),
    "too many decimals": (
        _set(["items", 0, "discounts", 0, "value"], -200.00001),
        "/items/0/discounts/0/value",
        "TooManyDecimals",
    ),
    "bad match key type": (
        _set(["contact", "matchKeyType"], "Shoesize"),
        "/contact/matchKeyType",
        "InvalidValue",
    ),
    "lower-case currency": (_set(["currency"], "sek"), "/currency", "InvalidFormat"),
    "zero exchange rate": (
        _set(["exchangeRateToGroupCurrency"], 0),
        "/exchangeRateToGroupCurrency",
        "OutOfRange",
    ),
    "extra data as object": (_set(["extraData"], {"orderId": "X"}), "/extraData", "InvalidType"),
    "tax detail without value": (
        _drop(["taxDetails", 0, "value"]),
        "/taxDetails/0/value",
        "Required",
    ),
    "promotion without id or code": (
        _set(["usedPromotions"], [{"description": "Autumn"}]),
        "/usedPromotions/0",
        "PromotionUnnamed",
    ),
    "nan": (
        '{"uniqueReceiptId": "A", "totalGrossPrice": NaN}',
        "/totalGrossPrice",
        "InvalidNumber",
    ),
    "slash in id": (_set(["uniqueReceiptId"], "SE/1"), "/uniqueReceiptId", "InvalidFormat"),
    "nul in store id": (
        _set(["storeExternalId"], "Webshop\u0000SE"),
        "/storeExternalId",
        "InvalidCharacter",
    ),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
@REFUSED_BEFORE_STORAGE
def test_bad_receipt_body_is_400_naming_the_field_and_lands_nothing(
    api: httpx.Client, settings: EngageSettings, case: str
) -> None:
    body, path, code = BAD_BODIES[case]
    answer = problem(post(api, body), 400)
    assert {"path": path, "code": code} in [
        {"path": error["path"], "code": error["code"]} for error in answer["errors"]
    ]
    assert_nothing_landed(api, settings)


def test_sign_conventions_are_not_format_errors(api: httpx.Client) -> None:
    """A RETURN line with a positive quantity is still usable: the pipeline warns about it."""
    body = receipt_body(RETURN)
    body["items"][0]["quantity"] = 1
    body["totalGrossPrice"] = 129.0
    accepted_receipt_job(post(api, body))
    accepted_receipt_job(post(api, _set(["items", 0, "type"], "purchase")))


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_receipts_cannot_be_changed_or_deleted(
    api: httpx.Client, settings: EngageSettings, method: str
) -> None:
    body = json.dumps(receipt_body())
    collection = problem(api.request(method, "/receipts", content=body, headers=JSON), 405)
    assert collection["type"] == "urn:engage-orders:problem:ReceiptsAreImmutable"
    one = api.request(method, "/receipts/SE-WEB-2025-000481-1", content=body, headers=JSON)
    problem(one, 405)
    assert api.request(method, "/receipts", content=body, headers=JSON).headers["allow"] == (
        "GET, POST"
    )
    assert one.headers["allow"] == "GET"
    assert_nothing_landed(api, settings)


def test_body_over_one_mebibyte_is_413(api: httpx.Client, settings: EngageSettings) -> None:
    body = receipt_body(extraData=[{"name": f"n{i}", "value": "x" * 4000} for i in range(300)])
    problem(post(api, body), 413)
    assert_nothing_landed(api, settings)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_body_that_is_not_declared_json_is_415(
    api: httpx.Client, settings: EngageSettings, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    request = api.build_request(
        "POST", "/receipts", content=json.dumps(receipt_body()), headers=headers
    )
    assert request.headers.get("content-type") == content_type
    problem(api.send(request), 415)
    assert_nothing_landed(api, settings)


def test_missing_or_unknown_key_is_401(
    intake_url: str, api: httpx.Client, settings: EngageSettings
) -> None:
    for key in (None, "eo_not-a-key"):
        with client(intake_url, key) as anonymous:
            problem(post(anonymous, receipt_body()), 401)
            problem(anonymous.get("/receipts", params={"contactId": "x"}), 401)
    assert_nothing_landed(api, settings)


def test_scopes_separate_sending_from_reading(
    intake_url: str, api: httpx.Client, settings: EngageSettings
) -> None:
    reader = make_key(settings, Scope.ORDERS_READ)
    with client(intake_url, reader) as http:
        problem(post(http, receipt_body()), 403)
    order_writer = make_key(settings, Scope.ORDERS_WRITE)
    with client(intake_url, order_writer) as http:
        problem(post(http, receipt_body()), 403)
    assert_nothing_landed(api, settings)

    sender = make_key(settings, Scope.RECEIPTS_WRITE)
    with client(intake_url, sender) as http:
        job_id = accepted_receipt_job(post(http, receipt_body()))
        assert receipt_job(http, job_id).status_code == 200
        problem(http.get("/receipts", params={"contactId": "x"}), 403)
        problem(http.get("/receipts/SE-WEB-2025-000481-1"), 403)
    with client(intake_url, reader) as http:
        assert receipt_job(http, job_id).status_code == 200


def test_unknown_job_receipt_and_contact_are_404(api: httpx.Client) -> None:
    problem(receipt_job(api, "00000000-0000-0000-0000-000000000000"), 404)
    problem(api.get("/receipts/NO-SUCH-RECEIPT"), 404)
    problem(api.get("/receipts", params={"contactId": "nobody"}), 404)


def test_an_order_job_is_not_a_receipt_job(api: httpx.Client) -> None:
    order_job = post_order(api, order_body("NOT-A-RECEIPT"))
    problem(receipt_job(api, order_job), 404)
    assert api.get("/receipts/jobs").json()["totalCount"] == 0


def test_jobs_list_pages(api: httpx.Client) -> None:
    jobs = [accepted_receipt_job(post(api, receipt_body(receipt_id=f"SE-{i}"))) for i in range(3)]
    page = api.get("/receipts/jobs", params={"count": 2}).json()
    assert page["totalCount"] == 3
    assert page["links"][0]["rel"] == "next"
    rest = api.get(page["links"][0]["href"].removeprefix("/api/v3")).json()
    assert {item["jobId"] for item in page["items"] + rest["items"]} == set(jobs)
    assert api.get("/receipts/jobs", params={"status": "Failed"}).json()["totalCount"] == 0
