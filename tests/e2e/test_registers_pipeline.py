"""Article and store registers end to end: posted over HTTP, processed by the real Dagster job,
read back from the silver Delta tables; upsert by key, newest landing wins, jobs settled."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import httpx
import polars as pl
import pytest
from sqlalchemy import delete

from assets.registers.articles import ARTICLE_REGISTER
from assets.registers.merge import upsert
from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.tables import ARTICLE_SUBMISSIONS, ARTICLES, STORES
from storage.db import session_scope
from storage.jobs import NewJob
from storage.lake import Lake
from storage.landing import land_batch
from storage.models import PipelineWatermark
from storage.settings import EngageSettings
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.registers import (
    article_xml,
    full_article,
    import_articles,
    post_articles,
    post_stores,
    store,
)

pytestmark = [LAKE_INCIDENTAL, pytest.mark.without_gold]

Process = Callable[[], None]


def silver(settings: EngageSettings, spec: Any) -> pl.DataFrame:
    return Lake(settings.resolved_lake_uri).scan(spec).collect()


def article(settings: EngageSettings, sku: str) -> dict[str, Any]:
    rows = silver(settings, ARTICLES).filter(pl.col("sku") == sku)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def job_state(api: httpx.Client, resource: str, job_id: str) -> dict[str, Any]:
    response = api.get(f"/{resource}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_articles_from_json_and_xml_reach_the_register_with_every_field(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    json_job = post_articles(api, [full_article("JSON-1", 1), full_article("JSON-2", 2)])["jobId"]
    xml_job = import_articles(api, (EXAMPLES / "articles.xml").read_bytes())["jobId"]
    process()

    registered = silver(settings, ARTICLES)
    assert sorted(registered["sku"]) == ["2210-SOCK-GRY-M", "7391-RAIN-BLU-L", "JSON-1", "JSON-2"]
    full = article(settings, "JSON-1")
    sent = full_article("JSON-1", 1)
    assert full["main_category"] == sent["mainCategory"]
    assert full["item_number"] == sent["itemNumber"]
    assert full["awards_bonus"] is True
    assert full["product_category"] == "Outerwear"
    assert full["sub_category"] == "Rain"
    assert full["age_group"] == "Adult"
    assert full["description"] == sent["description"]
    assert full["gtin"] == sent["gtin"]
    assert [full[f"spare{n}"] for n in range(1, 11)] == [sent[f"spare{n}"] for n in range(1, 11)]
    # Date spares are stored in UTC: 08:30 at +02:00 is 06:30 UTC.
    assert full["date_spare1"] == datetime(2025, 1, 1, 6, 30, tzinfo=UTC)
    assert full["date_spare5"] == datetime(2025, 5, 1, 6, 30, tzinfo=UTC)
    assert full["job_id"] == json_job

    jacket = article(settings, "7391-RAIN-BLU-L")
    assert (jacket["name"], jacket["brand"], jacket["awards_bonus"]) == (
        "Rain jacket",
        "Nordvik",
        True,
    )
    assert jacket["date_spare1"] == datetime(2025, 8, 31, 22, 0, tzinfo=UTC)
    socks = article(settings, "2210-SOCK-GRY-M")
    assert (socks["awards_bonus"], socks["gtin"], socks["spare1"]) == (None, None, None)

    for job_id, count in ((json_job, 2), (xml_job, 2)):
        state = job_state(api, "articles", job_id)
        assert (state["status"], state["count"]) == ("Succeeded", count)
        assert "errors" not in state


def test_a_later_registration_replaces_the_article_and_the_newest_landing_wins(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    post_articles(api, [full_article("A", 1)])
    process()
    assert article(settings, "A")["spare3"] == "spare 3 of A"

    # Two registrations of A in one batch: the one that landed last wins, whatever it says.
    post_articles(api, [{"sku": "A", "name": "second", "brand": "Ullmark"}])
    last = post_articles(api, [{"sku": "A", "name": "third"}, {"sku": "B"}])["jobId"]
    process()
    current = article(settings, "A")
    assert (current["name"], current["brand"], current["spare3"]) == ("third", None, None)
    assert current["job_id"] == last
    assert silver(settings, ARTICLES).height == 2


def test_an_older_registration_never_overwrites_a_newer_one(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    post_articles(api, [{"sku": "A", "name": "old"}])
    post_articles(api, [{"sku": "A", "name": "new"}])
    process()
    newest = article(settings, "A")
    # Merging the older registration again (a re-run, a replay) leaves the newer one in place.
    older = silver(settings, ARTICLES).with_columns(
        pl.lit("old").alias("name"), (pl.col("change_seq") - 1).alias("change_seq")
    )
    lake = Lake(settings.resolved_lake_uri)
    metrics = upsert(ARTICLE_REGISTER, lake, older)
    assert metrics.get("num_target_rows_updated", 0) == 0
    assert article(settings, "A") == newest


def test_processing_again_from_the_start_changes_nothing(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    """A run that died after its merge runs again: the register converges to the same rows."""
    first = post_articles(api, [full_article(f"SKU-{n}", n) for n in range(5)])["jobId"]
    post_articles(api, [{"sku": "SKU-2", "name": "renamed"}])
    post_stores(api, [store("S-1")])
    process()
    articles_before = silver(settings, ARTICLES).sort("sku")
    stores_before = silver(settings, STORES)
    _reset_watermarks(settings)
    process()
    assert silver(settings, ARTICLES).sort("sku").equals(articles_before)
    assert silver(settings, STORES).equals(stores_before)
    assert job_state(api, "articles", first)["status"] == "Succeeded"
    assert article(settings, "SKU-2")["name"] == "renamed"


def test_a_big_import_is_processed_in_one_run(
    api: httpx.Client,
    settings: EngageSettings,
    process: Process,
    process_instance: dg.DagsterInstance,
) -> None:
    articles = [full_article(f"BULK-{n:05d}", n) for n in range(3000)]
    job_id = import_articles(api, article_xml(articles))["jobId"]
    process()
    # The run says what it took: 3,000 rows of one job (the newest run is this test's).
    run = process_instance.get_run_records(
        filters=dg.RunsFilter(job_name="process_registers"), limit=1
    )[0].dagster_run
    assert run.tags["engage/article_submissions_rows"] == "3000"
    assert run.tags["engage/article_submissions_jobs"] == "1"
    registered = silver(settings, ARTICLES)
    assert registered.height == 3000
    assert registered["gtin"].n_unique() == 3000
    assert job_state(api, "articles", job_id) | {"createdAt": None} == {
        "jobId": job_id,
        "status": "Succeeded",
        "createdAt": None,
        "count": 3000,
    }


def test_stores_reach_the_register_and_are_upserted_by_external_id(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    first = post_stores(api, [store("S-1"), store("WEB", type="Ecom", city=None)])["jobId"]
    process()
    registered = silver(settings, STORES).sort("external_id")
    assert registered["external_id"].to_list() == ["S-1", "WEB"]
    flagship = registered.row(0, named=True)
    assert {key: flagship[key] for key in ("name", "zip_code", "country_code", "currency")} == {
        "name": "Nordvik Drottninggatan",
        "zip_code": "111 51",
        "country_code": "SE",
        "currency": "SEK",
    }
    assert registered.row(1, named=True)["city"] is None
    assert job_state(api, "stores", first)["status"] == "Succeeded"

    second = post_stores(api, [store("S-1", name="Nordvik Kungsgatan", street="Kungsgatan 2")])
    process()
    moved = silver(settings, STORES).filter(pl.col("external_id") == "S-1").row(0, named=True)
    assert (moved["name"], moved["street"]) == ("Nordvik Kungsgatan", "Kungsgatan 2")
    assert silver(settings, STORES).height == 2
    assert job_state(api, "stores", second["jobId"])["status"] == "Succeeded"


def test_a_bad_registration_in_bronze_fails_its_job_and_the_rest_is_merged(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    """Bronze written by something other than this intake (an old version, a hand repair)."""
    good = post_articles(api, [{"sku": "GOOD"}])["jobId"]
    bad = "00000000-0000-4000-8000-000000000001"
    rows = [
        {"job_id": bad, "api_key_id": "repair", "sku": "FINE", "source": "json",
         "article": json.dumps({"sku": "FINE"})},
        {"job_id": bad, "api_key_id": "repair", "sku": "BAD", "source": "json",
         "article": json.dumps({"sku": "BAD", "gtin": "12"})},
    ]  # fmt: skip
    lake = Lake(settings.resolved_lake_uri)
    job = NewJob(bad, "articles", None, "register", "repair")
    land_batch(lake, settings.resolved_database_url, ARTICLE_SUBMISSIONS, rows, [job])
    process()
    assert sorted(silver(settings, ARTICLES)["sku"]) == ["GOOD"]  # the failed job lands whole
    assert job_state(api, "articles", good)["status"] == "Succeeded"
    failed = job_state(api, "articles", bad)
    assert failed["status"] == "Failed"
    assert [(error["path"], error["code"]) for error in failed["errors"]] == [
        ("/1/gtin", "InvalidGtin")
    ]


def _reset_watermarks(settings: EngageSettings) -> None:
    """Move the register watermarks back to the start, as if the merges had never been recorded."""
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            delete(PipelineWatermark).where(
                PipelineWatermark.name.in_(["article_submissions", "store_submissions"])
            )
        )
