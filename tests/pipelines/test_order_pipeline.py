"""The processing job against real Delta tables and databases: sensor, rule checks, re-runs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import dagster as dg
import httpx
import polars as pl
import pyarrow as pa
import pytest

from assets.orders import ORDER_ASSETS, ORDER_CHECKS
from assets.orders.documents import version_tag_for
from assets.orders.silver import RULES_CHECK
from pipelines.definitions import build_definitions
from pipelines.processing import process_pending
from pipelines.resources import resources_from_settings
from pipelines.sensors import order_changes_sensor
from schemas.tables import ORDER_CHANGES, ORDER_LINES, ORDER_VERSIONS, ORDERS
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.orders import (
    change,
    failed_codes,
    job,
    order_body,
    post_order,
    succeeded_tag,
)


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def run_job(settings: EngageSettings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("process_orders")
    result = job.execute_in_process(instance=instance)
    assert result.success
    return result


def materialize_only(settings: EngageSettings, instance: dg.DagsterInstance, *keys: str) -> None:
    """Run part of the job, as a run that died after these steps would have."""
    result = dg.materialize(
        [*ORDER_ASSETS, *ORDER_CHECKS],
        selection=list(keys),
        resources=resources_from_settings(settings),
        instance=instance,
    )
    assert result.success


def sensor_result(settings: EngageSettings, instance: dg.DagsterInstance):
    context = dg.build_sensor_context(
        instance=instance, resources=resources_from_settings(settings)
    )
    return order_changes_sensor(context)


def test_sensor_requests_one_run_per_new_bronze_version_and_skips_when_done(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    assert isinstance(sensor_result(settings, instance), dg.SkipReason)
    post_order(api, order_body("S-1"))
    requested = sensor_result(settings, instance)
    version = Lake(settings.resolved_lake_uri).version(ORDER_CHANGES)
    assert [request.run_key for request in requested.run_requests] == [
        f"order_changes-v{version}|order_changes-w0"
    ]
    assert requested.cursor == f"order_changes-v{version}"
    run_job(settings, instance)
    assert isinstance(sensor_result(settings, instance), dg.SkipReason)


def test_a_backlog_is_processed_in_runs_of_at_most_max_changes_per_run(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    capped = settings.model_copy(update={"max_changes_per_run": 1})
    jobs = [post_order(api, order_body(f"BACKLOG-{n}")) for n in range(3)]
    assert Lake(settings.resolved_lake_uri).version(ORDER_CHANGES) == 3  # one commit each

    first_request = sensor_result(capped, instance).run_requests[0]
    run_job(capped, instance)
    assert [job(api, job_id).json()["status"] for job_id in jobs] == [
        "Succeeded",
        "Queued",
        "Queued",
    ]
    # Nothing new landed, yet the sensor asks for another run: the rest of the backlog.
    second_request = sensor_result(capped, instance).run_requests[0]
    assert second_request.run_key != first_request.run_key

    assert process_pending(capped, instance=instance, gold=False)
    assert [job(api, job_id).json()["status"] for job_id in jobs] == ["Succeeded"] * 3
    assert isinstance(sensor_result(capped, instance), dg.SkipReason)
    # Each run is tagged with the batch it took, so data ops can find it in the UI.
    runs = instance.get_run_records(filters=dg.RunsFilter(job_name="process_orders"))
    batches = sorted(
        (
            record.dagster_run.tags["engage/order_changes_batch"],
            record.dagster_run.tags["engage/order_changes_rows"],
            record.dagster_run.tags["engage/order_changes_jobs"],
        )
        for record in runs
    )
    assert batches == [("1-1", "1", "1"), ("2-2", "1", "1"), ("3-3", "1", "1")]


def test_sensor_waits_while_a_processing_run_is_in_flight(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    post_order(api, order_body("S-2"))
    job = build_definitions(settings).resolve_job_def("process_orders")
    instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    skipped = sensor_result(settings, instance)
    assert isinstance(skipped, dg.SkipReason)
    assert "in flight" in skipped.skip_message


def _land_directly(settings: EngageSettings, order_id: str, body: dict) -> str:
    """Land a change the way an older intake might have: straight into bronze, no checks."""
    job_id = str(uuid.uuid4())
    row = {
        "job_id": job_id,
        "order_id": order_id,
        "change_type": "create",
        "landed_at": datetime.now(UTC),
        "batch_position": 0,
        "api_key_id": "older-intake",
        "if_match": None,
        "body": json.dumps(body),
        "contact_match_key": body["contact"]["matchKey"],
        "contact_match_key_type": body["contact"]["matchKeyType"],
    }
    table = pa.Table.from_pylist([row], schema=ORDER_CHANGES.arrow_schema)
    Lake(settings.resolved_lake_uri).append(ORDER_CHANGES, table)
    return job_id


def test_a_change_breaking_business_rules_fails_its_job_and_the_batch_goes_on(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    good = post_order(api, order_body("R-1"))
    bad_body = order_body("R-2")
    bad_body["lineItems"]["subTotal"] = 5.0
    bad_body["lineItems"]["items"][1]["type"] = "Return"
    bad = _land_directly(settings, "R-2", bad_body)

    result = run_job(settings, instance)

    succeeded_tag(api, good)
    assert sorted(failed_codes(api, bad)) == ["ReturnDetailsMissing", "SubTotalMismatch"]
    errors = api.get(f"/orders/jobs/{bad}", follow_redirects=False).json()["errors"]
    assert {error["path"] for error in errors} == {
        "/lineItems/subTotal",
        "/lineItems/items/1/returnDetails",
    }
    assert api.get("/orders/R-2").status_code == 404
    [check] = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == RULES_CHECK
    ]
    assert not check.passed
    assert check.metadata["rejected_changes"].value == 1
    assert check.metadata["errors.SubTotalMismatch"].value == 1
    # One check per pandera model says which model's rules the change broke, in how many rows.
    by_model = {
        evaluation.check_name: (
            evaluation.passed,
            evaluation.metadata["rows_checked"].value,
            evaluation.metadata["failing_rows"].value,
        )
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name.startswith("passes_")
    }
    # Two changes; two lines each. R-2's subTotal and its Return line without returnDetails.
    assert by_model == {
        "passes_order_change_frame": (False, 2, 1),
        "passes_order_line_frame": (False, 4, 1),
    }


def test_rerun_after_a_crash_mid_batch_gives_the_same_result_as_one_clean_run(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    created = post_order(api, order_body("C-1"))
    deleted_early = post_order(api, order_body("C-2"))
    gone = api.delete("/orders/C-2").json()["jobId"]
    # The run dies after writing versions, orders and lines, before publishing the jobs.
    materialize_only(
        settings, instance, "order_versions", "order_change_outcomes", "orders", "order_lines"
    )
    assert (
        api.get(f"/orders/jobs/{created}", follow_redirects=False).json()["status"] == "Processing"
    )

    shipped = change(api, "C-1", "change-status", {"externalStatus": "Shipped"})
    run_job(settings, instance)

    assert succeeded_tag(api, created) == version_tag_for(created)
    assert succeeded_tag(api, shipped) == version_tag_for(shipped)
    assert succeeded_tag(api, deleted_early) == version_tag_for(deleted_early)
    assert succeeded_tag(api, gone) == version_tag_for(gone)
    assert api.get("/orders/C-1").json()["externalStatus"] == "Shipped"
    assert api.get("/orders/C-2").status_code == 404
    lake = Lake(settings.resolved_lake_uri)
    versions = lake.scan(ORDER_VERSIONS).collect()
    assert versions.height == 4
    assert versions["version_tag"].n_unique() == 4
    assert lake.scan(ORDERS).select("order_id").collect()["order_id"].to_list() == ["C-1"]
    lines = lake.scan(ORDER_LINES).collect()
    assert lines.height == 2
    assert set(lines["version_tag"]) == {version_tag_for(shipped)}


def test_rerun_after_a_crash_before_the_current_tables_were_merged(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    created = post_order(api, order_body("C-3"))
    materialize_only(settings, instance, "order_versions", "order_change_outcomes")
    run_job(settings, instance)
    assert succeeded_tag(api, created) == version_tag_for(created)
    lake = Lake(settings.resolved_lake_uri)
    assert lake.scan(ORDER_VERSIONS).collect().height == 1
    assert lake.scan(ORDERS).filter(pl.col("order_id") == "C-3").collect().height == 1


def test_order_view_never_runs_ahead_of_the_current_tables_when_runs_interleave(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    created = post_order(api, order_body("I-1"))
    materialize_only(settings, instance, "order_versions", "order_change_outcomes")
    materialize_only(settings, instance, "orders")
    # A second run applies a later change before the first one finished its other steps...
    shipped = change(api, "I-1", "change-status", {"externalStatus": "Shipped"})
    materialize_only(settings, instance, "order_versions", "order_change_outcomes")
    materialize_only(settings, instance, "order_lines", "order_view")
    # ...so the first run publishes only what `orders` already holds.
    succeeded_tag(api, created)
    assert (
        api.get(f"/orders/jobs/{shipped}", follow_redirects=False).json()["status"] == "Processing"
    )

    run_job(settings, instance)  # the second run died; the next one completes the batch
    assert succeeded_tag(api, shipped) == version_tag_for(shipped)
    current = Lake(settings.resolved_lake_uri).scan(ORDERS).collect()
    assert current["version_tag"].to_list() == [version_tag_for(shipped)]
    assert api.get("/orders/I-1").json()["externalStatus"] == "Shipped"
