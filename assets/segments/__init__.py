"""Segmentation: the contact-level model built on the star schema, and saved segments."""

from assets.segments.memberships import segment_memberships
from assets.segments.segmentation import contact_segmentation, contact_segmentation_keys_resolve

SEGMENT_ASSETS = [contact_segmentation, segment_memberships]
"""build_gold materialises everything in this list after the star schema."""
SEGMENT_CHECKS = [contact_segmentation_keys_resolve]
