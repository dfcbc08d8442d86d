"""Segmentation: the contact-level model built on the star schema, and saved segments."""

from assets.gold.freshness import gold_freshness_checks
from assets.segments.memberships import segment_memberships
from assets.segments.segmentation import contact_segmentation, contact_segmentation_keys_resolve

SEGMENT_ASSETS = [contact_segmentation, segment_memberships]
"""build_gold materialises everything in this list after the star schema."""
SEGMENT_FRESHNESS_CHECKS = gold_freshness_checks(SEGMENT_ASSETS)
"""Rebuilt by build_gold with the star schema, so they are as fresh as it is."""
SEGMENT_CHECKS = [contact_segmentation_keys_resolve, *SEGMENT_FRESHNESS_CHECKS]
