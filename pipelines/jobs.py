"""Jobs: one run processes one micro-batch (everything landed since the last run)."""

import dagster as dg

from assets.actions.ops import deliver_queued_communications
from assets.gold import GOLD_ASSETS
from assets.segments import SEGMENT_ASSETS
from schemas.gold_tables import SEGMENT_MEMBERSHIPS
from schemas.tables import (
    ARTICLES,
    LOYALTY_LEDGER,
    ORDER_CHANGE_OUTCOMES,
    ORDER_LINES,
    ORDER_VERSIONS,
    ORDERS,
    RECEIPT_LINES,
    RECEIPT_SUBMISSION_OUTCOMES,
    RECEIPTS,
    SALES_DAILY,
    STORES,
)

process_registers = dg.define_asset_job(
    name="process_registers",
    description=(
        "Merge every article and store registration landed since the last run into the "
        "registers (upsert by SKU / externalId), settle their jobs and rebuild daily sales."
    ),
    # Daily sales are rebuilt here too, so a newly registered article re-labels past sales.
    selection=dg.AssetSelection.assets(ARTICLES.name, STORES.name, SALES_DAILY.name),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "registers", "dagster/max_retries": "2"},
)

process_orders = dg.define_asset_job(
    name="process_orders",
    description=(
        "Validate and apply every order change landed since the last run, merge current orders "
        "and lines, publish the order view and settle the jobs."
    ),
    selection=dg.AssetSelection.assets(
        ORDER_VERSIONS.name, ORDER_CHANGE_OUTCOMES.name, ORDERS.name, ORDER_LINES.name, "order_view"
    ),
    # Small, frequent runs: the in-process executor saves a process start per step.
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "orders", "dagster/max_retries": "2"},
)

PROCESS_RECEIPTS_ASSETS = [
    RECEIPTS.name,
    RECEIPT_LINES.name,
    RECEIPT_SUBMISSION_OUTCOMES.name,
    "receipt_view",
    LOYALTY_LEDGER.name,
    SALES_DAILY.name,
]
"""What a receipts run materialises; what derives from receipts (loyalty, sales) joins the list."""

process_receipts = dg.define_asset_job(
    name="process_receipts",
    description=(
        "Register every receipt landed since the last run (each uniqueReceiptId once), with its "
        "lines; publish the receipt view and settle the jobs; update the loyalty ledger and "
        "rebuild daily sales."
    ),
    selection=dg.AssetSelection.assets(*PROCESS_RECEIPTS_ASSETS),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "receipts", "dagster/max_retries": "2"},
)

PIPELINE_JOBS = [process_registers, process_orders, process_receipts]
"""The processing jobs (bronze → silver and what serves the API), in the order `engage-orders
process` runs them."""

build_gold = dg.define_asset_job(
    name="build_gold",
    description=(
        "Rebuild the star schema (dimensions, facts, calendar) from silver and the live contacts, "
        "then the segmentation model and what derives from it; every table in one overwrite."
    ),
    selection=dg.AssetSelection.assets(*GOLD_ASSETS, *SEGMENT_ASSETS),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "gold", "dagster/max_retries": "2"},
)

refresh_segments = dg.define_asset_job(
    name="refresh_segments",
    description=(
        "Re-materialise segment memberships on the current gold tables after a segment "
        "definition was saved or deleted (a full build_gold is not needed for that)."
    ),
    selection=dg.AssetSelection.assets(SEGMENT_MEMBERSHIPS.name),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "segments", "dagster/max_retries": "2"},
)


@dg.job(
    name="deliver_communications",
    description=(
        "Deliver queued communications of order actions: render each from its pinned order "
        "version and send it on its channels; failures after the last retry are recorded."
    ),
    executor_def=dg.in_process_executor,
    tags={"engage/pipeline": "actions", "dagster/max_retries": "2"},
)
def deliver_communications() -> None:
    deliver_queued_communications()


ALL_JOBS = [*PIPELINE_JOBS, build_gold, deliver_communications]
"""Every job, in the order `engage-orders process` runs them: processing first, then gold from
what it produced."""
