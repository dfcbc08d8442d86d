"""Publish registered receipts to the operational database: the receipt view, job outcomes, the
integration log, and last the watermark, all in one database transaction."""

import json
from typing import Any

import dagster as dg
import polars as pl

from assets.gc_paused import gc_paused
from assets.maintenance.bronze import tidy_processed_bronze
from assets.metadata import OWNER, WRITE_RETRY, database_table_metadata
from assets.receipts.silver import WATERMARK
from assets.receipts.state import registered_through, rows_in_range
from assets.resources import LakeMaintenancePolicy, LakeResource, OperationalDatabase
from assets.writers import one_writer
from schemas.tables import (
    RECEIPT_LINES,
    RECEIPT_SUBMISSION_OUTCOMES,
    RECEIPT_SUBMISSIONS,
    RECEIPTS,
)
from storage.integration_log import LogEntry, outcome_entries, write_entries
from storage.jobs import JobOutcome, JobStatus, NewJob, record_outcomes
from storage.models import ReceiptView
from storage.receipt_view import (
    ReceiptJobOutcomeRow,
    ReceiptViewRow,
    publish,
    record_job_outcomes,
)
from storage.watermarks import get_watermark, set_watermark

LOG_TYPE = "Receipts"
RESOURCE = "receipts"
CHANGE_TYPE = "register"


@dg.asset(
    description=(
        "Every registered receipt in the operational database, as GET /receipts serves it; "
        "publishing it also settles the batch's jobs (Succeeded, possibly as a duplicate, or "
        "Failed with errors), writes the integration log (type Receipts) and advances the "
        "watermark; then maintains receipt_submissions if it has ENGAGE_LAKE_COMPACT_FILES "
        "files (storage.lake_maintenance)."
    ),
    group_name="silver",
    deps=[RECEIPTS.name, RECEIPT_LINES.name, RECEIPT_SUBMISSION_OUTCOMES.name],
    kinds={"sqlalchemy"},
    owners=[OWNER],
    metadata=database_table_metadata(ReceiptView.__table__),
    pool="receipt_view",
    retry_policy=WRITE_RETRY,
)
@one_writer("receipt_view")
def receipt_view(
    lake: LakeResource, database: OperationalDatabase, lake_maintenance: LakeMaintenancePolicy
) -> dg.MaterializeResult:
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
    through = registered_through(lake.lake)
    if through <= watermark:
        return dg.MaterializeResult(
            metadata={"bronze_through_version": watermark, "jobs_settled": 0}
        )
    receipts = rows_in_range(lake.lake, RECEIPTS, watermark, through)
    outcomes = rows_in_range(lake.lake, RECEIPT_SUBMISSION_OUTCOMES, watermark, through)
    with gc_paused(), database.session() as session:
        publish(session, [_view_row(row) for row in receipts.iter_rows(named=True)])
        record_outcomes(session, _job_outcomes(outcomes), _jobs(outcomes))
        record_job_outcomes(session, _job_details(outcomes))
        write_entries(session, _log_entries(outcomes))
        set_watermark(session, WATERMARK, through)
    tidied = tidy_processed_bronze(lake.lake, RECEIPT_SUBMISSIONS, through, lake_maintenance)
    return dg.MaterializeResult(
        metadata={
            **tidied,
            "bronze_through_version": through,
            "receipts_published": receipts.height,
            "jobs_settled": outcomes.height,
            "jobs_failed": outcomes.filter(pl.col("status") == JobStatus.FAILED.value).height,
            "duplicates": outcomes.filter(pl.col("duplicate")).height,
        }
    )


def _view_row(row: dict[str, Any]) -> ReceiptViewRow:
    return ReceiptViewRow(
        unique_receipt_id=row["unique_receipt_id"],
        contact_id=row["contact_id"],
        created_at=row["created_at"],
        total_gross_price=row["total_gross_price"],
        currency=row["currency"],
        store_external_id=row["store_external_id"],
        document=row["document"],
        processed_at=row["processed_at"],
    )


def _job_outcomes(outcomes: pl.DataFrame) -> list[JobOutcome]:
    return [
        JobOutcome(
            job_id=row["job_id"],
            status=JobStatus(row["status"]),
            version_tag=None,
            errors=json.loads(row["errors"] or "[]"),
        )
        for row in outcomes.iter_rows(named=True)
    ]


def _jobs(outcomes: pl.DataFrame) -> list[NewJob]:
    """The jobs as the intake registers them, for any the intake could not (a crash)."""
    return [
        NewJob(
            job_id=row["job_id"],
            resource=RESOURCE,
            order_id=None,
            change_type=CHANGE_TYPE,
            api_key_id=row["api_key_id"],
            created_at=row["landed_at"],
        )
        for row in outcomes.iter_rows(named=True)
    ]


def _job_details(outcomes: pl.DataFrame) -> list[ReceiptJobOutcomeRow]:
    return [
        ReceiptJobOutcomeRow(
            job_id=row["job_id"],
            unique_receipt_id=row["unique_receipt_id"],
            duplicate=row["duplicate"],
            warnings=row["warnings"],
        )
        for row in outcomes.iter_rows(named=True)
    ]


def _log_entries(outcomes: pl.DataFrame) -> list[LogEntry]:
    return [
        entry
        for row in outcomes.iter_rows(named=True)
        for entry in outcome_entries(
            LOG_TYPE,
            row["job_id"],
            None,
            json.loads(row["warnings"] or "[]"),
            json.loads(row["errors"] or "[]"),
        )
    ]
