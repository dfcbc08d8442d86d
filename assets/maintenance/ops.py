"""The step the `maintain_lake` job runs: compact, vacuum, checkpoint and cut the log of tables."""

from datetime import timedelta

import dagster as dg
from pydantic import Field

from assets.resources import LakeMaintenancePolicy, LakeResource, OperationalDatabase
from assets.writers import one_writer
from schemas.table_spec import TableSpec
from schemas.tables import ALL_TABLES, BRONZE_TABLES, SALES_DAILY
from storage.lake_maintenance import Retention, TableMaintenance, maintain_table
from storage.watermarks import get_watermark

ERASE_CONTACTS = "erase_contacts"
"""Erasure rewrites and vacuums every table itself; maintenance waits for it to finish."""


REBUILT_TABLES = frozenset(
    spec.name for spec in ALL_TABLES if spec.layer in ("gold", "segments") or spec == SALES_DAILY
)
"""Tables each build replaces in one overwrite (assets.gold, assets.segments, assets.sales)."""


class LakeMaintenanceConfig(dg.Config):
    tables: list[str] = Field(
        default=[],
        description="Tables to maintain, by name; empty: every table in the lake.",
    )


@dg.op(
    description=(
        "Compact small files (bin-packing), vacuum the files compaction and rewrites replaced, "
        "write a checkpoint and delete the log before it, for each table. Keeps what is still "
        "read: bronze commits the pipeline has not processed (their log entries and files), "
        "and silver and gold versions younger than ENGAGE_LAKE_HISTORY_HOURS."
    ),
    # Two maintenance runs never vacuum one table at once.
    pool="lake_maintenance",
)
@one_writer("lake_maintenance")
def maintain_lake_tables(
    context: dg.OpExecutionContext,
    config: LakeMaintenanceConfig,
    lake: LakeResource,
    database: OperationalDatabase,
    lake_maintenance: LakeMaintenancePolicy,
) -> None:
    if _erasure_in_flight(context):
        context.log.info("maintenance waits: an erase_contacts run is in flight")
        context.add_output_metadata({"tables": 0, "waiting_for": ERASE_CONTACTS})
        return
    specs = [spec for spec in _selected(config.tables) if lake.lake.exists(spec)]
    with database.session() as session:
        processed = {spec.name: get_watermark(session, spec.name) for spec in BRONZE_TABLES}
    results = [
        maintain_table(
            lake.lake,
            spec,
            _retention(spec, processed, lake_maintenance),
            compact=spec.name not in REBUILT_TABLES,
        )
        for spec in specs
    ]
    context.add_output_metadata(_summary(results))


def _selected(names: list[str]) -> list[TableSpec]:
    if not names:
        return list(ALL_TABLES)
    known = {spec.name: spec for spec in ALL_TABLES}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise dg.Failure(f"unknown tables: {', '.join(unknown)}")
    return [known[name] for name in names]


def _retention(
    spec: TableSpec, processed: dict[str, int], policy: LakeMaintenancePolicy
) -> Retention:
    """Bronze keeps only what the pipeline has yet to read; the rest keeps the history window."""
    if spec.layer == "bronze":
        return Retention(history=timedelta(0), processed_version=processed.get(spec.name))
    return Retention(history=policy.history)


def _erasure_in_flight(context: dg.OpExecutionContext) -> bool:
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=ERASE_CONTACTS,
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
        ),
        limit=1,
    )
    return bool(records)


def _summary(results: list[TableMaintenance]) -> dict[str, object]:
    """Totals and a per-table markdown table (counts only)."""
    rows = [
        f"| {r.table} | {r.files_before} | {r.files_after} | {r.files_compacted} | "
        f"{r.files_vacuumed} | {r.log_entries_removed} | {'yes' if r.compaction_conflict else ''} |"
        for r in results
    ]
    header = [
        "| table | files before | files after | compacted | vacuumed | log entries removed "
        "| compaction deferred |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    return {
        "tables": len(results),
        "files_compacted": sum(r.files_compacted for r in results),
        "files_vacuumed": sum(r.files_vacuumed for r in results),
        "log_entries_removed": sum(r.log_entries_removed for r in results),
        "compactions_deferred": sum(r.compaction_conflict for r in results),
        "per_table": dg.MetadataValue.md("\n".join([*header, *rows])),
    }
