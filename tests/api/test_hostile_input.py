"""Hostile bodies against the order and receipt intake: each one gets a clear 4xx problem (or the
connection is closed), and nothing is landed."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from schemas.tables import ORDER_CHANGES, RECEIPT_SUBMISSIONS
from storage.apikeys import Scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.orders import JSON, order_body
from tests.support.receipts import receipt_body
from tests.support.registers import assert_no_articles_landed, full_article
from tests.support.server import running_intake


def landed(settings: EngageSettings) -> int:
    lake = Lake(settings.resolved_lake_uri)
    return lake.table(ORDER_CHANGES).count() + lake.table(RECEIPT_SUBMISSIONS).count()


def with_raw_sub_total(raw: str) -> bytes:
    body = order_body("HOSTILE-1")
    body["lineItems"]["subTotal"] = "__RAW__"
    return json.dumps(body).replace('"__RAW__"', raw).encode()


def order_json(**changes: object) -> str:
    return json.dumps(order_body("HOSTILE-1", **changes))


def with_raw(field: str, raw: str) -> bytes:
    """An order whose `field` holds `raw`, spliced in as text (JSON that json.dumps won't make)."""
    body = order_body("HOSTILE-1")
    body[field] = "__RAW__"
    return json.dumps(body).replace('"__RAW__"', raw).encode()


NESTED = b'{"orderId": "HOSTILE-1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HOSTILE = {
    "deep nesting": NESTED,
    "huge array": with_raw("externalStatus", "[" + ",".join(["1"] * 200_000) + "]"),
    "huge string": order_json(externalStatus="x" * 900_000).encode(),
    "NaN": with_raw("externalStatus", "NaN"),
    "Infinity in a price": with_raw_sub_total("Infinity"),
    "number out of range": with_raw_sub_total("1e400"),
    "huge integer": with_raw("externalStatus", "9" * 5000),
    "lone surrogate": with_raw("externalStatus", '"\\ud800"'),
    "NUL in the order id": json.dumps(order_body("HOSTILE\u0000ID")).encode(),
    "escape in the order id": json.dumps(order_body("HOSTILE\u001bID")).encode(),
    "invalid UTF-8": order_json().encode().replace(b"HOSTILE-1", b"HOSTILE-\xff"),
    "not an object": b'["HOSTILE-1"]',
    "empty": b"",
    "truncated": order_json()[:-20].encode(),
}


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_order_body_gets_a_4xx_problem_and_lands_nothing(
    api: httpx.Client, settings: EngageSettings, body: bytes
) -> None:
    response = api.post("/orders", content=body, headers=JSON)

    assert 400 <= response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert landed(settings) == 0


def test_a_hostile_receipt_body_gets_a_4xx_and_lands_nothing(
    api: httpx.Client, settings: EngageSettings
) -> None:
    body = json.dumps(receipt_body(receipt_id="R-\u0000-HOSTILE"))
    response = api.post("/receipts", content=body, headers=JSON)

    assert response.status_code == 400, response.text[:500]
    assert landed(settings) == 0


BODY_TIMEOUT_S = 2.0


@pytest.fixture
def impatient(settings: EngageSettings) -> Iterator[tuple[str, str]]:
    """An intake that waits at most BODY_TIMEOUT_S for a body (the default is 30 s)."""
    quick = settings.model_copy(update={"body_timeout_seconds": BODY_TIMEOUT_S})
    with running_intake(quick) as base_url:
        yield base_url, make_key(quick, Scope.ORDERS_WRITE)


