"""Publish processed orders to the operational database: the order view, job outcomes, the
integration log, and last the watermark, all in one database transaction."""

import json
from dataclasses import fields

import dagster as dg
import polars as pl

from assets.gc_paused import gc_paused
from assets.maintenance.bronze import tidy_processed_bronze
from assets.metadata import OWNER, WRITE_RETRY, database_table_metadata
from assets.orders.embedded_actions import plan_embedded_actions
from assets.orders.silver import ORDER_LINES_MERGED, ORDERS_MERGED, WATERMARK
from assets.orders.state import latest_versions_in_range, outcomes_in_range, version_documents
from assets.resources import (
    AutomationsConfig,
    LakeMaintenancePolicy,
    LakeResource,
    OperationalDatabase,
)
from assets.writers import one_writer
from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_CHANGES, ORDER_LINES, ORDERS
from storage.actions import queue_actions
from storage.integration_log import LogEntry, outcome_entries, write_entries
from storage.jobs import JobOutcome, JobStatus, NewJob, record_outcomes
from storage.models import OrderView
from storage.order_view import OrderViewRow, publish
from storage.watermarks import get_watermark, set_watermark


@dg.asset(
    description=(
        "The current processed version of every live order in the operational database, as "
        "GET /orders serves it; publishing it also settles the batch's jobs (Succeeded with the "
        "versionTag, or Failed with errors), queues the changes' embedded actions, writes the "
        "integration log and advances the watermark; then maintains order_changes if it has "
        "ENGAGE_LAKE_COMPACT_FILES files (storage.lake_maintenance)."
    ),
    group_name="silver",
    deps=[ORDERS.name, ORDER_LINES.name, ORDER_CHANGE_OUTCOMES.name],
    kinds={"sqlalchemy"},
    owners=[OWNER],
    metadata=database_table_metadata(OrderView.__table__),
    pool="order_view",
    retry_policy=WRITE_RETRY,
)
@one_writer("order_view")
def order_view(
    lake: LakeResource,
    database: OperationalDatabase,
    automations: AutomationsConfig,
    lake_maintenance: LakeMaintenancePolicy,
) -> dg.MaterializeResult:
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
        # Publish only what both current tables already hold (see ORDERS_MERGED).
        through = min(
            get_watermark(session, ORDERS_MERGED), get_watermark(session, ORDER_LINES_MERGED)
        )
    if through <= watermark:
        return dg.MaterializeResult(
            metadata={"bronze_through_version": watermark, "jobs_settled": 0}
        )
    latest = latest_versions_in_range(lake.lake, watermark, through)
    outcomes = outcomes_in_range(lake.lake, watermark, through)
    tags = outcomes.filter(pl.col("action").is_not_null())["version_tag"].drop_nulls().to_list()
    documents = version_documents(lake.lake, tags, watermark, through)
    actions, discarded = plan_embedded_actions(outcomes, documents, automations.load())
    with gc_paused(), database.session() as session:
        publish(session, _view_rows(latest))
        record_outcomes(session, _job_outcomes(outcomes), _jobs(outcomes))
        queue_actions(session, actions)
        write_entries(session, [*_log_entries(outcomes), *discarded])
        set_watermark(session, WATERMARK, through)
    tidied = tidy_processed_bronze(lake.lake, ORDER_CHANGES, through, lake_maintenance)
    return dg.MaterializeResult(
        metadata={
            **tidied,
            "bronze_through_version": through,
            "orders_published": latest.height,
            "jobs_settled": outcomes.height,
            "jobs_failed": outcomes.filter(pl.col("status") == JobStatus.FAILED.value).height,
            "actions_queued": len(actions),
            "actions_discarded": len(discarded),
        }
    )


_VIEW_COLUMNS = [field.name for field in fields(OrderViewRow)]


def _view_rows(latest: pl.DataFrame) -> list[OrderViewRow]:
    # Positional rows: polars builds tuples far faster than one dict per row.
    return [OrderViewRow(*row) for row in latest.select(_VIEW_COLUMNS).iter_rows()]


def _job_outcomes(outcomes: pl.DataFrame) -> list[JobOutcome]:
    columns = outcomes.select("job_id", "status", "version_tag", "errors")
    return [
        JobOutcome(job_id, JobStatus(status), tag, json.loads(errors) if errors else [])
        for job_id, status, tag, errors in columns.iter_rows()
    ]


def _jobs(outcomes: pl.DataFrame) -> list[NewJob]:
    columns = outcomes.select("job_id", "order_id", "change_type", "api_key_id", "landed_at")
    return [
        NewJob(job_id, "orders", order_id, change_type, api_key_id, landed_at)
        for job_id, order_id, change_type, api_key_id, landed_at in columns.iter_rows()
    ]


def _log_entries(outcomes: pl.DataFrame) -> list[LogEntry]:
    """Entries for the outcomes with warnings or errors; most have neither."""
    problems = outcomes.filter(
        pl.col("warnings").is_not_null() | pl.col("errors").is_not_null()
    ).select("job_id", "order_id", "warnings", "errors")
    return [
        entry
        for job_id, order_id, warnings, errors in problems.iter_rows()
        for entry in outcome_entries(
            "Orders", job_id, order_id, json.loads(warnings or "[]"), json.loads(errors or "[]")
        )
    ]
