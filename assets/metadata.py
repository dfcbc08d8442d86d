"""Dagster metadata derived from the table catalogue, so the UI shows every column's meaning."""

from __future__ import annotations

from typing import Any

import dagster as dg
from sqlalchemy import Table

from schemas.tables import TableSpec

OWNER = "team:data-platform"


def table_spec_metadata(spec: TableSpec) -> dict[str, Any]:
    """Static metadata of an asset that is a Delta table."""
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=column.name,
                    type=str(column.type),
                    description=column.description
                    + (" (personal data)" if column.personal else ""),
                    constraints=dg.TableColumnConstraints(nullable=column.nullable),
                )
                for column in spec.columns
            ]
        ),
        "dagster/table_name": f"{spec.layer}.{spec.name}",
        "key": ", ".join(spec.key),
        "personal_columns": ", ".join(spec.personal_columns) or "none",
    }


def database_table_metadata(table: Table) -> dict[str, Any]:
    """Column schema of an operational-database table, from its SQLAlchemy definition."""
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=column.name,
                    type=str(column.type),
                    description=column.doc or "",
                    constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
                )
                for column in table.columns
            ]
        ),
        "dagster/table_name": table.name,
    }


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
