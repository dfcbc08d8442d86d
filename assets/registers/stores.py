"""Silver `stores`: the store register, the newest registration of every `externalId`."""

from collections.abc import Iterator

import dagster as dg

from assets.metadata import WRITE_RETRY, asset_spec, table_asset_args
from assets.registers.merge import Register, merge_register, unique_key_check
from assets.resources import LakeResource, OperationalDatabase
from assets.writers import one_writer
from schemas.frames import StoreFrame
from schemas.stores import Store
from schemas.tables import STORE_SUBMISSIONS, STORES

store_submissions = asset_spec(STORE_SUBMISSIONS).merge_attributes(
    metadata={"written_by": "the intake (POST /api/v3/stores)"},
)
"""External asset: every accepted store registration, landed by the intake before its 202."""

STORE_REGISTER = Register(
    bronze=STORE_SUBMISSIONS,
    silver=STORES,
    key="external_id",
    payload="store",
    model=Store,
    frame=StoreFrame,
    resource="stores",
    check_name="store_registrations_are_valid",
)


@dg.asset(
    **table_asset_args(STORES, deps=[STORE_SUBMISSIONS.name]),
    check_specs=[
        dg.AssetCheckSpec(
            STORE_REGISTER.check_name,
            asset=STORES.name,
            description="Landed store registrations pass the StoreFrame pandera model.",
        )
    ],
    pool=STORES.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(STORES.name)
def stores(
    context: dg.AssetExecutionContext, lake: LakeResource, database: OperationalDatabase
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Merge the store registrations landed since the last run, upserting by externalId."""
    result, check = merge_register(context, STORE_REGISTER, lake.lake, database)
    yield result
    yield check


@dg.asset_check(
    asset=STORES.name, description="Each externalId appears once in the store register."
)
def stores_have_unique_external_id(lake: LakeResource) -> dg.AssetCheckResult:
    return unique_key_check(lake.lake, STORE_REGISTER)
