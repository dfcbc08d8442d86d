"""The Dagster code location: composes the domains' assets with jobs, sensors and resources."""

import dagster as dg

from assets.loyalty import LOYALTY_ASSETS
from assets.orders import ORDER_ASSETS, ORDER_CHECKS
from assets.receipts import RECEIPT_ASSETS, RECEIPT_CHECKS
from assets.registers import REGISTER_ASSETS, REGISTER_CHECKS
from assets.sales import SALES_ASSETS
from pipelines.jobs import PIPELINE_JOBS
from pipelines.resources import resources_from_settings
from pipelines.sensors import PIPELINE_SENSORS
from storage.settings import EngageSettings


def build_definitions(settings: EngageSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*REGISTER_ASSETS, *ORDER_ASSETS, *RECEIPT_ASSETS, *LOYALTY_ASSETS, *SALES_ASSETS],
        asset_checks=[*REGISTER_CHECKS, *ORDER_CHECKS, *RECEIPT_CHECKS],
        jobs=PIPELINE_JOBS,
        sensors=PIPELINE_SENSORS,
        resources=resources_from_settings(settings),
    )


defs = build_definitions(EngageSettings())
