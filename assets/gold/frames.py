"""Frames shaped exactly like a catalogue table, and each dimension's unknown member."""

from __future__ import annotations

from typing import Any

import polars as pl

from schemas.table_spec import TableSpec


def polars_schema(spec: TableSpec) -> pl.Schema:
    return pl.Schema(spec.arrow_schema)


def conform(frame: pl.LazyFrame, spec: TableSpec) -> pl.LazyFrame:
    """The spec's columns, in its order and types (so a build never writes a drifted schema)."""
    return frame.select(pl.col(name).cast(dtype) for name, dtype in polars_schema(spec).items())


def unknown_member(spec: TableSpec, **values: Any) -> pl.LazyFrame:
    """One row of `spec` with `values` set and every other column null."""
    schema = polars_schema(spec)
    unknown = set(values) - set(schema)
    assert not unknown, f"{spec.name} has no columns {unknown}"
    row = {name: [values.get(name)] for name in schema}
    return pl.LazyFrame(row, schema=schema)
