"""Receipts (SPEC 2.3): from landed submissions to registered receipts, lines and their view."""

from assets.receipts.bronze import receipt_submissions
from assets.receipts.checks import receipt_lines_match_receipts, receipts_have_unique_id
from assets.receipts.serving import receipt_view
from assets.receipts.silver import WATERMARK, register_receipts_asset

RECEIPT_ASSETS = [receipt_submissions, register_receipts_asset, receipt_view]
RECEIPT_CHECKS = [receipts_have_unique_id, receipt_lines_match_receipts]

__all__ = ["RECEIPT_ASSETS", "RECEIPT_CHECKS", "WATERMARK"]
