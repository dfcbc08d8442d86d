"""The contact_segmentation asset: the segmentation model, rebuilt after every gold build."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.gold.checks import keys_resolve_check
from assets.gold.star import written
from assets.metadata import WRITE_RETRY, table_asset_args
from assets.resources import LakeResource
from assets.segments.measures import contact_segmentation_frame
from assets.writers import one_writer
from schemas.gold_tables import (
    CONTACT_SEGMENTATION,
    DIM_ARTICLE,
    DIM_CONTACT,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
)

INPUTS = (DIM_CONTACT, FACT_ORDER, FACT_ORDER_LINE, FACT_RECEIPT_LINE, DIM_ARTICLE)


@dg.asset(
    **table_asset_args(CONTACT_SEGMENTATION, deps=[spec.name for spec in INPUTS]),
    pool=CONTACT_SEGMENTATION.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(CONTACT_SEGMENTATION.name)
def contact_segmentation(lake: LakeResource) -> dg.MaterializeResult:
    """One row per live contact, as of this build: recency, frequency and monetary refer to the
    build time, so the model is rebuilt at least daily (see the build_gold sensor)."""
    as_of = datetime.now(UTC)
    scan = lake.lake.scan
    frame = contact_segmentation_frame(
        dim_contact=scan(DIM_CONTACT),
        fact_order=scan(FACT_ORDER),
        fact_order_line=scan(FACT_ORDER_LINE),
        fact_receipt_line=scan(FACT_RECEIPT_LINE),
        dim_article=scan(DIM_ARTICLE),
        as_of=as_of,
    ).collect()
    return written(
        lake,
        CONTACT_SEGMENTATION,
        frame,
        as_of=as_of.isoformat(),
        with_ongoing_orders=int(frame.select((pl.col("ongoing_order_count") > 0).sum()).item()),
        bought_in_last_365_days=int(frame.select((pl.col("frequency") > 0).sum()).item()),
    )


contact_segmentation_keys_resolve = keys_resolve_check(CONTACT_SEGMENTATION)
