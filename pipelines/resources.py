"""Resources for every asset, built from the environment's ENGAGE_* settings."""

from typing import Any

from assets.resources import (
    ActionChannels,
    AutomationsConfig,
    BatchLimits,
    GdprPolicy,
    LakeMaintenancePolicy,
    LakeResource,
    LoyaltyProgram,
    OperationalDatabase,
    OrderPolicy,
)
from storage.settings import EngageSettings


def resources_from_settings(settings: EngageSettings) -> dict[str, Any]:
    return {
        "lake": LakeResource(root_uri=settings.resolved_lake_uri),
        "database": OperationalDatabase(url=settings.resolved_database_url),
        "loyalty_program": LoyaltyProgram(
            points_per_unit=settings.loyalty_points_per_unit,
            bonus_check_threshold=settings.loyalty_bonus_check_threshold,
        ),
        "automations": AutomationsConfig(
            path=str(settings.automations_path) if settings.automations_path else None
        ),
        "action_channels": ActionChannels.from_settings(settings),
        "gdpr_policy": GdprPolicy.from_settings(settings),
        "batch_limits": BatchLimits(max_changes_per_run=settings.max_changes_per_run),
        "lake_maintenance": LakeMaintenancePolicy(
            history_hours=settings.lake_history_hours, compact_files=settings.lake_compact_files
        ),
        "order_policy": OrderPolicy(
            statuses=list(settings.order_statuses),
            ongoing_statuses=list(settings.ongoing_statuses),
        ),
    }
