"""docs/star-schema.md shows the tables the build writes: its generated parts are current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

GENERATOR = Path(__file__).resolve().parents[1] / "docs" / "star_schema_columns.py"


def test_the_generated_diagram_and_column_tables_are_current() -> None:
    spec = importlib.util.spec_from_file_location("star_schema_columns", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    current = generator.DOCUMENT.read_text()
    assert generator.render(current) == current, (
        "docs/star-schema.md is out of date: run .venv/bin/python docs/star_schema_columns.py"
    )
