"""An order's whole life over HTTP, processed by the real Dagster job between the steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import polars as pl
import pytest

from schemas.tables import ORDER_CHANGES, ORDER_LINES, ORDER_VERSIONS, ORDERS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import (
    JSON,
    change,
    example,
    failed_codes,
    job,
    order_body,
    post_order,
    put_order,
    succeeded_tag,
)

pytestmark = pytest.mark.without_gold

Process = Callable[[], None]


def read_order(api: httpx.Client, order_id: str, **params: str) -> dict:
    response = api.get(f"/orders/{order_id}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["versionTag"]}"'
    return response.json()


def create_contact(api: httpx.Client, **fields: str) -> str:
    response = api.post("/contacts", content=json.dumps(fields), headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["contactId"]


@LAKE_INCIDENTAL
def test_created_order_is_read_back_with_its_version_tag(
    api: httpx.Client, process: Process
) -> None:
    job_id = post_order(api, order_body("E2E-1"))
    assert job(api, job_id).json()["status"] == "Queued"
    process()
    tag = succeeded_tag(api, job_id)
    order = read_order(api, "E2E-1")
    assert order["versionTag"] == tag
    assert order["createdAt"] == "2025-11-20T09:41:07+01:00"
    assert order["lineItems"]["subTotal"] == 1257.0
    assert [line["article"]["sku"] for line in order["lineItems"]["items"]] == [
        "7391-RAIN-BLU-L",
        "2210-SOCK-GRY-M",
    ]
    assert "action" not in order


@pytest.mark.lake("local", "s3", "azure")
def test_replace_change_status_change_delivery_then_delete(
    api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    first = post_order(api, order_body("E2E-2"))
    process()
    tags = [succeeded_tag(api, first)]

    replaced = order_body(
        "E2E-2", externalStatus="Packed", lastChangedAt="2025-11-20T10:00:00+01:00"
    )
    replaced["lineItems"]["items"].pop()
    replaced["lineItems"]["subTotal"] = 999.0
    tags.append(succeeded_tag(api, _processed(process, put_order(api, replaced))))
    order = read_order(api, "E2E-2")
    assert order["externalStatus"] == "Packed"
    assert len(order["lineItems"]["items"]) == 1

    status = {
        "status": "Completed",
        "externalStatus": "Delivered",
        "lastChangedAt": "2025-11-21T14:02:00+01:00",
    }
    tags.append(
        succeeded_tag(api, _processed(process, change(api, "E2E-2", "change-status", status)))
    )
    delivery = example("order-change-delivery.json")
    tags.append(
        succeeded_tag(api, _processed(process, change(api, "E2E-2", "change-delivery", delivery)))
    )
    order = read_order(api, "E2E-2")
    assert (order["status"], order["externalStatus"]) == ("Completed", "Delivered")
    assert order["delivery"]["method"] == "Budbee"
    assert order["delivery"]["trackingNumber"] == "BB123456789SE"
    assert order["delivery"]["deliveryDate"] == "2025-11-22T18:00:00+01:00"
    assert order["externalStatus"] == "Delivered"
    assert len(set(tags)) == 4
    assert order["versionTag"] == tags[-1]

    deleted = api.delete("/orders/E2E-2")
    process()
    succeeded_tag(api, deleted.json()["jobId"])
    assert api.get("/orders/E2E-2").status_code == 404
    lake = Lake(settings.resolved_lake_uri)
    versions = lake.scan(ORDER_VERSIONS).filter(pl.col("order_id") == "E2E-2").collect()
    assert versions.sort("version_number")["change_type"].to_list() == [
        "create",
        "replace",
        "change_status",
        "change_delivery",
        "delete",
    ]
    assert lake.scan(ORDERS).filter(pl.col("order_id") == "E2E-2").collect().is_empty()
    assert lake.scan(ORDER_LINES).filter(pl.col("order_id") == "E2E-2").collect().is_empty()


def _processed(process: Process, job_id: str) -> str:
    process()
    return job_id


@LAKE_INCIDENTAL
def test_missing_contact_is_a_warning_and_the_order_is_still_stored(
    api: httpx.Client, process: Process
) -> None:
    job_id = post_order(api, order_body("E2E-3"))
    process()
    succeeded_tag(api, job_id)
    assert read_order(api, "E2E-3")["contactId"] is None
    log = api.get("/integration-log", params={"type": "Orders"}).json()["items"]
    assert ("ContactMissing", "Contact is missing", "Warning") in [
        (entry["code"], entry["message"], entry["severity"])
        for entry in log
        if entry["jobId"] == job_id
    ]


@LAKE_INCIDENTAL
def test_order_is_linked_to_the_contact_its_match_key_names(
    api: httpx.Client, process: Process
) -> None:
    contact_id = create_contact(api, email="lena.berg@example.org", firstName="Lena")
    other_id = create_contact(api, email="someone.else@example.org")
    body = order_body(
        "E2E-4", contact={"matchKey": "Lena.Berg@Example.org", "matchKeyType": "email"}
    )
    job_id = post_order(api, body)
    process()
    succeeded_tag(api, job_id)
    assert read_order(api, "E2E-4", contactId=contact_id)["contactId"] == contact_id
    assert api.get("/orders/E2E-4", params={"contactId": other_id}).status_code == 404
    listed = api.get("/orders", params={"contactId": contact_id}).json()
    assert [item["orderId"] for item in listed["items"]] == ["E2E-4"]
    log = api.get("/integration-log").json()["items"]
    assert not [
        entry for entry in log if entry["jobId"] == job_id and entry["code"] == "ContactMissing"
    ]


@LAKE_INCIDENTAL
def test_contact_orders_are_listed_newest_first_and_paged(
    api: httpx.Client, process: Process
) -> None:
    contact_id = create_contact(api, memberNumber="M-1")
    contact = {"matchKey": "M-1", "matchKeyType": "MemberNumber"}
    for day in (1, 3, 2):
        post_order(
            api,
            order_body(f"E2E-5-{day}", contact=contact, createdAt=f"2025-11-0{day}T10:00:00+01:00"),
        )
    process()
    first = api.get("/orders", params={"contactId": contact_id, "count": 2}).json()
    assert first["totalCount"] == 3
    assert [item["orderId"] for item in first["items"]] == ["E2E-5-3", "E2E-5-2"]
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    rest = api.get(next_link.removeprefix("/api/v3")).json()
    assert [item["orderId"] for item in rest["items"]] == ["E2E-5-1"]


@LAKE_INCIDENTAL
def test_post_of_an_existing_order_fails_but_an_identical_retry_succeeds(
    api: httpx.Client, process: Process
) -> None:
    original = post_order(api, order_body("E2E-6"))
    process()
    tag = succeeded_tag(api, original)
    retry = post_order(api, order_body("E2E-6"))
    conflicting = post_order(api, order_body("E2E-6", status="Completed"))
    process()
    assert succeeded_tag(api, retry) == tag
    assert failed_codes(api, conflicting) == ["OrderAlreadyExists"]
    assert read_order(api, "E2E-6")["versionTag"] == tag
    failed = api.get("/orders/jobs", params={"status": "Failed"}).json()
    assert [item["jobId"] for item in failed["items"]] == [conflicting]
    assert failed["items"][0]["errors"][0]["code"] == "OrderAlreadyExists"


@LAKE_INCIDENTAL
def test_identical_put_makes_no_new_version(
    api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    tag = succeeded_tag(api, _processed(process, put_order(api, order_body("E2E-7"))))
    assert succeeded_tag(api, _processed(process, put_order(api, order_body("E2E-7")))) == tag
    versions = (
        Lake(settings.resolved_lake_uri).scan(ORDER_VERSIONS).filter(pl.col("order_id") == "E2E-7")
    )
    assert versions.collect().height == 1


@LAKE_INCIDENTAL
def test_two_changes_to_one_order_in_one_batch_make_two_versions_in_order(
    api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    created = post_order(api, order_body("E2E-8"))
    shipped = change(
        api,
        "E2E-8",
        "change-status",
        {"externalStatus": "Shipped", "lastChangedAt": "2025-11-21T09:00:00+01:00"},
    )
    process()
    first, second = succeeded_tag(api, created), succeeded_tag(api, shipped)
    assert first != second
    assert read_order(api, "E2E-8")["externalStatus"] == "Shipped"
    versions = (
        Lake(settings.resolved_lake_uri)
        .scan(ORDER_VERSIONS)
        .filter(pl.col("order_id") == "E2E-8")
        .sort("version_number")
        .collect()
    )
    assert versions["version_tag"].to_list() == [first, second]
    assert versions["version_number"].to_list() == [1, 2]


@LAKE_INCIDENTAL
def test_if_match_with_an_outdated_version_tag_fails_with_version_conflict(
    api: httpx.Client, process: Process
) -> None:
    first = succeeded_tag(api, _processed(process, post_order(api, order_body("E2E-9"))))
    body = json.dumps({"externalStatus": "Picked"})
    ok = api.post(
        "/orders/E2E-9/change-status", content=body, headers={**JSON, "If-Match": f'"{first}"'}
    )
    late = api.post(
        "/orders/E2E-9/change-status", content=body, headers={**JSON, "If-Match": first}
    )
    process()
    second = succeeded_tag(api, ok.json()["jobId"])
    assert failed_codes(api, late.json()["jobId"]) == ["VersionConflict"]
    assert read_order(api, "E2E-9")["versionTag"] == second


@LAKE_INCIDENTAL
def test_a_change_older_than_the_stored_order_is_stale(api: httpx.Client, process: Process) -> None:
    post_order(api, order_body("E2E-10", lastChangedAt="2025-11-22T10:00:00+01:00"))
    stale = change(
        api,
        "E2E-10",
        "change-status",
        {"status": "Cancelled", "lastChangedAt": "2025-11-21T10:00:00+01:00"},
    )
    process()
    assert failed_codes(api, stale) == ["StaleChange"]
    assert read_order(api, "E2E-10")["status"] == "InProgress"


@LAKE_INCIDENTAL
def test_changes_to_an_unknown_order_fail_with_order_not_found(
    api: httpx.Client, process: Process
) -> None:
    status = change(api, "E2E-NONE", "change-status", {"status": "Completed"})
    deleted = api.delete("/orders/E2E-NONE").json()["jobId"]
    process()
    assert failed_codes(api, status) == ["OrderNotFound"]
    assert failed_codes(api, deleted) == ["OrderNotFound"]
    log = api.get("/integration-log", params={"severity": "Error"}).json()
    assert {entry["jobId"] for entry in log["items"]} == {status, deleted}


def test_fifty_concurrent_posts_are_acknowledged_and_processed_exactly_once(
    intake_url: str, admin_key: str, api: httpx.Client, process: Process, settings: EngageSettings
) -> None:
    def post(number: int) -> str:
        with httpx.Client(base_url=f"{intake_url}/api/v3", headers={"apikey": admin_key}) as http:
            return post_order(http, order_body(f"E2E-C-{number:02d}"))

    with ThreadPoolExecutor(max_workers=50) as pool:
        job_ids = list(pool.map(post, range(50)))
    lake = Lake(settings.resolved_lake_uri)
    landed = lake.scan(ORDER_CHANGES).collect()
    assert sorted(landed["job_id"]) == sorted(job_ids)
    assert lake.version(ORDER_CHANGES) < 50, "group commit shares commits between requests"

    process()
    process()  # a second run finds nothing new and changes nothing
    assert len({succeeded_tag(api, job_id) for job_id in job_ids}) == 50
    assert lake.scan(ORDER_VERSIONS).collect()["job_id"].n_unique() == 50
    assert lake.scan(ORDER_VERSIONS).collect().height == 50
    assert lake.scan(ORDERS).collect().height == 50
    assert lake.scan(ORDER_LINES).collect().height == 100
