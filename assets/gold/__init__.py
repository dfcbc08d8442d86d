"""The gold star schema: dimensions and facts rebuilt in full from silver and live contacts.

The builders (`keys`, `dimensions`, `facts`, `integrity`) are plain polars; `star` and `checks`
wrap them as Dagster assets and asset checks.
"""

from assets.gold.checks import KEYED_TABLES, keys_resolve_check, keys_unique_check
from assets.gold.freshness import gold_freshness_checks
from assets.gold.star import (
    dim_article,
    dim_contact,
    dim_date,
    dim_store,
    fact_order,
    fact_order_line,
    fact_receipt_line,
)
from schemas.gold_tables import DIM_CONTACT, FACT_ORDER, FACT_ORDER_LINE, FACT_RECEIPT_LINE

GOLD_ASSETS = [
    dim_contact,
    dim_article,
    dim_store,
    fact_order,
    fact_order_line,
    fact_receipt_line,
    dim_date,
]
GOLD_FRESHNESS_CHECKS = gold_freshness_checks(GOLD_ASSETS)
GOLD_CHECKS = [
    *(
        keys_resolve_check(spec)
        for spec in (DIM_CONTACT, FACT_ORDER, FACT_ORDER_LINE, FACT_RECEIPT_LINE)
    ),
    *(keys_unique_check(spec) for spec in KEYED_TABLES),
    *GOLD_FRESHNESS_CHECKS,
]
