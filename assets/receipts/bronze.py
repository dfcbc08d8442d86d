"""The bronze receipt table is written by the intake, not by Dagster: declared here for lineage."""

import dagster as dg

from assets.metadata import asset_spec
from schemas.tables import RECEIPT_SUBMISSIONS

receipt_submissions = asset_spec(RECEIPT_SUBMISSIONS).merge_attributes(
    metadata={"written_by": "the intake (POST /api/v3/receipts)"},
)
"""External asset: every accepted receipt submission, landed by the intake before its 202."""

RECEIPT_SUBMISSIONS_KEY = dg.AssetKey(RECEIPT_SUBMISSIONS.name)
