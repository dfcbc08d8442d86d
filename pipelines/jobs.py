"""Jobs: one run processes one micro-batch (everything landed since the last run)."""

import dagster as dg

from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_LINES, ORDER_VERSIONS, ORDERS

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

PIPELINE_JOBS = [process_orders]
"""Every job `engage-orders process` runs, in this order."""
