"""Prometheus metrics of the intake, served at `GET /metrics`.

Labels carry only route templates (`/api/v3/orders/{orderId}`), methods, statuses and table
names: never an id, a body or a key, so the scrape holds no personal data. Each app has a
registry of its own (tests build many apps in one process).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

METRICS_FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Set (by `engage-orders serve --workers N`) before the workers start: each then counts in
files there, and any worker's `/metrics` answers for all of them."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class IntakeMetrics:
    """Requests, their latency, landed rows, group-commit batch sizes and landing failures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "engage_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "engage_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.landed_rows = Counter(
            "engage_landed_rows",
            "Rows committed durably to a bronze table (each acknowledged with a 202).",
            ["table"],
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "engage_group_commit_batch_rows",
            "Rows per group commit: how many requests shared one Delta commit.",
            ["table"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.landing_failures = Counter(
            "engage_landing_failures",
            "Group commits that failed; their requests were answered 503.",
            ["table"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_commit(self, table: str, rows: int) -> None:
        self.landed_rows.labels(table).inc(rows)
        self.batch_rows.labels(table).observe(rows)

    def observe_landing_failure(self, table: str) -> None:
        self.landing_failures.labels(table).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format, of every worker when there are several."""
        if not os.environ.get(METRICS_FOLDER_VARIABLE):
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker)
        return generate_latest(every_worker)
