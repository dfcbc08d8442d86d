"""Loyalty points from receipts: the ledger of points earned, deducted and used for bonus checks."""

from assets.loyalty.ledger import loyalty_ledger

LOYALTY_ASSETS = [loyalty_ledger]
