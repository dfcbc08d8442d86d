"""The article and store registers (SPEC 2.4): landed registrations merged into silver."""

from assets.registers.articles import article_submissions, articles, articles_have_unique_sku
from assets.registers.stores import store_submissions, stores, stores_have_unique_external_id

REGISTER_ASSETS = [article_submissions, articles, store_submissions, stores]
REGISTER_CHECKS = [articles_have_unique_sku, stores_have_unique_external_id]
