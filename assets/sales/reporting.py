"""Gold sales reporting, rebuilt from receipt lines after every receipt processing run."""

import dagster as dg

from assets.metadata import WRITE_RETRY, markdown_preview, table_asset_args
from assets.resources import LakeResource
from assets.sales.daily import sales_daily_frame
from assets.writers import one_writer
from schemas.tables import ARTICLES, RECEIPT_LINES, SALES_DAILY


@dg.asset(
    **table_asset_args(SALES_DAILY, deps=[RECEIPT_LINES.name, ARTICLES.name]),
    pool=SALES_DAILY.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(SALES_DAILY.name)
def sales_daily(lake: LakeResource) -> dg.MaterializeResult:
    """Rebuilt in full: it is small (days x stores x categories) and so always agrees with the
    current article register, including articles registered after their sales."""
    daily = sales_daily_frame(lake.lake.scan(RECEIPT_LINES), lake.lake.scan(ARTICLES))
    version = lake.lake.overwrite(SALES_DAILY, daily.to_arrow())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": daily.height,
            "delta_version": version,
            "days": daily["business_date"].n_unique(),
            "net_sales_group_currency": float(daily["net_sales_group_currency"].sum() or 0.0),
            "preview": markdown_preview(daily.sort("business_date", descending=True)),
        }
    )
