"""docs/analyst-guide.md works as written: every SQL query, Python snippet and segment definition
in it runs on the demo history the guide tells readers to make, and the sample results it shows
are what they get.

The guide's conventions, which these tests rely on:

- a ```sql block is one query for `engage-orders sql`; a ```csv block right after it is that
  query's output with `--format csv` on the demo data;
- a ```json or ```yaml block with `criteria` is a segment definition, saved under its `name`;
- a ```python block reads the lake from a `lake = "..."` line.

The data is built once, in one test, as a reader builds it: the requests of
`engage-orders demo` (with the sizes the guide gives) posted to a real intake, every definition of
the guide saved through the API, then what `engage-orders process` runs. One test rather than one
per block, so that parallel test workers do not each build it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import dagster as dg
import httpx
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from assets.gold.integrity import REFERENCES
from ingest_api.app import prepare_storage
from pipelines.cli import main
from pipelines.demo.posting import post_all, serving_intake
from pipelines.demo.script import DemoScript
from pipelines.processing import process_pending
from schemas.tables import QUERYABLE_TABLES
from storage.apikeys import Scope, create_api_key
from storage.db import session_scope
from storage.settings import EngageSettings
from tests.docs.markdown import DOCS, Block, broken_links, code_blocks

GUIDE = DOCS / "analyst-guide.md"
TEXT = GUIDE.read_text(encoding="utf-8")

BLOCKS = code_blocks(TEXT)


@dataclass(frozen=True)
class Query:
    block: Block
    expected_csv: str | None


def queries() -> list[Query]:
    """Every ```sql block, with the ```csv block that follows it, if any."""
    found = []
    for index, block in enumerate(BLOCKS):
        if block.language != "sql":
            continue
        following = BLOCKS[index + 1] if index + 1 < len(BLOCKS) else None
        expected = following.code if following and following.language == "csv" else None
        found.append(Query(block, expected))
    return found


@dataclass(frozen=True)
class Definition:
    block: Block
    body: dict[str, Any]
    """As JSON, as the API takes it."""

    @property
    def name(self) -> str:
        return self.body["name"]


def definitions() -> list[Definition]:
    """Every ```json or ```yaml block that is a segment definition."""
    found = []
    for block in BLOCKS:
        if block.language == "json":
            body = json.loads(block.code)
        elif block.language == "yaml":
            body = yaml.safe_load(block.code)
        else:
            continue
        if isinstance(body, dict) and "criteria" in body:
            found.append(Definition(block, body))
    return found


def demo_sizes() -> dict[str, int]:
    """The sizes of the `engage-orders demo` command the guide tells readers to run."""
    command = re.search(r"engage-orders demo (?:[^\n]*\\\n)*[^\n]*", TEXT)
    assert command, "the guide no longer shows the engage-orders demo command to run"
    sizes = {
        name: int(value)
        for name, value in re.findall(r"--(contacts|orders|days) (\d+)", command.group())
    }
    assert set(sizes) == {"contacts", "orders", "days"}, command.group()
    return sizes


# --- the guide, run on demo data ----------------------------------------------------------------


@dataclass(frozen=True)
class Installation:
    settings: EngageSettings
    api: httpx.Client

    def cli(self, *args: str) -> click.testing.Result:
        env = {
            "ENGAGE_HOME": str(self.settings.resolved_home),
            "ENGAGE_DATABASE_URL": self.settings.resolved_database_url,
            "ENGAGE_LAKE_URI": self.settings.resolved_lake_uri,
        }
        return CliRunner().invoke(main, list(args), env=env)


@contextlib.contextmanager
def demo_installation(home: Path) -> Iterator[Installation]:
    """SQLite and a local lake with the demo history processed and every definition of the guide
    saved and materialised; the intake keeps serving for the previews."""
    settings = EngageSettings(
        home=home,
        database_url=f"sqlite:///{home / 'engage.db'}",
        lake_uri=None,
        rate_limit_per_s=0,  # the demo posts one request at a time; no need to pace it here
    )
    prepare_storage(settings)
    with session_scope(settings.resolved_database_url) as session:
        _, key = create_api_key(session, "analyst-guide", frozenset({Scope.ADMIN.value}))
    script = DemoScript(**demo_sizes(), now=datetime.now(UTC))
    with serving_intake(settings) as url:
        tally = post_all(url, key, list(script.requests()))
        assert not tally.refused, tally.refused[:5]
        headers = {"apikey": key}
        with httpx.Client(base_url=f"{url}/api/v3", headers=headers, timeout=60) as api:
            for definition in definitions():
                saved = api.post("/segments", json=definition.body)
                assert saved.status_code == 201, (definition.block.line, saved.text)
            with dg.DagsterInstance.ephemeral() as instance:
                assert process_pending(settings, instance, log_level="WARNING")
            yield Installation(settings, api)


def test_every_query_snippet_and_definition_of_the_guide_runs_on_demo_data(
    tmp_path: Path,
) -> None:
    problems: list[str] = []
    with demo_installation(tmp_path / "engage") as installation:
        for query in queries():
            problems += query_problems(installation, query)
        for definition in definitions():
            problems += definition_problems(installation, definition, tmp_path)
        for block in BLOCKS:
            if block.language == "python":
                problems += snippet_problems(installation, block)

    assert not problems, "docs/analyst-guide.md:\n" + "\n\n".join(problems)


def query_problems(installation: Installation, query: Query) -> list[str]:
    where = f"line {query.block.line}"
    result = installation.cli("sql", query.block.code, "--format", "csv")
    if result.exit_code != 0:
        return [f"{where}: the query failed: {result.output}"]
    output = result.stdout.strip("\n")
    if len(output.splitlines()) < 2:
        return [f"{where}: the query returned no rows on the demo data"]
    if query.expected_csv is not None and output != query.expected_csv.strip("\n"):
        return [f"{where}: the guide shows\n{query.expected_csv}but the query returns\n{output}"]
    return []


def definition_problems(
    installation: Installation, definition: Definition, folder: Path
) -> list[str]:
    """Previewed through the API and `engage-orders segment preview`, and materialised: the same
    members, at least one."""
    where = f"line {definition.block.line} ({definition.name})"
    preview = installation.api.post("/segments/preview", json=definition.body)
    if preview.status_code != 200:
        return [f"{where}: POST /segments/preview answered {preview.status_code} {preview.text}"]
    count = preview.json()["count"]
    if count == 0:
        return [f"{where}: selects nobody on the demo data"]
    problems = []
    suffix = ".yaml" if definition.block.language == "yaml" else ".json"
    file = folder / f"{definition.name}{suffix}"
    file.write_text(definition.block.code, encoding="utf-8")
    cli = installation.cli("segment", "preview", str(file), "--format", "json")
    if cli.exit_code != 0 or json.loads(cli.stdout)["count"] != count:
        problems.append(f"{where}: engage-orders segment preview printed {cli.output}")
    members = installation.api.get(f"/segments/{definition.name}/members", params={"count": 1})
    page = members.json()
    if members.status_code != 200 or (page["totalCount"], page["current"]) != (count, True):
        problems.append(f"{where}: {count} in the preview, but the members are {members.text}")
    return problems


def snippet_problems(installation: Installation, block: Block) -> list[str]:
    """The snippet runs with `lake` set to the demo's lake; the frames it makes are not empty."""
    where = f"line {block.line}"
    code, replaced = re.subn(
        r'^lake = "[^"]*"',
        f"lake = {installation.settings.resolved_lake_uri!r}",
        block.code,
        flags=re.MULTILINE,
    )
    if replaced != 1:
        return [f'{where}: a Python snippet sets the lake root once, as `lake = "..."`']
    namespace: dict[str, Any] = {}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"{GUIDE.name}:{block.line}", "exec"), namespace)
    except Exception as error:  # the message names the snippet's line
        return [f"{where}: the snippet raised {error!r}"]
    frames = [value for value in namespace.values() if isinstance(value, pl.DataFrame)]
    if not frames or any(frame.is_empty() for frame in frames):
        return [f"{where}: the snippet made no frame, or an empty one"]
    return []


