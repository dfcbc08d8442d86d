"""Order state for the processing benchmarks (`pipeline`, `scaling`): set-up and timed run.

A benchmark of `process_orders` is only honest against a realistic starting point: a lake and an
operational database that already hold S current orders (silver `orders`, `order_lines`,
`order_versions`, the `order_view`), their contacts and the article and store registers; then N
changes landed in bronze `order_changes` in group commits the way the intake lands them
(`storage.landing.land_batch`: one Delta commit and one jobs insert per batch), whose replaces
and status changes hit orders of the state. Only the run of the real job is timed.

Everything comes from `schemas.sample_orders.SampleWorld` (seeded), written column-wise: the
state's orders are the finished life-cycles of orders 0..S-1, so the state's documents are
exactly what processing those life-cycles would have stored.

Landing order and watermark. A change's landing order is `bronze version << 20 | position`, and a
run processes the bronze commits after the watermark. The state's order k gets change_seq
`2**20 + k`, as if it had landed at bronze version `1 + k // 2**20`; bronze gets that many
history commits (each holding the first `HISTORY_SAMPLE` creates of its block, not all 5M
bodies: the pipeline never reads bronze before the watermark) and the watermark is set to the
last of them. The N changes then land after it, so a run processes exactly those.

Simplifications, on purpose: `order_versions` holds only the current version of each state order
(the real history has 2-4 per order; `order_versions` is read by change_seq ranges, which the
file statistics prune) and the jobs table holds only the N new jobs.

    .venv/bin/python -m bench.order_state prepare --home DIR --orders 5000 --changes 1000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.incremental import CHANGE_SEQ_BITS
from assets.orders.documents import version_tag_for
from assets.orders.silver import ORDER_LINES_MERGED, ORDERS_MERGED, WATERMARK
from assets.orders.state import latest_versions_in_range, outcomes_in_range
from bench.state_cache import restore_or_build
from bench.synthetic import conform
from pipelines.definitions import build_definitions
from pipelines.sensors import BRONZE_SOURCES, bronze_progress, caught_up
from schemas.sample_orders import (
    DEFAULT_SEED,
    STORES,
    ChangeMix,
    SampleWorld,
    Timeline,
    pick,
)
from schemas.tables import (
    ARTICLES,
    ORDER_CHANGES,
    ORDER_LINES,
    ORDER_VERSIONS,
    ORDERS,
)
from schemas.tables import (
    STORES as STORES_TABLE,
)
from storage.db import engine_for, migrate, session_scope
from storage.jobs import NewJob
from storage.lake import Lake
from storage.landing import land_batch
from storage.settings import EngageSettings
from storage.watermarks import get_watermark, set_watermark

BENCH_API_KEY = "00000000-0000-4000-8000-00000000bead"
STATE_SLICE = 200_000
"""State orders generated and written per slice: bounds the set-up's memory at 5M orders."""
HISTORY_SAMPLE = 2000
BATCH_ROWS = 2000
"""Changes per group commit: the intake's ENGAGE_GROUP_COMMIT_MAX_ROWS default."""
IF_MATCH_PERCENT = 20
"""Replaces that send the state's versionTag as If-Match (a VersionConflict if the order changed
earlier in the batch)."""
S_IF_MATCH = 90
HISTORY_DAYS = 730
LIFECYCLE_DAYS = 40
"""Longer than any sample life-cycle: changes land after every state order has finished."""
SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"
"""How SQLAlchemy stores DateTime on SQLite (rows are inserted through the driver, for speed)."""


