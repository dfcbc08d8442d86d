"""The erasure step: every contact whose erasure request is due is removed from the lake and the
operational database, with an audit record per request (SPEC 2.4)."""

import dagster as dg

from assets.orders.silver import WATERMARK as ORDER_CHANGES_WATERMARK
from assets.receipts.silver import WATERMARK as RECEIPT_SUBMISSIONS_WATERMARK
from assets.resources import LakeResource, OperationalDatabase
from schemas.tables import ORDER_CHANGES, RECEIPT_SUBMISSIONS
from storage.db import release_free_space
from storage.erasure import due_erasures, erase_contacts
from storage.watermarks import get_watermark

LAKE_WRITERS = (
    "process_orders",
    "process_receipts",
    "process_registers",
    "build_gold",
    "refresh_segments",
    "deliver_communications",
    "maintain_lake",
)
"""Jobs that write what erasure rewrites; erasure never runs beside one of them."""


@dg.op(
    description=(
        "Erase every contact whose erasure request is due: its rows in every bronze, silver and "
        "gold table (then vacuum and log cleanup, so no old file keeps them), its orders, "
        "receipts, jobs, integration-log entries, actions, communications, loyalty entries and "
        "extracts in the operational database. Each request records what was removed (counts "
        "only). A contact with landed but unprocessed data waits for the next run."
    ),
)
def erase_due_contacts(
    context: dg.OpExecutionContext, lake: LakeResource, database: OperationalDatabase
) -> None:
    busy = _writers_in_flight(context)
    if busy:
        context.log.info(f"erasure waits: {', '.join(busy)} in flight")
        context.add_output_metadata({"erased": 0, "deferred": 0, "waiting_for": ", ".join(busy)})
        return
    with database.session() as session:
        due = due_erasures(session)
        processed = {
            ORDER_CHANGES: get_watermark(session, ORDER_CHANGES_WATERMARK),
            RECEIPT_SUBMISSIONS: get_watermark(session, RECEIPT_SUBMISSIONS_WATERMARK),
        }
        batch = erase_contacts(lake.lake, session, due, processed, context.run_id)
    if batch.erased:
        release_free_space(database.url)
    context.add_output_metadata(
        {
            "erased": len(batch.erased),
            "deferred": len(batch.deferred),
            "rows_removed": batch.rows_removed,
            "files_removed": batch.files_removed,
            "request_ids": ", ".join(batch.erased + batch.deferred) or "none",
        }
    )
    if batch.deferred:
        context.log.info(
            f"{len(batch.deferred)} erasure(s) wait until their landed data is processed"
        )


def _writers_in_flight(context: dg.OpExecutionContext) -> list[str]:
    """Names of lake-writing jobs with a run in flight (other than this run)."""
    statuses = [
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
    ]
    busy = []
    for job_name in LAKE_WRITERS:
        records = context.instance.get_run_records(
            filters=dg.RunsFilter(job_name=job_name, statuses=statuses), limit=1
        )
        if any(record.dagster_run.run_id != context.run_id for record in records):
            busy.append(job_name)
    return busy
