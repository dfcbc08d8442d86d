"""Asset checks of the star schema: every key resolves, dimension keys are unique.

They read the tables as written, after every table they refer to is built (`additional_deps`),
and report counts only: never a key value, which could be a contact id.
"""

import dagster as dg

from assets.gold.integrity import REFERENCES, duplicate_keys, unresolved_keys
from assets.resources import LakeResource
from schemas.gold_tables import DIM_ARTICLE, DIM_CONTACT, DIM_STORE, FACT_ORDER
from schemas.table_spec import TableSpec


def keys_resolve_check(spec: TableSpec) -> dg.AssetChecksDefinition:
    """`<table>_keys_resolve`: each foreign key of `spec` (REFERENCES) finds its target row."""
    references = REFERENCES[spec.name]
    targets = sorted({reference.target.name for reference in references} - {spec.name})
    columns = ", ".join(reference.column for reference in references)

    @dg.asset_check(
        asset=spec.name,
        name=f"{spec.name}_keys_resolve",
        additional_deps=targets,
        description=f"Every key of {spec.name} ({columns}) resolves to its dimension row.",
    )
    def _check(lake: LakeResource) -> dg.AssetCheckResult:
        missing = unresolved_keys(lake.lake.scan(spec), references, lake.lake.scan)
        return dg.AssetCheckResult(
            passed=not any(missing.values()),
            metadata={f"unresolved.{column}": count for column, count in missing.items()},
        )

    return _check


def keys_unique_check(spec: TableSpec) -> dg.AssetChecksDefinition:
    """`<table>_keys_unique`: the surrogate key is unique (a hash collision would break it)."""

    @dg.asset_check(
        asset=spec.name,
        name=f"{spec.name}_keys_unique",
        description=f"{', '.join(spec.key)} is unique in {spec.name}: no two natural keys share "
        "a surrogate key.",
    )
    def _check(lake: LakeResource) -> dg.AssetCheckResult:
        duplicates = duplicate_keys(lake.lake.scan(spec), spec.key)
        return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicates": duplicates})

    return _check


KEYED_TABLES = (DIM_CONTACT, DIM_ARTICLE, DIM_STORE, FACT_ORDER)
"""Tables whose key is a hash of a natural key."""
