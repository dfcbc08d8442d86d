"""Helpers to build Orders v3 bodies and drive the order API in tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import httpx

from schemas.examples import EXAMPLES_DIR as EXAMPLES

JSON = {"content-type": "application/json"}


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def example(name: str) -> dict[str, Any]:
    """A fresh copy of an example body from the specification."""
    return copy.deepcopy(_example(name))


def order_body(order_id: str = "WEB-2025-000481", **changes: Any) -> dict[str, Any]:
    """The specification's example order under another id, with top-level fields changed."""
    body = example("order-create.json")
    body["orderId"] = order_id
    body.pop("action", None)
    body.update(changes)
    return body


def accepted_job(response: httpx.Response) -> str:
    """The job id of a 202 answer (fails the test with the body otherwise)."""
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    assert response.headers["location"] == f"/api/v3/orders/jobs/{job_id}"
    return job_id


def post_order(api: httpx.Client, body: dict[str, Any], **headers: str) -> str:
    return accepted_job(api.post("/orders", content=json.dumps(body), headers={**JSON, **headers}))


def put_order(api: httpx.Client, body: dict[str, Any], **headers: str) -> str:
    response = api.put(
        f"/orders/{body['orderId']}", content=json.dumps(body), headers={**JSON, **headers}
    )
    return accepted_job(response)


def change(api: httpx.Client, order_id: str, kind: str, body: dict[str, Any]) -> str:
    return accepted_job(
        api.post(f"/orders/{order_id}/{kind}", content=json.dumps(body), headers=JSON)
    )


def job(api: httpx.Client, job_id: str) -> httpx.Response:
    return api.get(f"/orders/jobs/{job_id}", follow_redirects=False)


def succeeded_tag(api: httpx.Client, job_id: str) -> str:
    """The versionTag of a job that must have succeeded (302 to the order)."""
    response = job(api, job_id)
    assert response.status_code == 302, response.text
    body = response.json()
    assert body["status"] == "Succeeded"
    assert response.headers["location"] == f"/api/v3/orders/{body['orderId']}"
    return body["versionTag"]


def failed_codes(api: httpx.Client, job_id: str) -> list[str]:
    """The error codes of a job that must have failed (422 problem)."""
    response = job(api, job_id)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [error["code"] for error in response.json()["errors"]]
