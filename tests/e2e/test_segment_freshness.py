"""Segments follow the orders: one processing cycle (`engage-orders process`: processing, then the
gold build) after a change, previews and saved memberships show it (issue 4, freshness).

Everything goes through the real intake over HTTP and the real jobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.contacts import create_contact
from tests.support.gold import ONGOING_JACKETS
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import change, order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded
from tests.support.registers import full_article, post_articles

pytestmark = LAKE_INCIDENTAL

Process = Callable[[], None]

JACKET = "7391-RAIN-BLU-L"
NO_ONGOING_ORDER: dict[str, Any] = {"criteria": {"not": {"order": {"ongoing": True}}}}


def jacket_order(order_id: str, email: str) -> dict[str, Any]:
    return order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})


def preview(api: httpx.Client, definition: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/segments/preview", json=definition)
    assert response.status_code == 200, response.text
    return response.json()


def members(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/segments/{name}/members")
    assert response.status_code == 200, response.text
    return response.json()


def member_ids(api: httpx.Client, name: str) -> set[str]:
    return {item["contactId"] for item in members(api, name)["items"]}


@pytest.fixture
def shoppers(api: httpx.Client, process: Process) -> dict[str, str]:
    """Two contacts with an ongoing jacket order each, the segment saved, all processed."""
    post_articles(api, [full_article(JACKET)])
    contacts = {"anna": create_contact(api, {"email": "anna@example.org"})}
    contacts["bo"] = create_contact(api, {"email": "bo@example.org"})
    jobs = [
        post_order(api, jacket_order("F-ANNA", "anna@example.org")),
        post_order(api, jacket_order("F-BO", "bo@example.org")),
    ]
    assert api.post("/segments", json=ONGOING_JACKETS).status_code == 201
    process()
    for job_id in jobs:
        succeeded_tag(api, job_id)
    return contacts


def test_previews_and_members_start_from_the_processed_orders(
    api: httpx.Client, shoppers: dict[str, str]
) -> None:
    everyone = set(shoppers.values())
    answer = preview(api, ONGOING_JACKETS)
    assert (answer["count"], set(answer["sample"])) == (2, everyone)
    assert member_ids(api, "ongoing-jackets") == everyone
    assert members(api, "ongoing-jackets")["current"] is True
    assert preview(api, NO_ONGOING_ORDER) == {"count": 0, "sample": []}


def test_a_completed_or_deleted_order_leaves_ongoing_segments_in_one_cycle(
    api: httpx.Client, process: Process, shoppers: dict[str, str]
) -> None:
    jobs = [change(api, "F-ANNA", "change-status", {"status": "Completed"})]
    jobs.append(api.delete("/orders/F-BO").json()["jobId"])
    process()
    for job_id in jobs:
        succeeded_tag(api, job_id)

    assert preview(api, ONGOING_JACKETS) == {"count": 0, "sample": []}
    assert member_ids(api, "ongoing-jackets") == set()
    assert preview(api, NO_ONGOING_ORDER)["count"] == 2


def test_a_new_order_and_a_recent_purchase_show_in_one_cycle(
    api: httpx.Client, process: Process, shoppers: dict[str, str]
) -> None:
    carl = create_contact(api, {"email": "carl@example.org"})
    order_job = post_order(api, jacket_order("F-CARL", "carl@example.org"))
    # Anna bought something in a store two days ago: "no purchase in 30 days" no longer holds.
    created = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    receipt = receipt_body(
        contact={"matchKey": "anna@example.org", "matchKeyType": "email"}, createdDate=created
    )
    receipt_job = post_receipt(api, receipt)
    process()
    succeeded_tag(api, order_job)
    succeeded(api, receipt_job)

    expected = {shoppers["bo"], carl}
    answer = preview(api, ONGOING_JACKETS)
    assert (answer["count"], set(answer["sample"])) == (2, expected)
    assert member_ids(api, "ongoing-jackets") == expected


def test_a_changed_definition_is_re_materialised_without_new_orders(
    api: httpx.Client, process: Process, shoppers: dict[str, str]
) -> None:
    anna_only = {"name": "anna-store", "criteria": {"order": {"store": "Nowhere"}}}
    assert api.post("/segments", json=anna_only).status_code == 201
    assert members(api, "anna-store")["current"] is False
    process()
    page = members(api, "anna-store")
    assert (page["items"], page["current"]) == ([], True)
