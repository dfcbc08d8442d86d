"""Dagster metadata derived from the table catalogue, so the UI shows every column's meaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg
import polars as pl
from sqlalchemy import Table

from schemas.column_lineage import COLUMN_LINEAGE
from schemas.tables import TableSpec

OWNER = "team:data-platform"

WRITE_RETRY = dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL)
"""Retries for every asset that writes a table: a lost commit race with another writer, or a
passing storage fault. Safe because every write is idempotent."""


def _column_schema(columns: Iterable[tuple[str, str, str, bool]]) -> dg.TableSchema:
    """(name, type, description, nullable) per column, as Dagster shows it in the UI."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=type_,
                description=description,
                constraints=dg.TableColumnConstraints(nullable=nullable),
            )
            for name, type_, description, nullable in columns
        ]
    )


def table_spec_metadata(spec: TableSpec) -> dict[str, Any]:
    """Static metadata of an asset that is a Delta table."""
    lineage = COLUMN_LINEAGE.get(spec.name, {})
    columns = (
        (
            column.name,
            str(column.type),
            column.description
            + (" (personal data)" if column.personal else "")
            + _sources_note(lineage.get(column.name, ())),
            column.nullable,
        )
        for column in spec.columns
    )
    metadata: dict[str, Any] = {
        "dagster/column_schema": _column_schema(columns),
        "dagster/table_name": f"{spec.layer}.{spec.name}",
        "key": ", ".join(spec.key),
        "personal_columns": ", ".join(spec.personal_columns) or "none",
    }
    if lineage:
        metadata["dagster/column_lineage"] = _column_lineage(lineage)
    return metadata


def _sources_note(sources: tuple[str, ...]) -> str:
    """The sources in the column's description too: Dagster's open-source UI lists the columns
    with their descriptions but draws column lineage only in Dagster+."""
    return f" From: {', '.join(sources)}." if sources else ""


def _column_lineage(lineage: dict[str, tuple[str, ...]]) -> dg.TableColumnLineage:
    """`table.column` sources as Dagster column dependencies (asset keys are table names)."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=dg.AssetKey(table), column_name=name)
                for table, name in (source.split(".", 1) for source in sources)
            ]
            for column, sources in lineage.items()
            if sources
        }
    )


def database_table_metadata(table: Table) -> dict[str, Any]:
    """Column schema of an operational-database table, from its SQLAlchemy definition."""
    columns = (
        (column.name, str(column.type), column.doc or "", bool(column.nullable))
        for column in table.columns
    )
    return {"dagster/column_schema": _column_schema(columns), "dagster/table_name": table.name}


def table_asset_args(spec: TableSpec, deps: list[str] | None = None) -> dict[str, Any]:
    """Asset arguments for a table: grouped by layer, described from the catalogue."""
    return {
        "description": spec.description,
        "group_name": spec.layer,
        "deps": deps or [],
        "metadata": table_spec_metadata(spec),
        "kinds": {"delta", "polars"},
        "owners": [OWNER],
    }


def asset_spec(spec: TableSpec, deps: list[str] | None = None) -> dg.AssetSpec:
    return dg.AssetSpec(key=spec.name, **table_asset_args(spec, deps))


def markdown_preview(frame: pl.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """The first rows as a markdown table for the UI (only for tables without personal data)."""
    if frame.is_empty():
        return dg.MetadataValue.md("_no rows_")
    head = frame.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in head.iter_rows()]
    return dg.MetadataValue.md("\n".join(lines))
