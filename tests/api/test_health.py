"""Probes and metrics over HTTP: `/healthz`, `/readyz` and `/metrics` of the running intake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from storage.settings import EngageSettings
from tests.support.orders import JSON, order_body, post_order
from tests.support.receipts import receipt_body


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_liveness_and_readiness_answer_without_a_key(intake_url: str) -> None:
    with httpx.Client(base_url=intake_url) as http:
        live = http.get("/healthz")
        ready = http.get("/readyz")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "lake": "ok"}}


def test_readiness_is_503_naming_the_lake_when_it_is_gone_and_liveness_stays_200(
    intake_url: str, settings: EngageSettings, tmp_path: Path
) -> None:
    lake = Path(settings.resolved_lake_uri)
    moved = tmp_path / "lake-away"
    shutil.move(lake, moved)
    try:
        with httpx.Client(base_url=intake_url) as http:
            ready = http.get("/readyz")
            live = http.get("/healthz")
        recreated = lake.exists()  # the probe must not create an empty lake in its place
    finally:
        shutil.move(moved, lake)

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "lake": "unreachable"},
    }
    assert live.status_code == 200
    assert not recreated


def test_metrics_count_requests_by_route_landed_rows_and_batches_without_ids(
    api: httpx.Client, intake_url: str
) -> None:
    for number in range(3):
        post_order(api, order_body(f"METRICS-SECRET-{number}"))
    api.post(
        "/receipts", content=json.dumps(receipt_body(receipt_id="R-METRICS-SECRET")), headers=JSON
    )
    api.post("/orders", content=b"{", headers=JSON)
    api.get("/orders/METRICS-SECRET-0")

    with httpx.Client(base_url=intake_url) as http:
        scrape = http.get("/metrics")

    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert "SECRET" not in scrape.text
    values = samples(scrape.text)
    requests = "engage_http_requests_total"
    assert (
        values[(requests, (("method", "POST"), ("route", "/api/v3/orders"), ("status", "202")))]
        == 3
    )
    assert (
        values[(requests, (("method", "POST"), ("route", "/api/v3/orders"), ("status", "400")))]
        == 1
    )
    assert (
        values[
            (
                requests,
                (("method", "GET"), ("route", "/api/v3/orders/{orderId}"), ("status", "404")),
            )
        ]
        == 1
    )
    assert values[("engage_landed_rows_total", (("table", "order_changes"),))] == 3
    assert values[("engage_landed_rows_total", (("table", "receipt_submissions"),))] == 1
    batches = values[("engage_group_commit_batch_rows_count", (("table", "order_changes"),))]
    assert 1 <= batches <= 3
    latency = "engage_http_request_duration_seconds_count"
    assert values[(latency, (("method", "POST"), ("route", "/api/v3/orders")))] == 4
