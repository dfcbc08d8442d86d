"""What the analyst commands do: SQL over the gold and segments tables, and segment previews.

Only the tables of `QUERYABLE_TABLES` are exposed, none of which holds personal data, so an
analyst with the command line but no database access sees exactly what the star schema offers.
Queries run with polars SQL on lazy Delta scans: only the columns and files a query needs are read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from deltalake.exceptions import DeltaError
from pydantic import ValidationError

from schemas.problems import FieldError, field_errors_from_validation
from schemas.segment_definitions import SegmentCriteria
from schemas.segments import size_errors
from schemas.table_spec import TableSpec
from schemas.tables import QUERYABLE_TABLES
from storage.db import session_scope
from storage.lake import Lake
from storage.segment_evaluation import SegmentPreview
from storage.segment_lake import preview_current
from storage.segments import hidden_contact_ids
from storage.settings import EngageSettings

OutputFormat = Literal["table", "csv", "json"]
DEFINITION_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


class QueryError(Exception):
    """A query polars cannot run: bad SQL, an unknown table or column, a type mismatch."""


class DefinitionError(Exception):
    """A definition file that cannot be read, parsed or validated; `errors` locate the problems."""

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


# --- sql ----------------------------------------------------------------------------------------


def table_frames(lake: Lake) -> dict[str, pl.LazyFrame]:
    """Every queryable table by its name. A table not built yet is empty but has its columns,
    so a query names the same tables on a fresh lake, and reading never creates a table."""
    return {spec.name: _scan_or_empty(lake, spec) for spec in QUERYABLE_TABLES}


def _scan_or_empty(lake: Lake, spec: TableSpec) -> pl.LazyFrame:
    if lake.exists(spec):
        return lake.scan(spec)
    return pl.LazyFrame(schema=pl.Schema(spec.arrow_schema))


def run_sql(lake: Lake, query: str) -> pl.DataFrame:
    """The result of one SQL statement; raises QueryError with polars' explanation."""
    context = pl.SQLContext(table_frames(lake))
    try:
        return context.execute(query, eager=False).collect()
    except (pl.exceptions.PolarsError, DeltaError) as error:
        # polars appends the query plan after a blank line: useful to its developers, noise here.
        raise QueryError(str(error).split("\n\n", 1)[0].strip()) from None


def render(frame: pl.DataFrame, output_format: OutputFormat, max_rows: int) -> str:
    """Table for people (polars' layout, every column at full width, up to `max_rows` rows); CSV
    and JSON with every row, for other programs."""
    if output_format == "csv":
        return _flat(frame).write_csv()
    if output_format == "json":
        return frame.write_json()
    with pl.Config(
        tbl_rows=max_rows,
        tbl_cols=-1,
        tbl_width_chars=-1,  # never squeeze columns into wrapped slivers; `less -S` scrolls
        fmt_str_lengths=80,
        fmt_table_cell_list_len=10,
    ):
        return str(frame)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists or structs: such columns are written as JSON text."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(name, [_json_text(value) for value in frame[name].to_list()], pl.String)
        for name in nested
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


# --- segment preview ----------------------------------------------------------------------------


def read_definition(path: Path) -> SegmentCriteria:
    """A definition from a JSON or YAML file (by extension), validated like the API does."""
    kind = DEFINITION_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DefinitionError(f"{path.name}: use a .json, .yaml or .yml file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(f"{path.name}: cannot read it ({error})") from None
    try:
        if kind == "json":
            definition = SegmentCriteria.model_validate_json(text)
        else:
            definition = SegmentCriteria.model_validate(_yaml(path, text))
    except ValidationError as error:
        raise DefinitionError(
            f"{path.name} is not a valid segment definition", field_errors_from_validation(error)
        ) from None
    errors = size_errors(definition.criteria)
    if errors:
        raise DefinitionError(f"{path.name} is not a valid segment definition", errors)
    return definition


def _yaml(path: Path, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name} is not valid YAML: {error}") from None


def preview_definition(settings: EngageSettings, definition: SegmentCriteria) -> SegmentPreview:
    """What `POST /segments/preview` answers for the definition, from the same lake and database."""
    with session_scope(settings.resolved_database_url) as session:
        hidden = hidden_contact_ids(session)
    lake = Lake(settings.resolved_lake_uri)
    return preview_current(lake, definition.criteria, datetime.now(UTC), hidden)
