"""Orders naming articles or stores the registers lack: warnings, and the order is stored."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import order_body, post_order, succeeded_tag
from tests.support.registers import post_articles, post_stores, store

pytestmark = [LAKE_INCIDENTAL, pytest.mark.without_gold]

Process = Callable[[], None]


def log_codes(api: httpx.Client, job_id: str) -> dict[str, str]:
    items = api.get("/integration-log", params={"type": "Orders", "count": 100}).json()["items"]
    return {entry["code"]: entry["message"] for entry in items if entry["jobId"] == job_id}


def test_unknown_articles_and_store_are_warnings_until_they_are_registered(
    api: httpx.Client, process: Process
) -> None:
    first = post_order(api, order_body("REF-1"))
    process()
    succeeded_tag(api, first)
    assert api.get("/orders/REF-1").status_code == 200
    codes = log_codes(api, first)
    assert codes["ArticleMissing"] == "Article is missing (sku 7391-RAIN-BLU-L, 2210-SOCK-GRY-M)"
    assert codes["StoreMissing"] == "Store is missing (Webshop-SE)"

    post_articles(api, [{"sku": "7391-RAIN-BLU-L"}, {"sku": "2210-SOCK-GRY-M"}])
    post_stores(api, [store("Webshop-SE")])
    second = post_order(api, order_body("REF-2"))
    process()  # the registers are processed before the orders of the same run
    succeeded_tag(api, second)
    assert set(log_codes(api, second)) == {"ContactMissing"}


def test_a_register_entry_missing_for_one_line_names_only_that_sku(
    api: httpx.Client, process: Process
) -> None:
    post_articles(api, [{"sku": "7391-RAIN-BLU-L"}])
    post_stores(api, [store("Webshop-SE")])
    job_id = post_order(api, order_body("REF-3"))
    process()
    codes = log_codes(api, job_id)
    assert codes["ArticleMissing"] == "Article is missing (sku 2210-SOCK-GRY-M)"
    assert "StoreMissing" not in codes