@pytest.mark.parametrize("idempotency_key", [None, "slow-1"], ids=["plain", "idempotent"])
def test_a_slow_loris_body_gets_408_and_the_connection_closed(
    impatient: tuple[str, str], settings: EngageSettings, idempotency_key: str | None
) -> None:
    """Headers at once, then one byte of the body every 0.2 s."""
    base_url, key = impatient
    host, port = base_url.removeprefix("http://").split(":")
    body = order_json().encode()
    extra = f"Idempotency-Key: {idempotency_key}\r\n" if idempotency_key else ""
    head = (
        f"POST /api/v3/orders HTTP/1.1\r\nHost: {host}\r\napikey: {key}\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        sock.settimeout(0.2)
        answer = b""
        for byte in body:
            assert time.monotonic() - started < 10 * BODY_TIMEOUT_S, "the intake kept waiting"
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            break
        while answer and not answer.endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    elapsed = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in answer.lower()
    assert b"RequestTimeout" in answer
    assert BODY_TIMEOUT_S <= elapsed < BODY_TIMEOUT_S + 3
    assert landed(settings) == 0


def with_repeat(path: tuple[str | int, ...], first: str, second: str) -> bytes:
    """An order whose member at `path` is written twice, `"name": first, "name": second`."""
    body = order_body("HOSTILE-1", extraData={"campaign": "AW25"})
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = "__REPEATED__"
    twice = f'"{path[-1]}": {first}, "{path[-1]}": {second}'
    return json.dumps(body).replace(f'"{path[-1]}": "__REPEATED__"', twice).encode()


REPEATED = {
    "top level": (with_repeat(("status",), '"InProgress"', '"Cancelled"'), "/status"),
    "same value": (with_repeat(("currencyCode",), '"SEK"', '"SEK"'), "/currencyCode"),
    "in a line": (
        with_repeat(("lineItems", "items", 1, "quantity"), "1", "9"),
        "/lineItems/items/1/quantity",
    ),
    "in free-form extraData": (
        with_repeat(("extraData", "campaign"), '"AW25"', '"SS26"'),
        "/extraData/campaign",
    ),
    "spelled with an escape": (
        order_json().encode()[:-1] + b', "\\u0073tatus": "Cancelled"}',
        "/status",
    ),
}


@pytest.mark.parametrize(("body", "pointer"), list(REPEATED.values()), ids=list(REPEATED))
def test_an_order_naming_a_member_twice_gets_400_naming_it_and_lands_nothing(
    api: httpx.Client, settings: EngageSettings, body: bytes, pointer: str
) -> None:
    """pydantic keeps the last of two values, other readers of the landed bytes the first."""
    response = api.post("/orders", content=body, headers=JSON)

    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {
            "path": pointer,
            "code": "DuplicateMember",
            "message": "This name appears twice in its object; send each member once.",
        }
    ]
    assert landed(settings) == 0


def test_a_receipt_and_an_article_batch_naming_a_member_twice_get_400_and_land_nothing(
    api: httpx.Client, settings: EngageSettings
) -> None:
    receipt = json.dumps(receipt_body(receipt_id="R-REPEATED"))
    receipt = receipt[:-1] + ', "receiptId": "R-OTHER"}'
    articles = json.dumps([full_article("SKU-1"), full_article("SKU-2", 2)])
    articles = articles.replace('"brand": "Nordvik"', '"brand": "Nordvik", "brand": "Other"', 2)

    receipt_answer = api.post("/receipts", content=receipt, headers=JSON)
    articles_answer = api.post("/articles", content=articles, headers=JSON)

    assert receipt_answer.status_code == 400, receipt_answer.text[:500]
    assert [error["path"] for error in receipt_answer.json()["errors"]] == ["/receiptId"]
    assert articles_answer.status_code == 400, articles_answer.text[:500]
    assert [error["path"] for error in articles_answer.json()["errors"]] == ["/0/brand"]
    assert landed(settings) == 0
    assert_no_articles_landed(settings)


def test_an_order_with_distinct_names_in_separate_objects_is_accepted(
    api: httpx.Client, settings: EngageSettings
) -> None:
    """The same name in two objects (every line has a `quantity`) is no repeat."""
    response = api.post("/orders", content=order_json(), headers=JSON)

    assert response.status_code == 202, response.text[:500]
    assert landed(settings) == 1
