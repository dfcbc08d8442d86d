"""Regenerate the generated parts of docs/star-schema.md from the table catalogue.

    .venv/bin/python docs/star_schema_columns.py          # rewrite the file
    .venv/bin/python docs/star_schema_columns.py --check  # exit 1 if it is out of date

The ER diagram (relationships from `assets.gold.integrity.REFERENCES`, keys from the catalogue)
and the column tables (`schemas.gold_tables`) are written between BEGIN/END GENERATED markers, so
the document cannot drift from what the build writes. tests/test_star_schema_doc.py runs --check.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from assets.gold.integrity import REFERENCES  # noqa: E402
from schemas.gold_tables import CONTACT_SEGMENTATION, STAR_SCHEMA  # noqa: E402
from schemas.table_spec import TableSpec  # noqa: E402

DOCUMENT = Path(__file__).with_name("star-schema.md")
TABLES: tuple[TableSpec, ...] = (*STAR_SCHEMA, CONTACT_SEGMENTATION)


def type_name(data_type: pa.DataType) -> str:
    """The column type as SQL readers (DuckDB, Spark) show it."""
    if pa.types.is_list(data_type):
        return f"array<{type_name(data_type.value_type)}>"
    if pa.types.is_timestamp(data_type):
        return "timestamp (UTC)"
    names = {
        pa.int64(): "bigint",
        pa.int32(): "int",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.string(): "string",
        pa.date32(): "date",
    }
    return names[data_type]


def _mermaid_type(data_type: pa.DataType) -> str:
    return type_name(data_type).split(" ")[0].replace("<", "_").replace(">", "")


def er_diagram() -> str:
    """Entities with their key columns, and one relationship per foreign key."""
    lines = ["```mermaid", "erDiagram"]
    for spec in TABLES:
        referring = {reference.column for reference in REFERENCES.get(spec.name, [])}
        shown = [c for c in spec.columns if c.name in spec.key or c.name in referring]
        lines.append(f"    {spec.name} {{")
        for column in shown:
            marks = ",".join(
                mark
                for mark, present in (
                    ("PK", column.name in spec.key),
                    ("FK", column.name in referring),
                )
                if present
            )
            lines.append(f"        {_mermaid_type(column.type)} {column.name} {marks}".rstrip())
        lines.append("    }")
    for spec in TABLES:
        for reference in REFERENCES.get(spec.name, []):
            lines.append(f'    {reference.target.name} ||--o{{ {spec.name} : "{reference.column}"')
    lines.append("```")
    return "\n".join(lines)


def column_tables() -> str:
    """One section per table: description, key, then every column."""
    sections = []
    for spec in TABLES:
        rows = [
            f"| `{column.name}` | `{type_name(column.type)}` | {'' if column.nullable else 'no'} "
            f"| {column.description.replace('|', '/')} |"
            for column in spec.columns
        ]
        sections.append(
            "\n".join(
                [
                    f"### `{spec.layer}/{spec.name}`",
                    "",
                    spec.description,
                    "",
                    f"Key: {', '.join(f'`{name}`' for name in spec.key)}.",
                    "",
                    "| Column | Type | Null | Meaning |",
                    "|---|---|---|---|",
                    *rows,
                ]
            )
        )
    return "\n\n".join(sections)


GENERATED = {"er-diagram": er_diagram, "columns": column_tables}


def render(text: str) -> str:
    """`text` with every generated block replaced by its current content."""
    for name, generate in GENERATED.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED {name} .*?-->\n).*?(<!-- END GENERATED {name} -->)", re.S
        )
        content = generate()
        text, count = pattern.subn(
            lambda match, content=content: f"{match[1]}{content}\n{match[2]}", text
        )
        assert count == 1, f"marker for {name} missing in {DOCUMENT.name}"
    return text


def main() -> int:
    current = DOCUMENT.read_text()
    wanted = render(current)
    if "--check" in sys.argv[1:]:
        if wanted != current:
            print(f"{DOCUMENT} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
