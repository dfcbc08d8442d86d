"""The bronze order table is written by the intake, not by Dagster: declared here for lineage."""

from __future__ import annotations

import dagster as dg

from assets.metadata import asset_spec
from schemas.tables import ORDER_CHANGES

order_changes = asset_spec(ORDER_CHANGES).merge_attributes(
    metadata={"written_by": "the intake (POST/PUT/DELETE /api/v3/orders...)"},
)
"""External asset: every accepted order write, landed by the intake before its 202."""

ORDER_CHANGES_KEY = dg.AssetKey(ORDER_CHANGES.name)
