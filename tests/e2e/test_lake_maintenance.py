"""Lake maintenance as data ops run it: the maintain_lake job and the sensor that starts it, on
orders posted over HTTP, with processing before and after."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import httpx
import pytest

from assets.orders.silver import WATERMARK as ORDER_CHANGES_WATERMARK
from assets.receipts.silver import WATERMARK as RECEIPT_SUBMISSIONS_WATERMARK
from pipelines.definitions import build_definitions
from pipelines.maintenance import MAINTAIN_LAKE, bronze_maintenance_sensor
from pipelines.processing import process_pending
from pipelines.resources import resources_from_settings
from pipelines.sensors import bronze_progress, caught_up
from schemas.table_spec import TableSpec
from schemas.tables import ORDER_CHANGES, ORDERS, RECEIPT_SUBMISSIONS
from storage.db import session_scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.orders import order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded

pytestmark = pytest.mark.without_gold

Process = Callable[[], None]
ORDERS_POSTED = 12


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def maintain(
    settings: EngageSettings, instance: dg.DagsterInstance, tables: list[str] | None = None
) -> dict[str, object]:
    """Run maintain_lake; return its step's output metadata as plain values."""
    job = build_definitions(settings).resolve_job_def(MAINTAIN_LAKE)
    config = {"ops": {"maintain_lake_tables": {"config": {"tables": tables or []}}}}
    result = job.execute_in_process(instance=instance, run_config=config)
    assert result.success
    (materialization,) = [
        event
        for event in result.all_node_events
        if event.event_type == dg.DagsterEventType.STEP_OUTPUT
    ]
    metadata = materialization.step_output_data.metadata
    return {key: value.value for key, value in metadata.items()}


def post_orders(api: httpx.Client) -> list[str]:
    """One intake commit per order, as with a trickle of traffic."""
    return [post_order(api, order_body(f"MAINT-{n}")) for n in range(ORDERS_POSTED)]


def bronze_files(settings: EngageSettings) -> int:
    return len(Lake(settings.resolved_lake_uri).table(ORDER_CHANGES).file_uris())


def test_compacting_unprocessed_bronze_loses_no_order(
    api: httpx.Client, process: Process, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    job_ids = post_orders(api)
    assert bronze_files(settings) == ORDERS_POSTED

    summary = maintain(settings, instance, [ORDER_CHANGES.name])

    assert summary["tables"] == 1
    assert summary["files_compacted"] == ORDERS_POSTED
    assert bronze_files(settings) == 1
    process()
    for n, job_id in enumerate(job_ids):
        succeeded_tag(api, job_id)
        assert api.get(f"/orders/MAINT-{n}").status_code == 200
    # Maintaining every table afterwards leaves the orders readable and processing going.
    everything = maintain(settings, instance)
    assert everything["tables"] >= 5
    assert Lake(settings.resolved_lake_uri).scan(ORDERS).collect().height == ORDERS_POSTED
    late = post_order(api, order_body("MAINT-late"))
    process()
    succeeded_tag(api, late)


@pytest.mark.lake("local", "s3", "azure")
def test_the_processing_run_tidies_the_bronze_table_it_has_read(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    tidy = settings.model_copy(update={"lake_compact_files": 5})
    job_ids = post_orders(api)

    assert process_pending(tidy, instance=instance)

    assert bronze_files(settings) == 1
    for job_id in job_ids:
        succeeded_tag(api, job_id)
    # Newest first; the compaction's commit is a bronze commit too, so a second run followed.
    first = instance.get_run_records(dg.RunsFilter(job_name="process_orders"))[-1]
    metadata = order_view_metadata(instance, first.dagster_run.run_id)
    assert metadata["bronze_files_compacted"] == ORDERS_POSTED
    assert metadata["bronze_files_vacuumed"] == 0  # younger than an hour
    # The run after it found only the compaction, and still moved the watermark past it.
    assert caught_up_with(settings, ORDER_CHANGES, ORDER_CHANGES_WATERMARK)
    late = post_order(api, order_body("MAINT-late"))
    assert process_pending(tidy, instance=instance)
    succeeded_tag(api, late)


def test_the_receipts_run_tidies_receipt_submissions(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    tidy = settings.model_copy(update={"lake_compact_files": 5})
    job_ids = [post_receipt(api, receipt_body(receipt_id=f"R-MAINT-{n}")) for n in range(6)]

    assert process_pending(tidy, instance=instance)

    assert len(Lake(settings.resolved_lake_uri).table(RECEIPT_SUBMISSIONS).file_uris()) == 1
    for job_id in job_ids:
        succeeded(api, job_id)
    assert caught_up_with(settings, RECEIPT_SUBMISSIONS, RECEIPT_SUBMISSIONS_WATERMARK)


def caught_up_with(settings: EngageSettings, spec: TableSpec, watermark: str) -> bool:
    """Whether the bronze table is processed through its last commit, as the sensors see it."""
    lake = Lake(settings.resolved_lake_uri)
    with session_scope(settings.resolved_database_url) as session:
        return caught_up(*bronze_progress(lake, session, [(spec, watermark)]))


def order_view_metadata(instance: dg.DagsterInstance, run_id: str) -> dict[str, object]:
    (event,) = [
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        if record.event_log_entry.dagster_event.asset_key == dg.AssetKey("order_view")
    ]
    metadata = event.event_specific_data.materialization.metadata
    return {key: value.value for key, value in metadata.items()}


def test_the_sensor_maintains_bronze_that_processing_left_crowded(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    """Nothing processes here: the fallback threshold is five times ENGAGE_LAKE_COMPACT_FILES."""
    crowded = settings.model_copy(update={"lake_compact_files": 2})

    def tick() -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=instance, resources=resources_from_settings(crowded)
        )
        return bronze_maintenance_sensor(context)

    for n in range(9):
        post_order(api, order_body(f"FIRST-{n}"))
    assert isinstance(tick(), dg.SkipReason)
    for n in range(9, ORDERS_POSTED):
        post_order(api, order_body(f"MORE-{n}"))

    result = tick()

    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests or []
    assert request.run_config == {
        "ops": {"maintain_lake_tables": {"config": {"tables": [ORDER_CHANGES.name]}}}
    }
    summary = maintain(crowded, instance, [ORDER_CHANGES.name])
    assert summary["files_compacted"] == ORDERS_POSTED
    assert isinstance(tick(), dg.SkipReason)