@dataclass(frozen=True)
class StatePlan:
    """What a state holds: `orders` current orders, a contact per three orders, a catalogue."""

    orders: int
    seed: int = DEFAULT_SEED

    @property
    def contacts(self) -> int:
        return max(10, self.orders // 3)

    @property
    def articles(self) -> int:
        return min(20_000, max(100, self.orders // 50))

    @property
    def history_commits(self) -> int:
        """Bronze commits before the watermark: state order k landed in commit 1 + k >> 20."""
        return 1 + max(self.orders - 1, 0) // (1 << CHANGE_SEQ_BITS)

    def world(self) -> SampleWorld:
        seconds_per_order = max(1, HISTORY_DAYS * 86_400 // max(self.orders, 1))
        start = datetime(2024, 1, 1, tzinfo=UTC)
        return SampleWorld(
            seed=self.seed,
            articles=self.articles,
            contacts=self.contacts,
            timeline=Timeline(start=start, seconds_per_order=seconds_per_order),
        )

    @property
    def landed_from(self) -> datetime:
        """lastChangedAt of the first landed change: after every state order's life-cycle."""
        timeline = self.world().timeline
        span = timedelta(seconds=self.orders * timeline.seconds_per_order)
        return timeline.start + span + timedelta(days=LIFECYCLE_DAYS)


def bench_settings(home: Path) -> EngageSettings:
    """Settings of a benchmark installation under `home` (SQLite, local lake)."""
    return EngageSettings(
        home=home, lake_uri=str(home / "lake"), database_url=f"sqlite:///{home / 'engage.db'}"
    )


def state_job_id(seed: int, index: int) -> str:
    """The job that made state order `index`'s current version."""
    return f"{seed % 10**8:08d}-5157-4000-8000-{index:012d}"


def history_job_id(seed: int, index: int) -> str:
    """The job of state order `index`'s create, as kept in the bronze history sample."""
    return f"{seed % 10**8:08d}-c0de-4000-8000-{index:012d}"


def state_change_seq(index: int) -> int:
    return (1 << CHANGE_SEQ_BITS) + index


# --------------------------------------------------------------------------- the state


def build_state(home: Path, plan: StatePlan) -> int:
    """Write registers, contacts, the state's orders and the bronze history under `home`;
    returns the watermark (bronze version the state is processed through)."""
    settings = bench_settings(home)
    url = settings.resolved_database_url
    migrate(url)
    lake = Lake(settings.resolved_lake_uri)
    world = plan.world()
    _write_registers(lake, world)
    _write_contacts(url, world)
    for first in range(0, plan.orders, STATE_SLICE):
        _write_state_slice(lake, url, world, first, min(STATE_SLICE, plan.orders - first))
    watermark = _write_history(lake, world, plan)
    with session_scope(url) as session:
        for name in (WATERMARK, ORDERS_MERGED, ORDER_LINES_MERGED):
            set_watermark(session, name, watermark)
    close_database(url)
    return watermark


def close_database(url: str) -> None:
    """Checkpoint SQLite's write-ahead log and close the pool, so the file can be copied."""
    with engine_for(url).connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine_for(url).dispose()


def _write_registers(lake: Lake, world: SampleWorld) -> None:
    now = datetime.now(UTC)
    articles = pl.DataFrame(
        [
            {
                "sku": article.sku,
                "number": article.number,
                "name": article.name,
                "main_category": article.main_category,
                "item_number": article.item_number,
                "awards_bonus": True,
                "brand": article.brand,
                "color": article.color,
                "product_category": article.product_category,
                "age_group": "Adult",
                "season": article.season,
                "size": article.size,
                "gender": article.gender,
                "gtin": article.gtin,
            }
            for article in world.catalogue
        ]
    ).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("change_seq"),
        pl.lit("bench").alias("job_id"),
        pl.lit(now).alias("registered_at"),
    )
    stores = pl.DataFrame(
        [
            {
                "external_id": store.external_id,
                "name": store.name,
                "type": store.type,
                "city": store.city,
                "country_code": store.country_code,
                "currency": store.currency,
                "chain": "Nordvik Retail",
            }
            for store in STORES
            if store.registered
        ]
    ).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("change_seq"),
        pl.lit("bench").alias("job_id"),
        pl.lit(now).alias("registered_at"),
    )
    lake.overwrite(ARTICLES, conform(ARTICLES, articles).to_arrow())
    lake.overwrite(STORES_TABLE, conform(STORES_TABLE, stores).to_arrow())


def _write_contacts(url: str, world: SampleWorld) -> None:
    """The contact pool, straight into the contacts table (the driver's executemany)."""
    created = datetime(2023, 6, 1, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    contacts = world.pool.frame().select(
        "contact_id",
        pl.lit("Member").alias("contact_type"),
        "first_name",
        "last_name",
        "email",
        "country_code",
        "gender",
        pl.lit(created).alias("created_at"),
        pl.lit(created).alias("updated_at"),
    )
    columns = "id, contact_type, first_name, last_name, email, country_code, gender, "
    columns += "created_at, updated_at"
    statement = f"INSERT INTO contacts ({columns}) VALUES ({', '.join(['?'] * 9)})"
    with engine_for(url).begin() as connection:
        for chunk in contacts.iter_slices(100_000):
            connection.exec_driver_sql(statement, chunk.rows())


def _write_state_slice(lake: Lake, url: str, world: SampleWorld, first: int, count: int) -> None:
    """State orders first..first+count-1 into orders, order_versions, order_lines and the view."""
    orders, lines = world.order_frames(world.final_state_spec(first, count))
    seed = world.seed
    job_ids = [state_job_id(seed, index) for index in range(first, first + count)]
    orders = orders.with_columns(
        pl.Series("job_id", job_ids),
        pl.Series("version_tag", [version_tag_for(job_id) for job_id in job_ids]),
        (pl.col("order_index") + (1 << CHANGE_SEQ_BITS)).alias("change_seq"),
        (
            1
            + pl.col("tracked").cast(pl.Int64)
            + (pl.col("status") != "InProgress").cast(pl.Int64)
            + (pl.col("returns") > 0).cast(pl.Int64)
        ).alias("version_number"),
        pl.when(pl.col("returns") > 0)
        .then(pl.lit("replace"))
        .when(pl.col("status") != "InProgress")
        .then(pl.lit("change_status"))
        .when(pl.col("tracked"))
        .then(pl.lit("change_delivery"))
        .otherwise(pl.lit("create"))
        .alias("change_type"),
        pl.when(pl.col("contact_index").is_not_null())
        .then(
            pl.lit("c0000000-0000-4000-8000-")
            + pl.col("contact_index").cast(pl.String).str.zfill(12)
        )
        .alias("contact_id"),
    )
    rows = orders.select(
        "order_id",
        "version_tag",
        "version_number",
        "change_seq",
        "job_id",
        "change_type",
        "contact_id",
        pl.col("match_key").alias("contact_match_key"),
        pl.lit("Email").alias("contact_match_key_type"),
        "status",
        "external_status",
        pl.col("store_id").alias("external_store_id"),
        "channel",
        pl.col("currency").alias("currency_code"),
        "order_type",
        "line_count",
        (pl.col("sub_total_cents") / 100).alias("sub_total"),
        "created_at",
        "last_changed_at",
        "delivery_date",
        pl.col("last_changed_at").alias("landed_at"),
        pl.col("last_changed_at").alias("processed_at"),
        "document",
    )
    lake.append(ORDERS, conform(ORDERS, rows).to_arrow())
    versions = rows.with_columns(pl.lit(False).alias("is_deleted"))
    lake.append(ORDER_VERSIONS, conform(ORDER_VERSIONS, versions).to_arrow())
    line_rows = lines.join(
        orders.select("row", "order_id", "version_tag", "change_seq", "contact_id"),
        on="row",
        how="left",
        maintain_order="left",
    ).select(
        "order_id",
        pl.col("line_number").cast(pl.Int32),
        "line_id",
        "version_tag",
        "change_seq",
        "contact_id",
        "line_type",
        "sku",
        "article_name",
        "quantity",
        *(
            (pl.col(f"{name}_cents") / 100).alias(name)
            for name in ("price", "original_price", "total", "original_total", "discount")
        ),
    )
    line_rows = line_rows.rename(
        {
            "price": "price_per_unit",
            "original_price": "original_price_per_unit",
            "total": "total_price",
            "original_total": "original_total_price",
            "discount": "discount_amount",
        }
    )
    lake.append(ORDER_LINES, conform(ORDER_LINES, line_rows).to_arrow())
    view = rows.select(
        "order_id",
        "contact_id",
        "version_tag",
        "version_number",
        "change_seq",
        "status",
        pl.col("created_at").dt.strftime(SQLITE_TIME),
        pl.col("last_changed_at").dt.strftime(SQLITE_TIME),
        pl.col("processed_at").dt.strftime(SQLITE_TIME),
        "document",
    )
    statement = (
        "INSERT INTO order_view (order_id, contact_id, version_tag, version_number, change_seq, "
        "status, created_at, last_changed_at, processed_at, document) "
        f"VALUES ({', '.join(['?'] * 10)})"
    )
    with engine_for(url).begin() as connection:
        for chunk in view.iter_slices(50_000):
            connection.exec_driver_sql(statement, chunk.rows())


def _write_history(lake: Lake, world: SampleWorld, plan: StatePlan) -> int:
    """One bronze commit per 2**20 state orders, holding a sample of that block's creates."""
    for commit in range(plan.history_commits):
        first = commit << CHANGE_SEQ_BITS
        count = min(HISTORY_SAMPLE, plan.orders - first)
        indices = pl.DataFrame(
            {"order_index": pl.int_range(first, first + count, eager=True, dtype=pl.Int64)}
        )
        orders, _ = world.order_frames(world.create_spec(indices))
        rows = orders.select(
            pl.Series("job_id", [history_job_id(world.seed, i) for i in orders["order_index"]]),
            "order_id",
            pl.lit("create").alias("change_type"),
            pl.col("created_at").alias("landed_at"),
            (pl.col("order_index") - first).cast(pl.Int32).alias("batch_position"),
            pl.lit(BENCH_API_KEY).alias("api_key_id"),
            pl.lit(None, pl.String).alias("if_match"),
            "body",
            pl.col("match_key").alias("contact_match_key"),
            pl.lit("Email").alias("contact_match_key_type"),
        )
        lake.append(ORDER_CHANGES, rows.to_arrow())
    version = lake.version(ORDER_CHANGES)
    if version != plan.history_commits:
        raise AssertionError(f"bronze at version {version}, expected {plan.history_commits}")
    return version


# --------------------------------------------------------------------------- the changes


def change_batches(
    plan: StatePlan, changes: int, mix: ChangeMix | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The N changes as bronze rows, one list per group commit, with If-Match on some replaces."""
    world = plan.world()
    for rows in world.iter_change_rows(
        changes,
        existing_orders=plan.orders,
        landed_from=plan.landed_from,
        mix=mix,
        batch_rows=BATCH_ROWS,
        api_key_id=BENCH_API_KEY,
    ):
        for start in range(0, rows.height, BATCH_ROWS):
            batch = rows.slice(start, BATCH_ROWS).to_dicts()
            for row in batch:
                if row["change_type"] == "replace" and _sends_if_match(plan.seed, row["job_id"]):
                    row["if_match"] = version_tag_for(state_job_id(plan.seed, row["order_index"]))
            yield batch


def _sends_if_match(seed: int, job_id: str) -> bool:
    return pick(seed, S_IF_MATCH, int(job_id[-12:]), 100) < IF_MATCH_PERCENT


def land_changes(home: Path, plan: StatePlan, changes: int, mix: ChangeMix | None = None) -> int:
    """Land `changes` changes through the intake's landing (one commit + jobs insert per batch);
    returns the bronze version after them."""
    settings = bench_settings(home)
    lake = Lake(settings.resolved_lake_uri)
    url = settings.resolved_database_url
    for batch in change_batches(plan, changes, mix):
        jobs = [
            NewJob(row["job_id"], "orders", row["order_id"], row["change_type"], BENCH_API_KEY)
            for row in batch
        ]
        land_batch(lake, url, ORDER_CHANGES, batch, jobs)
    close_database(url)
    return lake.version(ORDER_CHANGES)


def copy_installation(source: Path, target: Path) -> None:
    """A copy of a prepared installation (lake and SQLite database), to run on without
    touching the original."""
    shutil.copytree(source, target)


@dataclass(frozen=True)
class Prepared:
    home: str
    orders: int
    changes: int
    watermark: int
    bronze_version: int
    seconds: float
    cached: bool = False
    """Restored from bench/state_cache.py rather than built."""


def prepare(
    home: Path,
    plan: StatePlan,
    changes: int,
    template: Path | None = None,
    floor_copy: bool = False,
) -> Prepared:
    """A state (built, or copied from `template`) plus `changes` landed changes under `home`,
    or the same installation restored from the cache of earlier runs.

    With `floor_copy`, the `orders` table is copied to `home/floor/orders` before the changes
    land: the floor merges into that copy.
    """
    started = time.perf_counter()

    def build(target: Path) -> dict[str, int]:
        if template is None:
            watermark = build_state(target, plan)
        else:
            copy_installation(template, target)
            watermark = plan.history_commits
        if floor_copy:
            lake = Lake(bench_settings(target).resolved_lake_uri)
            shutil.copytree(lake.uri(ORDERS), target / "floor" / ORDERS.path)
        return {"watermark": watermark, "bronze_version": land_changes(target, plan, changes)}

    parameters = {"orders": plan.orders, "seed": plan.seed, "changes": changes}
    versions, cached = restore_or_build(home, {**parameters, "floor_copy": floor_copy}, build)
    seconds = time.perf_counter() - started
    return Prepared(str(home), plan.orders, changes, **versions, seconds=seconds, cached=cached)


def build_cached_state(home: Path, plan: StatePlan) -> int:
    """`build_state`, or its result restored from the cache; returns the watermark."""
    parameters = {"orders": plan.orders, "seed": plan.seed, "state_only": True}
    result, _ = restore_or_build(
        home, parameters, lambda target: {"watermark": build_state(target, plan)}
    )
    return result["watermark"]


# --------------------------------------------------------------------------- timed run


@dataclass(frozen=True)
class RunTiming:
    seconds: float
    steps: dict[str, float]
    """Dagster step durations (seconds) by step key."""
    step_peak_rss_mb: dict[str, float]
    """Highest resident memory of this process (MB) seen while each step ran (sampled every
    50 ms; the whole process, so it includes what earlier steps left allocated)."""
    runs: int = 1
    """Runs it took: one per ENGAGE_MAX_CHANGES_PER_RUN landed changes."""
    peak_rss_mb: float | None = None
    """Highest resident memory of this process (MB) seen while the job ran (sampled every
    50 ms): the job's peak, without what the process does before or after it (the floor)."""


class RssSampler:
    """Samples this process's resident memory in a thread, to tell which step needs it.

    Linux only (/proc/self/statm); elsewhere it records nothing.
    """

    INTERVAL = 0.05

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        statm = Path("/proc/self/statm")
        if not statm.exists():
            return
        while not self._stop.is_set():
            resident = int(statm.read_text().split()[1])
            self.samples.append((time.time(), resident * self._page_mb))
            self._stop.wait(self.INTERVAL)

    def peak(self) -> float | None:
        return self.peak_between(0.0, math.inf)

    def peak_between(self, start: float, end: float) -> float | None:
        inside = [rss for moment, rss in self.samples if start <= moment <= end]
        return round(max(inside), 1) if inside else None


def run_process_orders(home: Path) -> RunTiming:
    """The real `process_orders` job, in-process on an ephemeral instance, run until the whole
    backlog is processed, as `engage-orders process` runs it (pipelines/processing.py): a run
    takes at most ENGAGE_MAX_CHANGES_PER_RUN changes. Steps are summed over the runs."""
    settings = bench_settings(home)
    job = build_definitions(settings).resolve_job_def("process_orders")
    instance = dg.DagsterInstance.ephemeral()
    lake = Lake(settings.resolved_lake_uri)
    steps: Counter[str] = Counter()
    peaks: dict[str, float] = {}
    runs = 0
    with RssSampler() as sampler:
        started = time.perf_counter()
        done, processed = _progress(lake, settings)
        while not done:
            result = job.execute_in_process(instance=instance)
            if not result.success:
                raise RuntimeError("process_orders failed")
            done, before, processed = *_progress(lake, settings), processed
            if processed == before:
                raise RuntimeError(f"process_orders did not move the watermark past {before}")
            runs += 1
            steps.update(_step_seconds(result))
            for step, peak in _step_peaks(instance, result.run_id, sampler).items():
                peaks[step] = max(peak, peaks.get(step, 0.0))
        seconds = time.perf_counter() - started
    rounded = {step: round(total, 3) for step, total in steps.items()}
    return RunTiming(round(seconds, 3), rounded, peaks, runs, sampler.peak())


def _progress(lake: Lake, settings: EngageSettings) -> tuple[bool, dict[str, int]]:
    """Whether the backlog is processed, and through which bronze version."""
    with session_scope(settings.resolved_database_url) as session:
        versions, processed = bronze_progress(lake, session, BRONZE_SOURCES["process_orders"])
    return caught_up(versions, processed), processed


def _step_seconds(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    return {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.step_key
    }


def _step_peaks(instance: dg.DagsterInstance, run_id: str, sampler: RssSampler) -> dict[str, float]:
    started: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and entry.step_key in started:
            peak = sampler.peak_between(started[entry.step_key], entry.timestamp)
            if peak is not None:
                peaks[entry.step_key] = peak
    return peaks


def processed_summary(home: Path, watermark: int) -> dict[str, int]:
    """What the run produced, to check it processed every landed change (not timed)."""
    settings = bench_settings(home)
    lake = Lake(settings.resolved_lake_uri)
    bronze = lake.version(ORDER_CHANGES)
    with session_scope(settings.resolved_database_url) as session:
        processed_through = get_watermark(session, WATERMARK)
    if processed_through != bronze:
        raise AssertionError(f"watermark {processed_through}, bronze at {bronze}")
    results = outcomes_in_range(lake, watermark, bronze)
    return {
        "orders_after": lake.scan(ORDERS).select(pl.len()).collect().item(),
        "orders_changed": latest_versions_in_range(lake, watermark, bronze).height,
        "failed_changes": results.filter(pl.col("status") == "Failed").height,
    }


def warm_up(work_dir: Path) -> None:
    """One tiny run first: the first run in a process pays one-time costs (imports done lazily
    by Dagster, pandera and pydantic, schema building) that are no part of processing."""
    plan = StatePlan(orders=40, seed=1)
    prepare(work_dir, plan, changes=30)
    run_process_orders(work_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("prepare", help="build a state and land changes")
    command.add_argument("--home", type=Path, required=True)
    command.add_argument("--orders", type=int, required=True)
    command.add_argument("--changes", type=int, required=True)
    command.add_argument("--seed", type=int, default=DEFAULT_SEED)
    command.add_argument("--template", type=Path, help="copy this prepared state first")
    command.add_argument("--floor-copy", action="store_true")
    arguments = parser.parse_args()
    prepared = prepare(
        arguments.home,
        StatePlan(arguments.orders, arguments.seed),
        arguments.changes,
        template=arguments.template,
        floor_copy=arguments.floor_copy,
    )
    json.dump(asdict(prepared), sys.stdout)


def prepare_in_child(
    home: Path, plan: StatePlan, changes: int, floor_copy: bool = False
) -> Prepared:
    """`prepare` in a process of its own, so the set-up's memory does not count in the
    figure's peak RSS."""
    command = [
        sys.executable,
        "-m",
        "bench.order_state",
        "prepare",
        "--home",
        str(home),
        "--orders",
        str(plan.orders),
        "--changes",
        str(changes),
        "--seed",
        str(plan.seed),
    ]
    if floor_copy:
        command.append("--floor-copy")
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return Prepared(**json.loads(completed.stdout))


if __name__ == "__main__":
    main()
