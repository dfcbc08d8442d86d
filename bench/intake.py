"""Figure `intake`: durable `POST /api/v3/orders` throughput and latency at concurrency 64.

The product: `engage-orders serve` (uvicorn, one worker) in a process of its own, with its real
storage in the scratch folder (SQLite operational database, local Delta lake), a real API key,
and a ~3 KB 10-line order (bench/order_payloads.py) with a unique orderId per request. A `202`
from it means the order is committed and fsynced in bronze Delta (group commit).

The floor, measured in the same run on the same machine: the same FastAPI and pydantic stack,
served by uvicorn the same way, validating the same body with the product's request model
(`schemas.orders.Order`, as `ingest_api/routes/orders.py` does) and answering 202 with a job
id, without authentication, the business-rule check, the access log or landing. The ratio of
the two is what we track: it prices everything the product adds to the bare framework.

Load: autocannon with 64 connections over loopback (see bench/loadgen.py for why through its Node
API). The load generator and each server are separate processes, one core each on 2 cores.
"""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bench.harness import BenchContext
from bench.loadgen import (
    AutocannonResult,
    autocannon,
    floor_server_command,
    free_port,
    new_api_key,
    product_settings,
    served,
    served_intake,
)
from bench.order_payloads import order_body_template
from schemas.orders import Order
from schemas.tables import ORDER_CHANGES
from storage.apikeys import Scope
from storage.lake import Lake

CONNECTIONS = 64
ORDERS_PATH = "/api/v3/orders"


def create_floor_app() -> FastAPI:
    """The floor: FastAPI + the product's pydantic order model, answering 202 without landing."""
    app = FastAPI()

    @app.post(ORDERS_PATH, status_code=202)
    async def create_order(request: Request) -> JSONResponse:
        try:
            Order.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"errors": error.errors(include_url=False)}, status_code=400)
        job_id = str(uuid.uuid4())
        status_url = f"{ORDERS_PATH}/jobs/{job_id}"
        return JSONResponse(
            {"jobId": job_id, "links": [{"href": status_url, "rel": "status"}]},
            status_code=202,
            headers={"Location": status_url},
        )

    return app


def _load(
    port: int, body: str, headers: dict[str, str], duration_s: float, warmup_s: float, side: str
) -> AutocannonResult:
    def post_for(seconds: float, id_prefix: str) -> AutocannonResult:
        url = f"http://127.0.0.1:{port}{ORDERS_PATH}"
        return autocannon(
            url,
            method="POST",
            body=body,
            headers=headers,
            connections=CONNECTIONS,
            duration_s=seconds,
            id_prefix=id_prefix,
        )

    if warmup_s > 0:
        post_for(warmup_s, f"{side}-warmup-")
    return post_for(duration_s, f"{side}-")


def run(context: BenchContext) -> dict[str, Any]:
    duration_s = context.size(30, 8, 2)
    warmup_s = context.size(5, 2, 0)
    body = order_body_template("BENCH-")
    json_headers = {"Content-Type": "application/json"}

    floor_port = free_port()
    floor_command = floor_server_command("bench.intake:create_floor_app", floor_port)
    with served(floor_command, port=floor_port, log_path=context.work_dir / "floor.log"):
        floor = _load(floor_port, body, json_headers, duration_s, warmup_s, "floor")

    settings = product_settings(context.work_dir)
    key = new_api_key(settings, Scope.ORDERS_WRITE)
    with served_intake(settings, context.work_dir / "intake.log") as port:
        product = _load(port, body, {**json_headers, "apikey": key}, duration_s, warmup_s, "intake")

    lake = Lake(settings.resolved_lake_uri)
    commits = lake.version(ORDER_CHANGES)
    landed = lake.scan(ORDER_CHANGES).select(pl.len()).collect().item()
    return {
        "orders_per_s": round(product.requests_per_s, 1),
        "p50_ms": product.p50_ms,
        "p99_ms": product.p99_ms,
        "floor_orders_per_s": round(floor.requests_per_s, 1),
        "floor_p50_ms": floor.p50_ms,
        "floor_p99_ms": floor.p99_ms,
        "ratio": round(product.requests_per_s / floor.requests_per_s, 3),
        "non_2xx": product.non_2xx + product.errors + product.timeouts,
        "floor_non_2xx": floor.non_2xx + floor.errors + floor.timeouts,
        "accepted": product.ok_2xx,
        "landed_rows": int(landed),
        "rows_per_commit": round(landed / max(commits, 1), 1),
        "body_bytes": len(body.encode()),
        "connections": CONNECTIONS,
        "duration_s": duration_s,
    }
