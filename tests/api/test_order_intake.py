"""Order intake over HTTP: 202 and a job for good writes; a clear 4xx and nothing landed for bad."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from schemas.tables import ORDER_CHANGES
from storage.apikeys import Scope
from storage.db import session_scope
from storage.lake import Lake
from storage.models import ApiKey
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.orders import JSON, accepted_job, example, job, order_body
from tests.support.server import client


def bronze_rows(settings: EngageSettings) -> int:
    return Lake(settings.resolved_lake_uri).table(ORDER_CHANGES).count()


def assert_nothing_landed(api: httpx.Client, settings: EngageSettings) -> None:
    assert bronze_rows(settings) == 0
    assert api.get("/orders/jobs").json()["totalCount"] == 0


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


def test_create_is_landed_and_answered_202_with_a_queued_job(
    api: httpx.Client, settings: EngageSettings
) -> None:
    response = api.post("/orders", content=json.dumps(order_body()), headers=JSON)
    job_id = accepted_job(response)
    assert response.json()["links"] == [
        {"href": f"/api/v3/orders/jobs/{job_id}", "method": "GET", "rel": "status"}
    ]
    state = job(api, job_id)
    assert state.status_code == 200
    assert state.json()["status"] == "Queued"
    assert state.json()["orderId"] == "WEB-2025-000481"
    assert bronze_rows(settings) == 1


def test_every_write_endpoint_lands_a_change(api: httpx.Client, settings: EngageSettings) -> None:
    order_id = "WEB-2025-000481"
    accepted_job(api.put(f"/orders/{order_id}", content=json.dumps(order_body()), headers=JSON))
    status_body = json.dumps(example("order-change-status.json"))
    delivery_body = json.dumps(example("order-change-delivery.json"))
    accepted_job(api.post(f"/orders/{order_id}/change-status", content=status_body, headers=JSON))
    accepted_job(
        api.post(f"/orders/{order_id}/change-delivery", content=delivery_body, headers=JSON)
    )
    accepted_job(api.delete(f"/orders/{order_id}"))
    landed = Lake(settings.resolved_lake_uri).scan(ORDER_CHANGES).collect()
    assert sorted(landed["change_type"]) == sorted(
        ["replace", "change_status", "change_delivery", "delete"]
    )


def test_a_body_is_landed_exactly_as_received(api: httpx.Client, settings: EngageSettings) -> None:
    raw = json.dumps(order_body(), indent=2)
    accepted_job(api.post("/orders", content=raw, headers=JSON))
    landed = Lake(settings.resolved_lake_uri).scan(ORDER_CHANGES).collect()
    assert landed["body"].to_list() == [raw]
    assert landed["contact_match_key_type"].to_list() == ["Email"]


def test_if_match_header_is_landed_with_the_change(
    api: httpx.Client, settings: EngageSettings
) -> None:
    body = json.dumps(example("order-change-status.json"))
    headers = {**JSON, "If-Match": '"5b3kN1tq0x9Lz2Qh8c7GVw=="'}
    accepted_job(api.post("/orders/X-1/change-status", content=body, headers=headers))
    landed = Lake(settings.resolved_lake_uri).scan(ORDER_CHANGES).collect()
    assert landed["if_match"].to_list() == ["5b3kN1tq0x9Lz2Qh8c7GVw=="]


def _with(path: list[str | int], value: Any) -> dict[str, Any]:
    body = order_body()
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def _without(path: list[str | int]) -> dict[str, Any]:
    body = order_body()
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return body


def _return_line_without_details() -> dict[str, Any]:
    body = order_body()
    body["lineItems"]["items"][1]["type"] = "Return"
    return body


BAD_BODIES = {
    "malformed json": ('{"orderId": "A",', "", "MalformedJson"),
    "wrong type": (
        _with(["lineItems", "items", 0, "quantity"], "1"),
        "/lineItems/items/0/quantity",
        "InvalidType",
    ),
    "number as string": (
        _with(["lineItems", "items", 0, "totalPrice"], "999.0"),
        "/lineItems/items/0/totalPrice",
        "NumberExpected",
    ),
    "date without offset": (
        _with(["createdAt"], "2025-11-20T09:41:07"),
        "/createdAt",
        "OffsetRequired",
    ),
    "unknown field": (
        _with(["lineItems", "items", 0, "colour"], "blue"),
        "/lineItems/items/0/colour",
        "UnknownField",
    ),
    "missing required": (
        _without(["lineItems", "items", 0, "article", "sku"]),
        "/lineItems/items/0/article/sku",
        "Required",
    ),
    "return without details": (
        _return_line_without_details(),
        "/lineItems/items/1/returnDetails",
        "ReturnDetailsMissing",
    ),
    "subtotal mismatch": (
        _with(["lineItems", "subTotal"], 1000.0),
        "/lineItems/subTotal",
        "SubTotalMismatch",
    ),
    "unknown status": (_with(["status"], "Teleported"), "/status", "UnknownStatus"),
    "bad match key type": (
        _with(["contact", "matchKeyType"], "Shoesize"),
        "/contact/matchKeyType",
        "InvalidValue",
    ),
    "nan in extra data": (
        '{"orderId": "A", "extraData": {"x": NaN}}',
        "/extraData",
        "InvalidNumber",
    ),
    "not an object": ("[1, 2]", "", "InvalidType"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
@REFUSED_BEFORE_STORAGE
def test_bad_order_body_is_400_naming_the_field_and_lands_nothing(
    api: httpx.Client, settings: EngageSettings, case: str
) -> None:
    body, path, code = BAD_BODIES[case]
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = problem(api.post("/orders", content=raw, headers=JSON), 400)
    assert {"path": path, "code": code} in [
        {"path": error["path"], "code": error["code"]} for error in answer["errors"]
    ]
    assert_nothing_landed(api, settings)


def test_put_with_another_order_id_in_the_body_is_400(
    api: httpx.Client, settings: EngageSettings
) -> None:
    answer = problem(api.put("/orders/OTHER", content=json.dumps(order_body()), headers=JSON), 400)
    assert answer["errors"][0]["path"] == "/orderId"
    assert_nothing_landed(api, settings)


def test_empty_change_status_is_400(api: httpx.Client, settings: EngageSettings) -> None:
    answer = problem(api.post("/orders/A/change-status", content="{}", headers=JSON), 400)
    assert answer["errors"][0]["code"] == "NothingToChange"
    assert_nothing_landed(api, settings)


def test_body_over_one_mebibyte_is_413(api: httpx.Client, settings: EngageSettings) -> None:
    body = order_body(extraData={"padding": "x" * (1024 * 1024)})
    problem(api.post("/orders", content=json.dumps(body), headers=JSON), 413)
    assert_nothing_landed(api, settings)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_body_that_is_not_declared_json_is_415(
    api: httpx.Client, settings: EngageSettings, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    request = api.build_request(
        "POST", "/orders", content=json.dumps(order_body()), headers=headers
    )
    assert request.headers.get("content-type") == content_type
    problem(api.send(request), 415)
    assert_nothing_landed(api, settings)


def test_missing_or_unknown_key_is_401(
    intake_url: str, api: httpx.Client, settings: EngageSettings
) -> None:
    for key in (None, "eo_not-a-key"):
        with client(intake_url, key) as anonymous:
            answer = problem(
                anonymous.post("/orders", content=json.dumps(order_body()), headers=JSON), 401
            )
            assert answer["title"] == "Unauthorized"
    assert_nothing_landed(api, settings)


def test_a_revoked_key_is_refused_within_the_key_cache_time(
    intake_url: str, settings: EngageSettings
) -> None:
    key = make_key(settings, Scope.ORDERS_READ)
    with client(intake_url, key) as http:
        assert http.get("/orders/jobs").status_code == 200  # now remembered by the intake
        with session_scope(settings.resolved_database_url) as session:
            session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
        deadline = time.monotonic() + settings.api_key_cache_seconds + 5.0
        while (status := http.get("/orders/jobs").status_code) == 200:
            assert time.monotonic() < deadline, "the revoked key is still accepted"
            time.sleep(0.1)
    assert status == 401


def test_x_api_key_header_is_accepted(intake_url: str, admin_key: str) -> None:
    with client(intake_url, None) as http:
        response = http.post(
            "/orders", content=json.dumps(order_body()), headers={**JSON, "x-api-key": admin_key}
        )
    accepted_job(response)


def test_key_without_the_scope_is_403(
    intake_url: str, api: httpx.Client, settings: EngageSettings
) -> None:
    reader = make_key(settings, Scope.ORDERS_READ)
    with client(intake_url, reader) as http:
        problem(http.post("/orders", content=json.dumps(order_body()), headers=JSON), 403)
        assert http.get("/orders/jobs").status_code == 200
    writer = make_key(settings, Scope.ORDERS_WRITE)
    with client(intake_url, writer) as http:
        problem(http.get("/orders/ANY"), 403)
    assert_nothing_landed(api, settings)


def test_unknown_job_and_order_are_404(api: httpx.Client) -> None:
    assert problem(api.get("/orders/jobs/00000000-0000-0000-0000-000000000000"), 404)
    assert problem(api.get("/orders/NO-SUCH-ORDER"), 404)
    assert problem(api.get("/orders", params={"contactId": "nobody"}), 404)


def test_jobs_list_filters_and_pages(api: httpx.Client) -> None:
    jobs = [
        accepted_job(api.post("/orders", content=json.dumps(order_body(f"P-{i}")), headers=JSON))
        for i in range(3)
    ]
    page = api.get("/orders/jobs", params={"count": 2}).json()
    assert page["totalCount"] == 3
    assert len(page["items"]) == 2
    assert page["links"][0]["rel"] == "next"
    rest = api.get(page["links"][0]["href"].removeprefix("/api/v3")).json()
    assert {item["jobId"] for item in page["items"] + rest["items"]} == set(jobs)
    assert api.get("/orders/jobs", params={"status": "Failed"}).json()["totalCount"] == 0
    problem(api.get("/orders/jobs", params={"count": 101}), 400)


def test_since_filters_jobs_and_must_carry_an_offset(api: httpx.Client) -> None:
    accepted_job(api.post("/orders", content=json.dumps(order_body()), headers=JSON))
    assert (
        api.get("/orders/jobs", params={"since": "2000-01-01T00:00:00+00:00"}).json()["totalCount"]
        == 1
    )
    assert (
        api.get("/orders/jobs", params={"since": "2999-01-01T00:00:00+01:00"}).json()["totalCount"]
        == 0
    )
    answer = problem(api.get("/orders/jobs", params={"since": "2000-01-01T00:00:00"}), 400)
    assert answer["errors"][0]["path"] == "/query/since"
    problem(api.get("/integration-log", params={"since": "yesterday"}), 400)
