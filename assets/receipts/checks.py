"""Data-quality checks on the receipt tables: registered once, never counted twice."""

import dagster as dg
import polars as pl

from assets.resources import LakeResource
from schemas.tables import RECEIPT_LINES, RECEIPTS


@dg.asset_check(
    asset=RECEIPTS.name, description="Each uniqueReceiptId is registered once, never twice."
)
def receipts_have_unique_id(lake: LakeResource) -> dg.AssetCheckResult:
    duplicates = (
        lake.lake.scan(RECEIPTS)
        .group_by("unique_receipt_id")
        .len()
        .filter(pl.col("len") > 1)
        .collect()
        .height
    )
    return dg.AssetCheckResult(
        passed=duplicates == 0, metadata={"duplicated_receipt_ids": duplicates}
    )


@dg.asset_check(
    asset=RECEIPT_LINES.name,
    description="Every line belongs to a registered receipt, from the same submission, once.",
)
def receipt_lines_match_receipts(lake: LakeResource) -> dg.AssetCheckResult:
    receipts = lake.lake.scan(RECEIPTS).select("unique_receipt_id", "change_seq")
    lines = lake.lake.scan(RECEIPT_LINES)
    orphans = (
        lines.join(receipts, on=["unique_receipt_id", "change_seq"], how="anti")
        .select(pl.len())
        .collect()
        .item()
    )
    repeated = (
        lines.group_by("unique_receipt_id", "line_number")
        .len()
        .filter(pl.col("len") > 1)
        .collect()
        .height
    )
    return dg.AssetCheckResult(
        passed=orphans == 0 and repeated == 0,
        metadata={"orphan_lines": orphans, "repeated_lines": repeated},
    )
