"""Benchmark: full gold rebuild and segment previews at scale (issue 4: 1M orders / 5M lines).

    .venv/bin/python -m bench.gold_rebuild [--orders 1000000] [--keep DIR]

Steps: generate silver tables and contacts (bench/synthetic.py), run the real `build_gold` job
in-process (dimensions, facts, segmentation model, memberships), then time segment previews on
the gold tables it wrote. Floors measured in the same run, because this machine is shared:
- rebuild floor: bare polars reading the same silver tables and writing them once to Delta
  (the I/O every rebuild pays, with none of our joins or checks);
- preview floor: one hand-written polars query per definition on the same gold files.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from bench.synthetic import Scale, write_silver
from pipelines.definitions import build_definitions
from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)
from schemas.segment_definitions import SegmentCriteria
from schemas.tables import ORDER_LINES, ORDERS, RECEIPT_LINES
from storage.lake import Lake
from storage.segment_evaluation import GoldTables, preview
from storage.settings import EngageSettings

PREVIEWS: dict[str, dict] = {
    "ongoing-jackets (issue example)": {
        "all": [
            {
                "order": {
                    "ongoing": True,
                    "line": {"type": "Purchase", "article": {"maincategory": "Jackets"}},
                }
            },
            {"not": {"receipt": {"since": "P30D"}}},
        ]
    },
    "no ongoing order": {"not": {"order": {"ongoing": True}}},
    "brand in 90 days, no open order": {
        "all": [
            {"receipt": {"since": "P90D", "article": {"brand": "Brand 7"}}},
            {"not": {"order": {"ongoing": True}}},
        ]
    },
    "frequent big spenders": {"contact": {"frequency": {"min": 3}, "monetary": {"min": 2000}}},
}


def median_seconds(work: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rebuild_floor(lake: Lake, scratch: Path) -> float:
    """Read the big silver tables and write each once: the I/O floor of any full rebuild."""
    started = time.perf_counter()
    for spec in (ORDERS, ORDER_LINES, RECEIPT_LINES):
        lake.scan(spec).drop("document", strict=False).collect().write_delta(
            str(scratch / spec.name), mode="overwrite"
        )
    return time.perf_counter() - started


def preview_floors(lake: Lake, now: datetime) -> dict[str, Callable[[], object]]:
    """Hand-written polars for the same definitions, reading the same gold files."""
    order, line, receipt = (
        lake.scan(FACT_ORDER),
        lake.scan(FACT_ORDER_LINE),
        lake.scan(FACT_RECEIPT_LINE),
    )
    article, contacts = lake.scan(DIM_ARTICLE), lake.scan(CONTACT_SEGMENTATION)
    jackets = article.filter(pl.col("main_category") == "Jackets").select("article_key")
    ongoing = order.filter(pl.col("is_ongoing"), pl.col("contact_key") != 0)
    recent = receipt.filter(pl.col("created_at") >= pl.lit(now) - pl.duration(days=30))
    jacket_orders = line.filter(pl.col("line_type") == "Purchase").join(
        jackets, on="article_key", how="semi"
    )
    brand = article.filter(pl.col("brand") == "Brand 7").select("article_key")
    brand_buyers = receipt.filter(pl.col("created_at") >= pl.lit(now) - pl.duration(days=90)).join(
        brand, on="article_key", how="semi"
    )

    def ongoing_jackets() -> int:
        members = (
            ongoing.join(jacket_orders, on="order_key", how="semi")
            .select("contact_key")
            .unique()
            .join(recent, on="contact_key", how="anti")
        )
        return members.select(pl.len()).collect().item()

    def no_ongoing() -> int:
        return (
            contacts.join(ongoing, on="contact_key", how="anti").select(pl.len()).collect().item()
        )

    def brand_no_open() -> int:
        members = (
            brand_buyers.select("contact_key").unique().join(ongoing, on="contact_key", how="anti")
        )
        return members.select(pl.len()).collect().item()

    def big_spenders() -> int:
        chosen = contacts.filter(pl.col("frequency") >= 3, pl.col("monetary") >= 2000)
        return chosen.select(pl.len()).collect().item()

    floors = (ongoing_jackets, no_ongoing, brand_no_open, big_spenders)
    return dict(zip(PREVIEWS, floors, strict=True))


def build_gold(settings: EngageSettings) -> float:
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("build_gold")
    started = time.perf_counter()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return time.perf_counter() - started


def run(scale: Scale, home: Path) -> None:
    settings = EngageSettings(home=home)
    lake = Lake(settings.resolved_lake_uri)
    now = datetime.now(UTC)
    started = time.perf_counter()
    write_silver(lake, settings.resolved_database_url, scale, now)
    print(f"silver generated in {time.perf_counter() - started:.1f} s: {scale}")

    floor = rebuild_floor(lake, home / "floor")
    rebuild = build_gold(settings)
    print("\n| step | seconds | floor (bare polars I/O) |\n|---|---|---|")
    print(f"| full gold rebuild (build_gold job) | {rebuild:.1f} | {floor:.1f} |")

    gold = GoldTables.from_lake(lake)
    floors = preview_floors(lake, now)
    print("\n| preview | members | median s | floor median s |\n|---|---|---|---|")
    for name, criteria in PREVIEWS.items():
        parsed = SegmentCriteria.model_validate({"criteria": criteria}).criteria
        count = preview(parsed, gold, now).count
        seconds = median_seconds(lambda parsed=parsed: preview(parsed, gold, now))
        floor_seconds = median_seconds(floors[name])
        print(f"| {name} | {count} | {seconds:.3f} | {floor_seconds:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Build in this folder and keep it.")
    arguments = parser.parse_args()
    scale = Scale(
        orders=arguments.orders,
        contacts=max(arguments.orders // 2, 1),
        receipts=arguments.orders,
        articles=min(20_000, max(arguments.orders // 10, 10)),
    )
    home = arguments.keep or Path(tempfile.mkdtemp(prefix="engage-bench-"))
    try:
        run(scale, home)
    finally:
        if arguments.keep is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
