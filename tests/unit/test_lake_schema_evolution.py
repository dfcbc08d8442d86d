"""Lakes created by an older release keep working: new nullable catalogue columns are added."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from schemas.table_spec import Column, TableSpec, string, timestamp
from storage.lake import Lake

NEW = TableSpec(
    name="evolving",
    layer="silver",
    description="A table whose catalogue entry grew.",
    key=("id",),
    columns=(
        string("id", "Key.", nullable=False),
        timestamp("delivery_date", "A column added by a later release."),
        string("note", "Another added column, personal.", personal=True),
        Column("amount", pa.float64(), "Was there from the start."),
    ),
)
OLD = replace(NEW, columns=(NEW.columns[0], NEW.columns[3]))


def rows(spec: TableSpec, **values: list) -> pa.Table:
    return pa.Table.from_pydict(values, schema=spec.arrow_schema)


def test_ensure_adds_new_nullable_columns_to_an_existing_table(tmp_path: Path) -> None:
    Lake(str(tmp_path)).append(OLD, rows(OLD, id=["old"], amount=[1.0]))

    lake = Lake(str(tmp_path))  # a process of the newer release
    delivered = datetime(2025, 11, 23, 17, tzinfo=UTC)
    lake.append(NEW, rows(NEW, id=["new"], delivery_date=[delivered], note=["n"], amount=[2.0]))

    frame = lake.scan(NEW).collect().sort("id")
    assert frame.select(NEW.column_names).rows() == [
        ("new", delivered, "n", 2.0),
        ("old", None, None, 1.0),
    ]
    configuration = DeltaTable(lake.uri(NEW)).metadata().configuration
    # The new non-personal column gets statistics, the personal one does not.
    assert configuration["delta.dataSkippingStatsColumns"] == "id,delivery_date,amount"


def test_merges_and_overwrites_work_after_evolution(tmp_path: Path) -> None:
    Lake(str(tmp_path)).append(OLD, rows(OLD, id=["a", "b"], amount=[1.0, 2.0]))
    lake = Lake(str(tmp_path))
    lake.merge(
        NEW,
        rows(NEW, id=["a"], delivery_date=[None], note=["x"], amount=[5.0]),
        predicate="t.id = s.id",
        clauses=lambda merge: merge.when_matched_update_all(),
    )
    assert lake.scan(NEW).filter(pl.col("id") == "a").collect()["note"].to_list() == ["x"]
    lake.overwrite(NEW, rows(NEW, id=["c"], delivery_date=[None], note=[None], amount=[3.0]))
    assert lake.scan(NEW).collect()["id"].to_list() == ["c"]


def test_a_new_required_column_is_refused(tmp_path: Path) -> None:
    Lake(str(tmp_path)).append(OLD, rows(OLD, id=["old"], amount=[1.0]))
    required = replace(NEW, columns=(*OLD.columns, string("must", "Required.", nullable=False)))
    with pytest.raises(ValueError, match="must"):
        Lake(str(tmp_path)).ensure(required)


def test_an_up_to_date_table_is_left_alone(tmp_path: Path) -> None:
    Lake(str(tmp_path)).ensure(NEW)
    version = DeltaTable(Lake(str(tmp_path)).uri(NEW)).version()
    Lake(str(tmp_path)).ensure(NEW)
    assert DeltaTable(Lake(str(tmp_path)).uri(NEW)).version() == version
