"""The Dagster code location: composes the domains' assets with jobs, sensors and resources."""

import warnings

import dagster as dg

from assets.gold import GOLD_ASSETS, GOLD_CHECKS
from assets.loyalty import LOYALTY_ASSETS
from assets.orders import ORDER_ASSETS, ORDER_CHECKS
from assets.receipts import RECEIPT_ASSETS, RECEIPT_CHECKS
from assets.registers import REGISTER_ASSETS, REGISTER_CHECKS
from assets.sales import SALES_ASSETS
from assets.segments import SEGMENT_ASSETS, SEGMENT_CHECKS
from pipelines.gdpr import GDPR_JOBS, GDPR_SCHEDULES, GDPR_SENSORS
from pipelines.jobs import ALL_JOBS, refresh_segments
from pipelines.maintenance import MAINTENANCE_JOBS, MAINTENANCE_SCHEDULES, MAINTENANCE_SENSORS
from pipelines.pool_slots import POOL_SENSORS
from pipelines.resources import resources_from_settings
from pipelines.sensors import PIPELINE_SENSORS
from storage.settings import EngageSettings

# Dagster re-creates a sensor that targets an op job (deliver_communications) to attach resources
# and passes its own `owners` argument, which warns as beta on every load; nothing of ours is beta.
warnings.filterwarnings(
    "ignore", message="Parameter `owners` of initializer `SensorDefinition", category=Warning
)


def build_definitions(settings: EngageSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *REGISTER_ASSETS,
            *ORDER_ASSETS,
            *RECEIPT_ASSETS,
            *LOYALTY_ASSETS,
            *SALES_ASSETS,
            *GOLD_ASSETS,
            *SEGMENT_ASSETS,
        ],
        asset_checks=[
            *REGISTER_CHECKS,
            *ORDER_CHECKS,
            *RECEIPT_CHECKS,
            *GOLD_CHECKS,
            *SEGMENT_CHECKS,
        ],
        jobs=[*ALL_JOBS, refresh_segments, *GDPR_JOBS, *MAINTENANCE_JOBS],
        sensors=[*PIPELINE_SENSORS, *GDPR_SENSORS, *MAINTENANCE_SENSORS, *POOL_SENSORS],
        schedules=[*GDPR_SCHEDULES, *MAINTENANCE_SCHEDULES],
        resources=resources_from_settings(settings),
    )


defs = build_definitions(EngageSettings())
