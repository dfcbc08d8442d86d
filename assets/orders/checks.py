"""Data-quality checks on the current order tables."""

import dagster as dg
import polars as pl

from assets.resources import LakeResource
from schemas.tables import ORDER_LINES, ORDERS


@dg.asset_check(asset=ORDERS.name, description="Each order appears once in the current orders.")
def orders_have_unique_order_id(lake: LakeResource) -> dg.AssetCheckResult:
    duplicates = (
        lake.lake.scan(ORDERS).group_by("order_id").len().filter(pl.col("len") > 1).collect().height
    )
    return dg.AssetCheckResult(
        passed=duplicates == 0, metadata={"duplicated_order_ids": duplicates}
    )


@dg.asset_check(
    asset=ORDER_LINES.name,
    description="Every line belongs to a current order, from that order's current version.",
)
def order_lines_match_current_orders(lake: LakeResource) -> dg.AssetCheckResult:
    current = lake.lake.scan(ORDERS).select("order_id", "version_tag")
    orphans = (
        lake.lake.scan(ORDER_LINES)
        .join(current, on=["order_id", "version_tag"], how="anti")
        .select(pl.len())
        .collect()
        .item()
    )
    return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_lines": orphans})
