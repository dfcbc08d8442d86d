"""Silver `articles`: the article register, the newest registration of every SKU.

Order and receipt enrichment read it, which is why `process_registers` runs before the orders.
"""

from collections.abc import Iterator

import dagster as dg

from assets.metadata import WRITE_RETRY, asset_spec, table_asset_args
from assets.registers.merge import Register, merge_register, unique_key_check
from assets.resources import LakeResource, OperationalDatabase
from assets.writers import one_writer
from schemas.articles import Article
from schemas.frames import ArticleFrame
from schemas.tables import ARTICLE_SUBMISSIONS, ARTICLES

article_submissions = asset_spec(ARTICLE_SUBMISSIONS).merge_attributes(
    metadata={"written_by": "the intake (POST /api/v3/articles, /articles/import, the CLI import)"},
)
"""External asset: every accepted article registration, landed by the intake before its 202."""

ARTICLE_REGISTER = Register(
    bronze=ARTICLE_SUBMISSIONS,
    silver=ARTICLES,
    key="sku",
    payload="article",
    model=Article,
    frame=ArticleFrame,
    resource="articles",
    check_name="article_registrations_are_valid",
)


@dg.asset(
    **table_asset_args(ARTICLES, deps=[ARTICLE_SUBMISSIONS.name]),
    check_specs=[
        dg.AssetCheckSpec(
            ARTICLE_REGISTER.check_name,
            asset=ARTICLES.name,
            description="Landed article registrations pass the ArticleFrame pandera model.",
        )
    ],
    pool=ARTICLES.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(ARTICLES.name)
def articles(
    context: dg.AssetExecutionContext, lake: LakeResource, database: OperationalDatabase
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Merge the article registrations landed since the last run, upserting by SKU."""
    result, check = merge_register(context, ARTICLE_REGISTER, lake.lake, database)
    yield result
    yield check


@dg.asset_check(asset=ARTICLES.name, description="Each SKU appears once in the article register.")
def articles_have_unique_sku(lake: LakeResource) -> dg.AssetCheckResult:
    return unique_key_check(lake.lake, ARTICLE_REGISTER)
