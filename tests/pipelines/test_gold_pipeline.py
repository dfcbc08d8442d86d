"""The build_gold job as the daemon runs it: the sensor requests a build when what gold reads
changed since its last launch, skips otherwise, and never starts a second build in flight."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg
import httpx
import polars as pl
import pytest
from dagster._core.test_utils import freeze_time

from assets.gold import GOLD_ASSETS, GOLD_CHECKS
from assets.gold.freshness import GOLD_MAX_AGE
from assets.segments import SEGMENT_ASSETS, SEGMENT_CHECKS
from pipelines.definitions import build_definitions
from pipelines.gold_inputs import GOLD_INPUTS
from pipelines.processing import process_pending
from pipelines.resources import resources_from_settings
from pipelines.sensors import (
    BUILD_GOLD_FRESHNESS_CHECKS,
    build_gold_sensor,
    gold_freshness_sensor,
    segment_definitions_sensor,
)
from schemas.gold_tables import CONTACT_SEGMENTATION, FACT_ORDER
from schemas.tables import ORDER_VERSIONS, ORDERS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.gold import ONGOING_JACKETS
from tests.support.orders import JSON, order_body, post_order, succeeded_tag

DELIVERY = datetime(2025, 11, 23, 17, tzinfo=UTC)
"""deliveryDate of the example order, 2025-11-23T18:00:00+01:00."""


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def evaluate(
    settings: EngageSettings, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, resources=resources_from_settings(settings), cursor=cursor
    )
    return build_gold_sensor(context)


def requested(result: dg.SensorResult | dg.SkipReason) -> dg.RunRequest:
    assert isinstance(result, dg.SensorResult), result
    [request] = result.run_requests
    assert request.run_key == result.cursor
    return request


def run(
    settings: EngageSettings, instance: dg.DagsterInstance, job_name: str, **tags: str
) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def(job_name)
    result = job.execute_in_process(instance=instance, tags=tags)
    assert result.success
    return result


def test_the_sensor_builds_gold_after_processing_and_skips_when_nothing_changed(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    assert [entry.name for entry in GOLD_INPUTS][:2] == ["silver", "contacts"]
    first = evaluate(settings, instance, cursor=None)  # never built: build now
    request = requested(first)
    run(settings, instance, "build_gold", **request.tags)
    assert isinstance(evaluate(settings, instance, first.cursor), dg.SkipReason)

    response = api.post(
        "/contacts", content=json.dumps({"email": "lena.berg@example.org"}), headers=JSON
    )
    contact_id = response.json()["contactId"]
    job_id = post_order(api, order_body("SENSE-1"))
    still_bronze = evaluate(settings, instance, first.cursor)
    # The new contact alone changes the fingerprint; the landed order does not until processed.
    assert "orders-v" in requested(still_bronze).run_key
    run(settings, instance, "process_orders")
    succeeded_tag(api, job_id)
    after_processing = evaluate(settings, instance, still_bronze.cursor)
    assert requested(after_processing).run_key != still_bronze.cursor

    build = run(settings, instance, "build_gold", **requested(after_processing).tags)
    assert build.dagster_run.tags["engage/trigger"] == "sensor"
    checks = build.get_asset_check_evaluations()
    every_check = [key for check in (*GOLD_CHECKS, *SEGMENT_CHECKS) for key in check.check_keys]
    assert len(checks) == len(every_check)
    assert all(check.passed for check in checks)
    # A preview of the registers' rows shows in the UI; no table with contacts has one.
    previews = {
        event.asset_key.to_user_string()
        for event in build.get_asset_materialization_events()
        if "preview" in event.materialization.metadata
    }
    assert previews == {"dim_article", "dim_store"}
    lake = Lake(settings.resolved_lake_uri)
    orders = lake.scan(FACT_ORDER).collect()
    assert orders.select("order_id", "contact_id").rows() == [("SENSE-1", contact_id)]
    assert lake.scan(CONTACT_SEGMENTATION).select(pl.len()).collect().item() == 1
    assert isinstance(evaluate(settings, instance, after_processing.cursor), dg.SkipReason)

    patched = api.patch(f"/contacts/{contact_id}", content='{"gender": "Female"}', headers=JSON)
    assert patched.status_code == 200, patched.text
    requested(evaluate(settings, instance, after_processing.cursor))


def test_process_runs_only_the_jobs_with_work_as_the_sensors_would(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    def runs() -> dict[str, int]:
        names = [record.dagster_run.job_name for record in instance.get_run_records()]
        return {name: names.count(name) for name in sorted(set(names))}

    job_id = post_order(api, order_body("PROCESS-ONCE-1"))
    assert process_pending(settings, instance=instance)
    succeeded_tag(api, job_id)
    # Nothing landed for registers and receipts: their jobs did not run.
    assert runs() == {"build_gold": 1, "deliver_communications": 1, "process_orders": 1}

    assert process_pending(settings, instance=instance)  # nothing new anywhere
    assert runs() == {"build_gold": 1, "deliver_communications": 2, "process_orders": 1}

    # A new segment definition: gold is built again, which refreshes the memberships.
    assert api.post("/segments", json=ONGOING_JACKETS).status_code == 201
    assert process_pending(settings, instance=instance)
    assert runs() == {"build_gold": 2, "deliver_communications": 3, "process_orders": 1}


def test_the_sensor_waits_while_a_build_is_in_flight(
    settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    job = build_definitions(settings).resolve_job_def("build_gold")
    instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    skipped = evaluate(settings, instance, cursor=None)
    assert isinstance(skipped, dg.SkipReason)
    assert "in flight" in (skipped.skip_message or "")


def test_a_lake_from_before_delivery_date_keeps_processing_orders(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    """Tables created by the release without the column get it on first use (rows written
    before read null: tests/unit/test_lake_schema_evolution.py)."""
    lake = Lake(settings.resolved_lake_uri)
    for spec in (ORDER_VERSIONS, ORDERS):
        columns = tuple(column for column in spec.columns if column.name != "delivery_date")
        lake.ensure(replace(spec, columns=columns))
    job_id = post_order(api, order_body("OLD-LAKE-1"))
    run(settings, instance, "process_orders")
    succeeded_tag(api, job_id)
    run(settings, instance, "build_gold")
    fresh = Lake(settings.resolved_lake_uri)
    for spec in (ORDER_VERSIONS, ORDERS, FACT_ORDER):
        assert fresh.scan(spec).collect()["delivery_date"].to_list() == [DELIVERY], spec.name


def evaluate_definitions(
    settings: EngageSettings, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, resources=resources_from_settings(settings), cursor=cursor
    )
    return segment_definitions_sensor(context)


def test_a_saved_definition_refreshes_memberships_without_a_gold_build(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    run(settings, instance, "build_gold")
    idle = evaluate_definitions(settings, instance, cursor=None)
    assert isinstance(idle, dg.SensorResult)  # the first tick records the (empty) definitions
    assert isinstance(evaluate_definitions(settings, instance, idle.cursor), dg.SkipReason)

    saved = api.post("/segments", json={"name": "everyone", "criteria": {"contact": {}}})
    assert saved.status_code == 201, saved.text
    changed = evaluate_definitions(settings, instance, idle.cursor)
    assert isinstance(changed, dg.SensorResult)
    [request] = changed.run_requests
    refresh = run(settings, instance, "refresh_segments", **request.tags)
    materialized = [
        event.asset_key.path[-1] for event in refresh.get_asset_materialization_events()
    ]
    assert materialized == ["segment_memberships"]
    assert api.get("/segments/everyone/members").json()["current"] is True
    assert isinstance(evaluate_definitions(settings, instance, changed.cursor), dg.SkipReason)

    # A description-only edit cannot change who is in it: no refresh.
    described = {"name": "everyone", "description": "All", "criteria": {"contact": {}}}
    assert api.post("/segments", json=described).status_code == 200
    assert isinstance(evaluate_definitions(settings, instance, changed.cursor), dg.SkipReason)

    assert api.delete("/segments/everyone").status_code == 204
    job = build_definitions(settings).resolve_job_def("build_gold")
    instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    waiting = evaluate_definitions(settings, instance, changed.cursor)
    assert isinstance(waiting, dg.SkipReason)
    assert "build_gold" in (waiting.skip_message or "")


def test_gold_tables_fail_their_freshness_check_a_day_and_an_hour_after_the_last_build(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    gold = {asset.key.to_user_string() for asset in (*GOLD_ASSETS, *SEGMENT_ASSETS)}
    keys = [key for check in BUILD_GOLD_FRESHNESS_CHECKS for key in check.check_keys]
    checks_job = dg.define_asset_job("gold_freshness", selection=dg.AssetSelection.checks(*keys))
    job = dg.Definitions(
        asset_checks=BUILD_GOLD_FRESHNESS_CHECKS, jobs=[checks_job]
    ).resolve_job_def("gold_freshness")
    repository = build_definitions(settings).get_repository_def()

    def verdicts(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
        return {
            evaluation.asset_check_key.asset_key.to_user_string(): evaluation.passed
            for evaluation in result.get_asset_check_evaluations()
            if evaluation.asset_check_key.name == "freshness_check"
        }

    def requested() -> set[dg.AssetCheckKey]:
        context = dg.build_sensor_context(instance=instance, repository_def=repository)
        requests = gold_freshness_sensor.evaluate_tick(context).run_requests or []
        return {key for request in requests for key in request.asset_check_keys or []}

    post_order(api, order_body("FRESH-1"))
    run(settings, instance, "process_orders")
    # A build checks the freshness of what it wrote; the sensor then has nothing to ask for.
    assert verdicts(run(settings, instance, "build_gold")) == dict.fromkeys(gold, True)
    assert requested() == set()

    with freeze_time(datetime.now(UTC) + GOLD_MAX_AGE + timedelta(minutes=5)):
        assert requested() == set(keys)
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert verdicts(result) == dict.fromkeys(gold, False)
