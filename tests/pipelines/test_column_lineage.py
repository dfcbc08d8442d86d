"""Column lineage (schemas/column_lineage.py) as Dagster shows it: complete, pointing at columns of
upstream assets, and true of the gold builders: a column changes only with its declared sources."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets.sales.daily import sales_daily_frame
from pipelines.definitions import defs
from schemas.column_lineage import COLUMN_LINEAGE
from schemas.gold_tables import DIM_DATE
from schemas.table_spec import TableSpec
from schemas.tables import (
    ALL_TABLES,
    ARTICLES,
    ORDER_LINES,
    ORDERS,
    RECEIPT_LINES,
    RECEIPTS,
    SALES_DAILY,
    STORES,
)
from tests.support.silver import Silver, frame
from tests.unit.test_gold_builders import build, shop

TABLES = {spec.name: spec for spec in ALL_TABLES}
DERIVED = [spec for spec in ALL_TABLES if spec.layer != "bronze"]

JOIN_KEYS = {"order_id", "sku", "external_store_id", "store_external_id", "external_id"}
JOIN_KEYS |= {"contact_id", "unique_receipt_id", "line_number", "version_tag"}
"""Columns rows are matched by: changing one moves rows between groups or out of a join, a
dependency of rows rather than of a column's values, so the builders' test leaves them alone."""

SILVER_INPUTS = {
    ORDERS.name: "orders",
    ORDER_LINES.name: "order_lines",
    RECEIPTS.name: "receipts",
    RECEIPT_LINES.name: "receipt_lines",
    ARTICLES.name: "articles",
    STORES.name: "stores",
}
"""The silver tables a gold build reads, by the `Silver` attribute holding their rows."""


@cache
def _asset_graph() -> Any:
    return defs.resolve_asset_graph()


@pytest.mark.parametrize("spec", DERIVED, ids=lambda spec: spec.name)
def test_every_column_of_a_derived_table_says_where_it_comes_from(spec: TableSpec) -> None:
    lineage = COLUMN_LINEAGE[spec.name]
    assert sorted(lineage) == sorted(spec.column_names)


@pytest.mark.parametrize("spec", DERIVED, ids=lambda spec: spec.name)
def test_sources_are_columns_of_the_assets_upstream(spec: TableSpec) -> None:
    node = _asset_graph().get(dg.AssetKey(spec.name))
    parents = {key.to_user_string() for key in node.parent_keys}
    for column, sources in COLUMN_LINEAGE[spec.name].items():
        for source in sources:
            table, name = source.split(".", 1)
            assert table in parents, f"{spec.name}.{column}: {table} is not upstream"
            assert name in TABLES[table].column_names, f"{spec.name}.{column}: no {source}"


def test_the_ui_gets_the_lineage_and_each_column_names_its_sources() -> None:
    node = _asset_graph().get(dg.AssetKey("fact_order"))
    lineage = node.metadata["dagster/column_lineage"]
    assert lineage.deps_by_column["value"] == [
        dg.TableColumnDep(asset_key=dg.AssetKey("orders"), column_name="sub_total")
    ]
    columns = {column.name: column for column in node.metadata["dagster/column_schema"].columns}
    assert columns["value"].description.endswith("From: orders.sub_total.")
    assert "dagster/column_lineage" not in _asset_graph().get(dg.AssetKey("order_changes")).metadata


def _perturbed(value: Any) -> Any:
    """Another value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "~"
    if isinstance(value, datetime | date):
        return value + timedelta(days=1)
    return value


def _with_column_perturbed(silver: Silver, attribute: str, column: str) -> Silver:
    changed = copy.deepcopy(silver)
    for row in getattr(changed, attribute):
        if row.get(column) is not None:
            row[column] = _perturbed(row[column])
    return changed


def _gold(silver: Silver) -> dict[str, pl.DataFrame]:
    """The star schema and segmentation, plus sales_daily (also built from silver)."""
    gold = build(silver)
    gold[SALES_DAILY.name] = sales_daily_frame(
        frame(RECEIPT_LINES, silver.receipt_lines), frame(ARTICLES, silver.articles)
    )
    return gold


def _changed_columns(
    before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]
) -> Iterator[str]:
    """`table.column` of every column whose values differ; tables whose rows differ in number
    are left out (a row-level dependency), and dim_date, whose rows span the facts' days."""
    for table, old in before.items():
        new = after[table]
        if table == DIM_DATE.name or old.height != new.height:
            continue
        old, new = (rows.sort(TABLES[table].key, nulls_last=True) for rows in (old, new))
        for column in old.columns:
            if not old[column].equals(new[column]):
                yield f"{table}.{column}"


def _upstream(column: str, seen: set[str] | None = None) -> set[str]:
    """Every `table.column` the column is computed from, through any number of tables."""
    seen = set() if seen is None else seen
    table, name = column.split(".", 1)
    for source in COLUMN_LINEAGE.get(table, {}).get(name, ()):
        if source not in seen:
            seen.add(source)
            _upstream(source, seen)
    return seen


def test_a_gold_column_changes_only_with_a_declared_source() -> None:
    silver = shop()
    before = _gold(silver)
    observed = 0
    for table, attribute in SILVER_INPUTS.items():
        for column in TABLES[table].column_names:
            if column in JOIN_KEYS:
                continue
            source = f"{table}.{column}"
            after = _gold(_with_column_perturbed(silver, attribute, column))
            for changed in _changed_columns(before, after):
                observed += 1
                assert source in _upstream(changed), f"{changed} changed with {source}"
    assert observed > 50  # the shop's rows fill enough columns for the test to mean something
