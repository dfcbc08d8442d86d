"""docs/data-ops-guide.md against the Dagster definitions it documents.

Every asset, asset check, job, sensor and schedule of the code location must be in the guide,
where data ops look for it (an asset in its group's table with the jobs that materialise it, a
check beside its asset, a sensor or schedule beside the job it starts), so a new one without
documentation fails here. The other way round, every plain name the guide puts in backticks must
exist: a definition, or one of the other kinds of name listed below, each checked against the
code where it comes from.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

import dagster as dg
import pytest
import yaml

from ingest_api.metrics import IntakeMetrics
from pipelines.definitions import build_definitions
from pipelines.sensors import BRONZE_SOURCES
from schemas.tables import ALL_TABLES
from storage.settings import EngageSettings
from tests.docs.markdown import DOCS, FENCE, REPOSITORY, broken_links, prose, section

GUIDE = DOCS / "data-ops-guide.md"
TEXT = GUIDE.read_text(encoding="utf-8")

_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> dg.RepositoryDefinition:
    home = tmp_path_factory.mktemp("data-ops-guide") / "engage"
    return build_definitions(EngageSettings(home=home)).get_repository_def()


def asset_jobs(repository: dg.RepositoryDefinition) -> list[dg.JobDefinition]:
    return [
        job
        for job in repository.get_all_jobs()
        if not job.name.startswith("__") and job.asset_layer.executable_asset_keys
    ]


def jobs(repository: dg.RepositoryDefinition) -> list[dg.JobDefinition]:
    return [job for job in repository.get_all_jobs() if not job.name.startswith("__")]


def definition_names(repository: dg.RepositoryDefinition) -> set[str]:
    names = set()
    for node in repository.asset_graph.asset_nodes:
        names.add(node.key.to_user_string())
        names |= {check.name for check in node.check_keys}
    names |= {job.name for job in jobs(repository)}
    names |= {sensor.name for sensor in repository.sensor_defs}
    names |= {schedule.name for schedule in repository.schedule_defs}
    return names


# --- reading the guide --------------------------------------------------------------------------


def table_rows(markdown: str) -> dict[str, list[str]]:
    """Table rows by their first cell's name in backticks: the row's cells."""
    rows = {}
    for line in prose(markdown).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and (first := re.fullmatch(r"`([^`]+)`", cells[0])):
            rows[first.group(1)] = cells
    return rows


def units(markdown: str) -> Iterator[str]:
    """Each table row and each other paragraph: what a reader reads as one statement."""
    for paragraph in re.split(r"\n\s*\n", prose(markdown)):
        if paragraph.lstrip().startswith("|"):
            yield from paragraph.splitlines()
        else:
            yield paragraph


def named(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


# --- every definition is documented where data ops look for it ----------------------------------


def test_every_asset_is_in_its_groups_table_with_the_jobs_that_materialise_it(
    repository: dg.RepositoryDefinition,
) -> None:
    materialised_by: dict[str, set[str]] = {}
    for job in asset_jobs(repository):
        for key in job.asset_layer.executable_asset_keys:
            materialised_by.setdefault(key.to_user_string(), set()).add(job.name)
    job_names = {job.name for job in jobs(repository)}
    assets = section(TEXT, "## Assets")
    for node in repository.asset_graph.asset_nodes:
        name = node.key.to_user_string()
        rows = table_rows(section(assets, f"### `{node.group_name}`"))
        assert name in rows, f"{name} is not in the table of its group {node.group_name}"
        if node.is_executable:
            documented = named(rows[name][-1]) & job_names
            assert documented == materialised_by.get(name, set()), name


def test_every_asset_check_is_named_beside_its_asset(repository: dg.RepositoryDefinition) -> None:
    checks = section(TEXT, "## Asset checks")
    for node in repository.asset_graph.asset_nodes:
        asset = node.key.to_user_string()
        for check in node.check_keys:
            assert any({check.name, asset} <= named(unit) for unit in units(checks)), (
                f"{check.name} of {asset}"
            )


def test_every_job_has_a_row_naming_what_starts_it(repository: dg.RepositoryDefinition) -> None:
    rows = table_rows(section(TEXT, "## Jobs"))
    starters: dict[str, set[str]] = {}
    for sensor in repository.sensor_defs:
        if sensor.targets:
            starters.setdefault(sensor.job_name, set()).add(sensor.name)
    for schedule in repository.schedule_defs:
        starters.setdefault(schedule.job_name, set()).add(schedule.name)
    for job in jobs(repository):
        assert job.name in rows, job.name
        assert starters.get(job.name, set()) <= named("|".join(rows[job.name])), job.name


def test_every_sensor_and_schedule_has_a_row_with_its_job_and_interval(
    repository: dg.RepositoryDefinition,
) -> None:
    rows = table_rows(section(TEXT, "## Sensors and schedules"))
    for sensor in repository.sensor_defs:
        assert sensor.name in rows, sensor.name
        row = rows[sensor.name]
        assert row[1] == f"{sensor.minimum_interval_seconds} s", sensor.name
        if sensor.targets:
            assert f"`{sensor.job_name}`" in row[2], sensor.name
    for schedule in repository.schedule_defs:
        assert schedule.name in rows, schedule.name
        minute, hour, *_ = schedule.cron_schedule.split()
        when = f":{int(minute):02}" if hour == "*" else f"{int(hour):02}:{int(minute):02}"
        assert when in rows[schedule.name][1], schedule.name
        assert schedule.execution_timezone == "UTC"
        assert f"`{schedule.job_name}`" in rows[schedule.name][2], schedule.name


# --- every name in backticks exists -------------------------------------------------------------

METADATA_KEYS = {
    "bronze_files_compacted",
    "bronze_files_vacuumed",
    "bronze_log_entries_removed",
    "failed",
    "failing_rows",
    "per_table",
    "rejected_changes",
    "rows_checked",
    "sent",
    "skipped_segments",
    "submissions_with_warnings",
    "waiting_for",
}
"""Run and check metadata the guide tells readers to look at; each is a string in assets/."""

OTHER_WORDS = {
    "checks": "the member of /readyz's answer naming the failing dependency",
    "database": "a /readyz check",
    "lake": "a /readyz check",
    "current": "the members page's flag",
    "intake": "a child of `engage-orders run`, prefixing its output",
    "webserver": "a child of `engage-orders run`",
    "daemon": "a child of `engage-orders run`",
    "sensor": "a value of the engage/trigger tag",
    "process": "a value of the engage/trigger tag",
    "none": "the batch tag of a run that read nothing",
    "txn": "Delta's transaction identifier action",
}
"""Plain names in backticks that are none of the kinds the test can look up."""


def other_names(repository: dg.RepositoryDefinition) -> dict[str, set[str]]:
    """Plain names the guide may use besides definitions, by kind, from the code."""
    registry = IntakeMetrics().registry
    return {
        "group": {node.group_name for node in repository.asset_graph.asset_nodes},
        "pipeline tag value": {job.tags["engage/pipeline"] for job in jobs(repository)},
        "step": {
            node.assets_def.node_def.name
            for node in repository.asset_graph.asset_nodes
            if node.is_executable
        },
        # Counters are exposed with the suffix _total.
        "metric": {
            f"{family.name}{suffix}" for family in registry.collect() for suffix in ("", "_total")
        },
        "column": {column for spec in ALL_TABLES for column in spec.column_names},
        "metadata key": METADATA_KEYS,
        "other": set(OTHER_WORDS),
    }


def test_every_plain_name_in_backticks_exists(repository: dg.RepositoryDefinition) -> None:
    known = definition_names(repository).union(*other_names(repository).values())
    used = {name for name in re.findall(r"`([^`\n]+)`", prose(TEXT)) if _PLAIN_NAME.fullmatch(name)}
    unknown = used - known
    assert not unknown, f"not an asset, check, job, sensor or schedule: {sorted(unknown)}"


def test_the_other_names_are_real_and_used() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in REPOSITORY.glob("assets/**/*.py")
    )
    for key in METADATA_KEYS:
        assert f'"{key}"' in source, f"no metadata key {key} in assets/"
    for word in [*METADATA_KEYS, *OTHER_WORDS]:
        assert f"`{word}`" in TEXT, f"{word} is no longer in the guide: drop it from the test"


def test_the_metrics_the_intake_exposes_are_described() -> None:
    for family in IntakeMetrics().registry.collect():
        assert f"`{family.name}" in TEXT, family.name


# --- run tags, maintenance config, screenshot, links --------------------------------------------


def test_every_batch_tag_and_pipeline_tag_value_is_listed(
    repository: dg.RepositoryDefinition,
) -> None:
    tags = section(TEXT, "## Run tags")
    for sources in BRONZE_SOURCES.values():
        for spec, _ in sources:
            for suffix in ("batch", "rows", "jobs"):
                assert f"`engage/{spec.name}_{suffix}`" in tags
    for job in jobs(repository):
        assert f"`{job.tags['engage/pipeline']}`" in tags, job.name


def test_the_maintenance_launchpad_config_is_valid(repository: dg.RepositoryDefinition) -> None:
    (block,) = [
        match.group("code")
        for match in FENCE.finditer(section(TEXT, "## Lake maintenance"))
        if match.group("info").strip() == "yaml"
    ]
    config = yaml.safe_load(textwrap.dedent(block))
    assert dg.validate_run_config(repository.get_job("maintain_lake"), config)
    tables = config["ops"]["maintain_lake_tables"]["config"]["tables"]
    assert set(tables) <= {spec.name for spec in ALL_TABLES}


def test_the_asset_graph_screenshot_is_shown() -> None:
    assert re.search(r"!\[[^\]]+\]\(img/dagster-asset-graph\.png\)", TEXT)


def test_links_to_documents_and_sections_resolve() -> None:
    assert broken_links(GUIDE) == []
