"""The Dagster code location: composes the domains' assets with jobs, sensors and resources."""

import dagster as dg

from assets.orders import ORDER_ASSETS, ORDER_CHECKS
from pipelines.jobs import PIPELINE_JOBS
from pipelines.resources import resources_from_settings
from pipelines.sensors import PIPELINE_SENSORS
from storage.settings import EngageSettings


def build_definitions(settings: EngageSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=ORDER_ASSETS,
        asset_checks=ORDER_CHECKS,
        jobs=PIPELINE_JOBS,
        sensors=PIPELINE_SENSORS,
        resources=resources_from_settings(settings),
    )


defs = build_definitions(EngageSettings())