# --- what can be checked without data -----------------------------------------------------------


def test_the_guide_has_queries_definitions_and_sample_results() -> None:
    assert len(queries()) >= 8
    assert sum(query.expected_csv is not None for query in queries()) >= 4
    assert len(definitions()) >= 6
    assert any(block.language == "python" for block in BLOCKS)


def test_every_sample_result_follows_a_query() -> None:
    """A ```csv block anywhere else would never be compared with anything."""
    for index, block in enumerate(BLOCKS):
        if block.language == "csv":
            assert index > 0, f"line {block.line}"
            assert BLOCKS[index - 1].language == "sql", f"line {block.line}"


def test_segment_definitions_have_distinct_names_and_every_json_block_parses() -> None:
    for block in BLOCKS:
        if block.language == "json":
            json.loads(block.code)
    names = [definition.name for definition in definitions()]
    assert len(names) == len(set(names)), names


def criterion_kinds(criterion: Any) -> Iterator[str]:
    """The criterion keys (order, receipt, contact, all, any, not) used in a criteria tree."""
    if isinstance(criterion, list):
        for item in criterion:
            yield from criterion_kinds(item)
    elif isinstance(criterion, dict):
        for kind, value in criterion.items():
            yield kind
            if kind in ("all", "any", "not"):
                yield from criterion_kinds(value)


