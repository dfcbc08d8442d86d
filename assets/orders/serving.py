"""Publish processed orders to the operational database: the order view, job outcomes, the
integration log, and last the watermark, all in one database transaction."""

import json
from typing import Any

import dagster as dg
import polars as pl

from assets.gc_paused import gc_paused
from assets.metadata import OWNER, WRITE_RETRY, database_table_metadata
from assets.orders.embedded_actions import plan_embedded_actions
from assets.orders.silver import ORDER_LINES_MERGED, ORDERS_MERGED, WATERMARK
from assets.orders.state import latest_versions_in_range, outcomes_in_range, version_documents
from assets.resources import AutomationsConfig, LakeResource, OperationalDatabase
from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_LINES, ORDERS
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
        "integration log and advances the watermark."
    ),
    group_name="silver",
    deps=[ORDERS.name, ORDER_LINES.name, ORDER_CHANGE_OUTCOMES.name],
    kinds={"sqlalchemy"},
    owners=[OWNER],
    metadata=database_table_metadata(OrderView.__table__),
    pool="order_view",
    retry_policy=WRITE_RETRY,
)
def order_view(
    lake: LakeResource, database: OperationalDatabase, automations: AutomationsConfig
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
        publish(session, [_view_row(row) for row in latest.iter_rows(named=True)])
        record_outcomes(session, _job_outcomes(outcomes), _jobs(outcomes))
        queue_actions(session, actions)
        write_entries(session, [*_log_entries(outcomes), *discarded])
        set_watermark(session, WATERMARK, through)
    return dg.MaterializeResult(
        metadata={
            "bronze_through_version": through,
            "orders_published": latest.height,
            "jobs_settled": outcomes.height,
            "jobs_failed": outcomes.filter(pl.col("status") == JobStatus.FAILED.value).height,
            "actions_queued": len(actions),
            "actions_discarded": len(discarded),
        }
    )


def _view_row(row: dict[str, Any]) -> OrderViewRow:
    return OrderViewRow(
        order_id=row["order_id"],
        contact_id=row["contact_id"],
        version_tag=row["version_tag"],
        version_number=row["version_number"],
        change_seq=row["change_seq"],
        status=row["status"],
        created_at=row["created_at"],
        last_changed_at=row["last_changed_at"],
        processed_at=row["processed_at"],
        document=row["document"],
        is_deleted=row["is_deleted"],
    )


def _job_outcomes(outcomes: pl.DataFrame) -> list[JobOutcome]:
    return [
        JobOutcome(
            job_id=row["job_id"],
            status=JobStatus(row["status"]),
            version_tag=row["version_tag"],
            errors=json.loads(row["errors"] or "[]"),
        )
        for row in outcomes.iter_rows(named=True)
    ]


def _jobs(outcomes: pl.DataFrame) -> list[NewJob]:
    return [
        NewJob(
            job_id=row["job_id"],
            resource="orders",
            order_id=row["order_id"],
            change_type=row["change_type"],
            api_key_id=row["api_key_id"],
            created_at=row["landed_at"],
        )
        for row in outcomes.iter_rows(named=True)
    ]


def _log_entries(outcomes: pl.DataFrame) -> list[LogEntry]:
    return [
        entry
        for row in outcomes.iter_rows(named=True)
        for entry in outcome_entries(
            "Orders",
            row["job_id"],
            row["order_id"],
            json.loads(row["warnings"] or "[]"),
            json.loads(row["errors"] or "[]"),
        )
    ]
