"""Figure `get_order`: `GET /api/v3/orders/{orderId}` latency under a constant 200 req/s.

The order view (the operational database's `order_view` table, SQLite by default) is seeded
directly with 1M orders in full mode (100k quick, 1k smoke): ~3.4 KB JSON documents like the ones
the pipeline publishes, most of them linked to a live contact, because the product's read checks
that the contact is not soft-deleted. Seeding goes through `sqlite3.executemany` in one
transaction with `synchronous=OFF` (running the real pipeline for 1M orders would take longer
than the measurement and is measured by other figures); the WAL is checkpointed afterwards so
that the reads see a settled database file.

The product: `engage-orders serve` (uvicorn, one worker) in a process of its own, with a real API
key. The floor, measured in the same run: a bare FastAPI route served by uvicorn the same way,
reading the same row from the same SQLite file with a plain SQLAlchemy Core `select`, returning
the stored document as it is (no authentication, contact check, or re-serialisation).

Load: the paced client of bench/loadgen.py, from this process: one request every 5 ms (open
model; latency counted from when a request was due, up to 16 connections), each for an order
drawn at random from the seeded ones, the same sequence for both sides, after a warm-up with
other ids. Not autocannon: its `overallRate` makes every connection fire at the same instants,
so 16 connections at 200 req/s arrive as bursts of 16 every 80 ms, and the floor's median
measured ~11.6 ms that way against ~0.9 ms with one connection: it measured the bursts.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import create_engine, select
from sqlalchemy.dialects import sqlite

from bench.harness import BenchContext
from bench.loadgen import (
    HttpPool,
    Sample,
    answer_kind,
    describe,
    floor_server_command,
    free_port,
    new_api_key,
    paced,
    percentile,
    product_settings,
    run_async,
    served,
    served_intake,
)
from bench.order_payloads import ID_PLACEHOLDER, order_body
from bench.state_cache import restore_or_build
from storage.apikeys import Scope
from storage.db import engine_for, migrate
from storage.models import OrderView

RATE_PER_S = 200
CONNECTIONS = 16
ORDERS_PER_CONTACT = 4
NO_CONTACT_EVERY = 10
"""Every 10th order has no contact (an unknown e-mail), as happens in real intakes."""
CHUNK = 5_000
FLOOR_DATABASE_ENV = "BENCH_FLOOR_DATABASE_URL"


def order_id(index: int) -> str:
    return f"WEB-{index:08d}"


def create_floor_app() -> FastAPI:
    """The floor: one route, one Core `select` by primary key, the stored document as the body."""
    engine = create_engine(os.environ[FLOOR_DATABASE_ENV])
    table = OrderView.__table__
    app = FastAPI()

    @app.get("/api/v3/orders/{order_id}")
    def read_order(order_id: str) -> Response:
        with engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.order_id == order_id)).first()
        if row is None:
            return Response(status_code=404)
        return Response(row.document, media_type="application/json")

    return app


def seed_order_view(database_path: Path, orders: int, seed: int) -> None:
    """Insert `orders` orders (and their contacts) straight into the operational database."""
    rng = random.Random(seed)
    dialect = sqlite.dialect()
    stamp = OrderView.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert stamp is not None
    now = datetime.now(UTC)
    contacts = [
        str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for _ in range(orders // ORDERS_PER_CONTACT)
    ]
    prefix, suffix = order_body(ID_PLACEHOLDER).split(ID_PLACEHOLDER)
    connection = sqlite3.connect(database_path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        contact_stamp = stamp(now - timedelta(days=400))
        connection.executemany(
            "INSERT INTO contacts (id, contact_type, email, created_at, updated_at) "
            "VALUES (?, 'Member', ?, ?, ?)",
            (
                (contact_id, f"contact{index}@example.org", contact_stamp, contact_stamp)
                for index, contact_id in enumerate(contacts)
            ),
        )
        for start in range(0, orders, CHUNK):
            rows = []
            for index in range(start, min(start + CHUNK, orders)):
                created = stamp(now - timedelta(minutes=index))
                no_contact = index % NO_CONTACT_EVERY == 0 or not contacts
                rows.append(
                    (
                        order_id(index),
                        None if no_contact else contacts[index % len(contacts)],
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        1,
                        index + 1,
                        "InProgress",
                        created,
                        created,
                        created,
                        prefix + order_id(index) + suffix,
                    )
                )
            connection.executemany(
                "INSERT INTO order_view (order_id, contact_id, version_tag, version_number, "
                "change_seq, status, created_at, last_changed_at, processed_at, document) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


@dataclass(frozen=True)
class Measured:
    """Latencies of the 200 answers of one paced run, and how many answers were not 200."""

    p50_ms: float
    p99_ms: float
    max_ms: float
    achieved_rate_per_s: float
    failed: int
    failures: str
    """The answers other than 200, by kind (see `loadgen.answer_kind`)."""


def _paced_gets(port: int, paths: list[str], headers: dict[str, str]) -> Measured:
    async def send() -> list[Sample]:
        pool = HttpPool(port, headers=headers, max_connections=CONNECTIONS)
        try:
            return await paced(
                pool, lambda index: ("GET", paths[index], None), rate=RATE_PER_S, count=len(paths)
            )
        finally:
            await pool.close()

    started = time.perf_counter()
    samples = run_async(send)
    elapsed = time.perf_counter() - started
    latencies = [sample.latency_s * 1000 for sample in samples if sample.status == 200]
    return Measured(
        p50_ms=round(percentile(latencies, 0.5), 3),
        p99_ms=round(percentile(latencies, 0.99), 3),
        max_ms=round(max(latencies, default=math.nan), 3),
        achieved_rate_per_s=round(len(samples) / elapsed, 1),
        failed=len(samples) - len(latencies),
        failures=describe(Counter(answer_kind(s) for s in samples if s.status != 200)),
    )


def _load(port: int, paths: list[str], warmup: list[str], headers: dict[str, str]) -> Measured:
    """A warm-up (connections, the server's thread pool, SQLite's page cache), then the run."""
    if warmup:
        _paced_gets(port, warmup, headers)
    return _paced_gets(port, paths, headers)


def run(context: BenchContext) -> dict[str, Any]:
    orders = context.size(1_000_000, 100_000, 1_000)
    duration_s = context.size(60, 8, 2)
    settings = product_settings(context.work_dir)

    def seed(home: Path) -> dict[str, Any]:
        """The migrated database with the seeded order view (cached for the next run)."""
        migrate(settings.resolved_database_url)
        seed_order_view(home / "engage.db", orders, context.seed)
        engine_for(settings.resolved_database_url).dispose()
        return {}

    started = time.perf_counter()
    parameters = {"figure": "get_order", "orders": orders, "seed": context.seed}
    _, seed_cached = restore_or_build(settings.resolved_home, parameters, seed)
    seed_seconds = time.perf_counter() - started
    key = new_api_key(settings, Scope.ORDERS_READ)

    rng = random.Random(context.seed + 1)
    count = RATE_PER_S * duration_s
    paths = [f"/api/v3/orders/{order_id(rng.randrange(orders))}" for _ in range(count)]
    warmup_s = context.size(5, 2, 0)
    warmup = [
        f"/api/v3/orders/{order_id(rng.randrange(orders))}" for _ in range(RATE_PER_S * warmup_s)
    ]

    floor_port = free_port()
    floor_command = floor_server_command("bench.get_order:create_floor_app", floor_port)
    with served(
        floor_command,
        port=floor_port,
        log_path=context.work_dir / "floor.log",
        env={FLOOR_DATABASE_ENV: settings.resolved_database_url},
    ):
        floor = _load(floor_port, paths, warmup, {})

    with served_intake(settings, context.work_dir / "intake.log") as port:
        product = _load(port, paths, warmup, {"apikey": key})

    return {
        "orders": orders,
        "rate_per_s": RATE_PER_S,
        "p50_ms": product.p50_ms,
        "p99_ms": product.p99_ms,
        "floor_p50_ms": floor.p50_ms,
        "floor_p99_ms": floor.p99_ms,
        "max_ms": product.max_ms,
        "floor_max_ms": floor.max_ms,
        "achieved_rate_per_s": product.achieved_rate_per_s,
        "non_2xx": product.failed,
        "floor_non_2xx": floor.failed,
        "non_2xx_detail": product.failures,
        "requests": len(paths),
        "seed_seconds": round(seed_seconds, 1),
        "seed_cached": seed_cached,
        "database_mb": round((settings.resolved_home / "engage.db").stat().st_size / 2**20, 1),
        "duration_s": duration_s,
    }