REFERENCE_SECTION = {
    "order": "order",
    "receipt": "receipt",
    "contact": "contact",
    "all": "criteria",
    "any": "criteria",
    "not": "criteria",
}
"""The section of docs/segments.md that documents each criterion."""


def test_the_guide_links_the_reference_of_every_criterion_it_uses() -> None:
    used = {kind for d in definitions() for kind in criterion_kinds(d.body["criteria"])}
    assert used == set(REFERENCE_SECTION), "a new criterion kind needs its reference section here"
    for kind in used:
        assert f"(segments.md#{REFERENCE_SECTION[kind]})" in TEXT, kind
    for topic in ("time-filters", "values-ranges-and-article-attributes"):
        assert f"(segments.md#{topic})" in TEXT


def test_links_to_other_documents_and_sections_resolve() -> None:
    assert broken_links(GUIDE) == []


def test_the_diagram_draws_the_queryable_tables_and_their_real_keys() -> None:
    """A relation is labelled with the referring column: a foreign key the gold build checks, or
    a column of the same name in both tables; `a = b` joins column a to the target's column b."""
    (diagram,) = [block for block in BLOCKS if block.language == "mermaid"]
    columns = {spec.name: set(spec.column_names) for spec in QUERYABLE_TABLES}
    relations = re.findall(r'^\s*(\w+) [|}o{]{2}--[|}o{]{2} (\w+) : "([^"]+)"$', diagram.code, re.M)
    assert len(relations) == len(diagram.code.strip().splitlines()) - 1, "one relation a line"
    assert {table for relation in relations for table in relation[:2]} == set(columns)
    for target, source, label in relations:
        column, _, target_column = (part.strip() for part in label.partition("="))
        assert column in columns[source], (source, label)
        if target_column:
            assert target_column in columns[target], (target, label)
        elif source in REFERENCES:
            assert any(
                (reference.column, reference.target.name) == (column, target)
                for reference in REFERENCES[source]
            ), f"{source}.{column} is not a key of {target}"
        else:
            assert column in columns[target], (target, label)


def test_every_command_the_guide_names_exists() -> None:
    commands = set(re.findall(r"engage-orders ([a-z]+)(?: ([a-z]+))?", TEXT))
    assert commands
    for command, subcommand in commands:
        assert command in main.commands, command
        group = main.commands[command]
        if isinstance(group, click.Group):
            assert subcommand in group.commands, f"{command} {subcommand}"


@pytest.mark.parametrize("table", [spec.name for spec in QUERYABLE_TABLES])
def test_every_queryable_table_is_in_the_guide(table: str) -> None:
    assert f"`{table}`" in TEXT
