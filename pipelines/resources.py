"""Resources for every asset, built from the environment's ENGAGE_* settings."""

from typing import Any

from assets.resources import LakeResource, LoyaltyProgram, OperationalDatabase, OrderPolicy
from storage.settings import EngageSettings


def resources_from_settings(settings: EngageSettings) -> dict[str, Any]:
    return {
        "lake": LakeResource(root_uri=settings.resolved_lake_uri),
        "database": OperationalDatabase(url=settings.resolved_database_url),
        "loyalty_program": LoyaltyProgram(
            points_per_unit=settings.loyalty_points_per_unit,
            bonus_check_threshold=settings.loyalty_bonus_check_threshold,
        ),
        "order_policy": OrderPolicy(
            statuses=list(settings.order_statuses),
            ongoing_statuses=list(settings.ongoing_statuses),
        ),
    }
