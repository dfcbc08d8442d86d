"""Every route with a key of every scope: the route's scopes (or admin) get past authorisation,
every other scope gets 403, no key gets 401 (SPEC 2, "Auth").

The table below is the contract, written out by hand; a route missing from it fails the test, so a
new endpoint cannot ship without deciding who may call it.
"""

from __future__ import annotations

import re

import httpx
import pytest

from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key

W, R = Scope.ORDERS_WRITE, Scope.ORDERS_READ
RW, CW, CR = Scope.RECEIPTS_WRITE, Scope.CONTACTS_WRITE, Scope.CONTACTS_READ
AW, SR, SW, GDPR = Scope.ARTICLES_WRITE, Scope.SEGMENTS_READ, Scope.SEGMENTS_WRITE, Scope.GDPR
PUBLIC = frozenset[Scope]()
"""Answered alike for everyone, key or not (405: receipts are immutable)."""

ROUTE_SCOPES: dict[tuple[str, str], frozenset[Scope]] = {
    ("POST", "/orders"): frozenset({W}),
    ("GET", "/orders"): frozenset({R}),
    ("PUT", "/orders/{orderId}"): frozenset({W}),
    ("DELETE", "/orders/{orderId}"): frozenset({W}),
    ("GET", "/orders/{orderId}"): frozenset({R}),
    ("POST", "/orders/{orderId}/change-status"): frozenset({W}),
    ("POST", "/orders/{orderId}/change-delivery"): frozenset({W}),
    ("POST", "/orders/{orderId}/action"): frozenset({W}),
    ("GET", "/orders/jobs/{jobId}"): frozenset({W, R}),
    ("GET", "/orders/jobs"): frozenset({W, R}),
    ("GET", "/communications"): frozenset({R}),
    ("GET", "/integration-log"): frozenset({W, R}),
    ("POST", "/receipts"): frozenset({RW}),
    ("GET", "/receipts"): frozenset({R}),
    ("GET", "/receipts/{uniqueReceiptId}"): frozenset({R}),
    ("GET", "/receipts/jobs/{jobId}"): frozenset({RW, R}),
    ("GET", "/receipts/jobs"): frozenset({RW, R}),
    ("PUT", "/receipts"): PUBLIC,
    ("PATCH", "/receipts"): PUBLIC,
    ("DELETE", "/receipts"): PUBLIC,
    ("PUT", "/receipts/{uniqueReceiptId}"): PUBLIC,
    ("PATCH", "/receipts/{uniqueReceiptId}"): PUBLIC,
    ("DELETE", "/receipts/{uniqueReceiptId}"): PUBLIC,
    ("POST", "/contacts"): frozenset({CW}),
    ("GET", "/contacts/id"): frozenset({CR}),
    ("GET", "/contacts/{contactId}"): frozenset({CR}),
    ("PATCH", "/contacts/{contactId}"): frozenset({CW}),
    ("DELETE", "/contacts/{contactId}"): frozenset({GDPR}),
    ("POST", "/contacts/{contactId}/restore"): frozenset({GDPR}),
    ("POST", "/contacts/{contactId}/personal-data-extract"): frozenset({GDPR}),
    ("GET", "/contacts/{contactId}/loyalty"): frozenset({CR}),
    ("GET", "/gdpr/requests/{requestId}"): frozenset({GDPR}),
    ("GET", "/gdpr/requests/{requestId}/extract"): frozenset({GDPR}),
    ("POST", "/articles"): frozenset({AW}),
    ("POST", "/articles/import"): frozenset({AW}),
    ("GET", "/articles/jobs/{jobId}"): frozenset({AW}),
    ("POST", "/stores"): frozenset({AW}),
    ("GET", "/stores/jobs/{jobId}"): frozenset({AW}),
    ("POST", "/segments"): frozenset({SW}),
    ("GET", "/segments"): frozenset({SR, SW}),
    ("POST", "/segments/preview"): frozenset({SR, SW}),
    ("GET", "/segments/{name}"): frozenset({SR, SW}),
    ("DELETE", "/segments/{name}"): frozenset({SW}),
    ("GET", "/segments/{name}/members"): frozenset({SR, SW}),
}
PREFIX = "/api/v3"
OPERATIONS = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
"""Probes and metrics: outside /api/v3, answered alike with or without a key (they reveal no
data)."""


def served_routes(api: httpx.Client) -> set[tuple[str, str]]:
    paths = api.get("/openapi.json", headers={}).json()["paths"]
    return {
        (method.upper(), path.removeprefix(PREFIX)) for path, ops in paths.items() for method in ops
    }


def call(api: httpx.Client, method: str, path: str) -> httpx.Response:
    """The route with placeholder path parameters and an empty JSON object as the body."""
    concrete = re.sub(r"\{[^}]+\}", "SCOPE-TEST", path)
    body = {"content": b"{}", "headers": {"Content-Type": "application/json"}}
    if method in ("GET", "DELETE"):
        body = {}
    return api.request(method, f"{PREFIX}{concrete}", **body)  # type: ignore[arg-type]


def test_the_table_covers_every_served_route(intake_url: str) -> None:
    with httpx.Client(base_url=intake_url) as api:
        assert served_routes(api) == set(ROUTE_SCOPES) | OPERATIONS


def test_probes_and_metrics_answer_with_or_without_a_key(
    settings: EngageSettings, intake_url: str
) -> None:
    keys = [None, make_key(settings, Scope.ORDERS_READ)]
    for key in keys:
        with httpx.Client(base_url=intake_url, headers={"apikey": key} if key else {}) as api:
            for method, path in sorted(OPERATIONS):
                assert api.request(method, path).status_code == 200, (key, path)


@pytest.mark.parametrize("scope", list(Scope), ids=lambda scope: scope.value)
def test_a_key_reaches_exactly_the_routes_of_its_scope(
    settings: EngageSettings, intake_url: str, scope: Scope
) -> None:
    key = make_key(settings, scope)
    wrong: list[str] = []
    with httpx.Client(base_url=intake_url, headers={"apikey": key}) as api:
        for (method, path), allowed in ROUTE_SCOPES.items():
            status = call(api, method, path).status_code
            if allowed == PUBLIC:
                expected_ok = status == 405
            elif scope == Scope.ADMIN or scope in allowed:
                expected_ok = status not in (401, 403)
            else:
                expected_ok = status == 403
            if not expected_ok:
                wrong.append(f"{method} {path}: {status}")
    assert wrong == []


def test_without_a_key_every_protected_route_answers_401(intake_url: str) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=intake_url) as api:
        for (method, path), allowed in ROUTE_SCOPES.items():
            response = call(api, method, path)
            expected = 405 if allowed == PUBLIC else 401
            if response.status_code != expected:
                wrong.append(f"{method} {path}: {response.status_code}")
            elif expected == 401:
                assert response.headers["www-authenticate"] == "apikey"
    assert wrong == []
