"""`engage-orders sql` and `engage-orders segment preview` on gold tables written for the test."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipelines.cli import main
from schemas.gold_tables import CONTACT_SEGMENTATION, FACT_ORDER
from schemas.tables import QUERYABLE_TABLES
from storage.db import session_scope
from storage.lake import Lake
from storage.models import Contact, utcnow
from storage.settings import EngageSettings
from tests.support.gold import ONGOING_JACKETS, example_gold

IDS = [str(uuid.UUID(int=n)) for n in range(1, 6)]


def invoke(settings: EngageSettings, *args: str) -> Result:
    env = {
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
    }
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def gold(settings: EngageSettings) -> Lake:
    lake = Lake(settings.resolved_lake_uri)
    example_gold(IDS).write(lake)
    return lake


# --- sql ----------------------------------------------------------------------------------------

ORDERS_PER_STATUS = (
    "SELECT status, count(*) AS orders FROM fact_order GROUP BY status ORDER BY status"
)


def test_sql_prints_a_table_for_people(settings: EngageSettings, gold: Lake) -> None:
    result = invoke(settings, "sql", ORDERS_PER_STATUS)

    assert result.exit_code == 0, result.output
    assert "│ status" in result.stdout
    assert "Completed" in result.stdout
    assert "InProgress" in result.stdout


def test_sql_writes_csv_and_json_with_every_row(settings: EngageSettings, gold: Lake) -> None:
    as_csv = invoke(settings, "sql", ORDERS_PER_STATUS, "--format", "csv")
    as_json = invoke(settings, "sql", ORDERS_PER_STATUS, "--format", "json")

    assert as_csv.exit_code == 0, as_csv.output
    assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == [
        {"status": "Completed", "orders": "1"},
        {"status": "InProgress", "orders": "3"},
    ]
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [
        {"status": "Completed", "orders": 1},
        {"status": "InProgress", "orders": 3},
    ]


def test_sql_joins_tables_and_writes_lists_as_json_text_in_csv(
    settings: EngageSettings, gold: Lake
) -> None:
    query = (
        "SELECT c.contact_id, ['a', 'b'] AS tags, count(o.order_key) AS orders "
        "FROM contact_segmentation c LEFT JOIN fact_order o ON o.contact_key = c.contact_key "
        "GROUP BY c.contact_id ORDER BY c.contact_id"
    )

    result = invoke(settings, "sql", query, "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["orders"] for row in rows] == ["1", "1", "1", "1", "0"]
    assert rows[0]["tags"] == '["a", "b"]'


def test_sql_shows_every_queryable_table_and_works_before_anything_is_built(
    settings: EngageSettings,
) -> None:
    tables = invoke(settings, "sql", "SHOW TABLES", "--format", "json")
    empty = invoke(settings, "sql", "SELECT count(*) AS n FROM fact_order", "--format", "json")

    assert tables.exit_code == 0, tables.output
    assert {row["name"] for row in json.loads(tables.stdout)} == {
        spec.name for spec in QUERYABLE_TABLES
    }
    assert json.loads(empty.stdout) == [{"n": 0}]
    assert not Lake(settings.resolved_lake_uri).exists(FACT_ORDER), "reading creates no tables"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELEC 1", "sql parser error"),
        ("SELECT * FROM contacts", "relation 'contacts' was not found"),
        ("SELECT email FROM dim_contact", 'unable to find column "email"'),
        ("", "statement"),
    ],
)
def test_a_bad_query_says_why_and_exits_1(
    settings: EngageSettings, gold: Lake, query: str, reason: str
) -> None:
    result = invoke(settings, "sql", query)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("The query failed: ")
    assert reason in result.stderr
    assert "Traceback" not in result.output
    assert "FAILED HERE" not in result.stderr


# --- segment preview ----------------------------------------------------------------------------


def test_preview_of_a_json_definition_prints_count_and_sample(
    settings: EngageSettings, gold: Lake, tmp_path: Path
) -> None:
    file = tmp_path / "ongoing-jackets.json"
    file.write_text(json.dumps(ONGOING_JACKETS))

    text = invoke(settings, "segment", "preview", str(file))
    as_json = invoke(settings, "segment", "preview", str(file), "--format", "json")

    assert text.exit_code == 0, text.output
    assert text.stdout == f"count: 1\nsample (1):\n  {IDS[0]}\n"
    assert json.loads(as_json.stdout) == {"count": 1, "sample": [IDS[0]]}


def test_preview_reads_yaml_with_native_dates_and_leaves_out_deleted_contacts(
    settings: EngageSettings, gold: Lake, tmp_path: Path
) -> None:
    with session_scope(settings.resolved_database_url) as session:
        session.add(Contact(id=IDS[1], deleted_at=utcnow()))
    file = tmp_path / "ongoing.yml"
    file.write_text(
        "# contacts with an ongoing order placed this century\n"
        "criteria:\n"
        "  order:\n"
        "    ongoing: true\n"
        "    createdAt:\n"
        "      from: 2000-01-01\n"
    )

    result = invoke(settings, "segment", "preview", str(file), "--format", "json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["count"] == 2
    assert sorted(body["sample"]) == [IDS[0], IDS[3]]


def test_preview_before_the_gold_tables_are_built_is_zero(
    settings: EngageSettings, tmp_path: Path
) -> None:
    file = tmp_path / "all.yaml"
    file.write_text("criteria: {contact: {}}\n")

    result = invoke(settings, "segment", "preview", str(file))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("count: 0\n")
    assert not Lake(settings.resolved_lake_uri).exists(CONTACT_SEGMENTATION)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "bad.json",
            '{"criteria": {"order": {"colour": "red", "ongoing": "yes"}}}',
            ["/criteria/order/ongoing: InvalidType", "/criteria/order/colour: UnknownField"],
        ),
        (
            "bad.yaml",
            "criteria:\n  receipt:\n    since: 30 days\n",
            ["/criteria/receipt/since: InvalidTimeBound"],
        ),
        ("broken.json", '{"criteria": ', ["/: MalformedJson"]),
        ("broken.yaml", "criteria: [unclosed\n", ["broken.yaml is not valid YAML"]),
        ("definition.txt", "{}", ["use a .json, .yaml or .yml file"]),
    ],
)
def test_a_bad_definition_file_prints_the_problems_and_exits_1(
    settings: EngageSettings, tmp_path: Path, name: str, content: str, expected: list[str]
) -> None:
    file = tmp_path / name
    file.write_text(content)

    result = invoke(settings, "segment", "preview", str(file))

    assert result.exit_code == 1
    assert result.stdout == ""
    for line in expected:
        assert line in result.stderr
    assert "nothing was previewed" in result.stderr
    assert "Traceback" not in result.output
