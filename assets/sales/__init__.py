"""Sales reporting (gold) from receipts and the article register."""

from assets.sales.reporting import sales_daily

SALES_ASSETS = [sales_daily]
