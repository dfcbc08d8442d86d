"""Snapshot of the asset graph: what data ops see in the UI changes only on purpose.

Regenerate after an intended change with `UPDATE_SNAPSHOTS=1 pytest tests/pipelines`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.definitions import build_definitions
from storage.settings import EngageSettings

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def graph(definitions: dg.Definitions) -> dict[str, Any]:
    repository = definitions.get_repository_def()
    assets = {}
    for node in sorted(repository.asset_graph.asset_nodes, key=lambda node: node.key):
        assets[node.key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "pool": node.pools and sorted(node.pools),
            "columns": [
                column.name
                for column in node.metadata.get("dagster/column_schema", dg.TableSchema([])).columns
            ],
            "checks": sorted(check.name for check in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(
            job.name for job in repository.get_all_jobs() if not job.name.startswith("__")
        ),
        "sensors": {
            sensor.name: {
                "job": sensor.job_name if sensor.targets else None,
                "default_status": sensor.default_status.value,
            }
            for sensor in repository.sensor_defs
        },
        "schedules": {
            schedule.name: {
                "job": schedule.job_name,
                "cron": schedule.cron_schedule,
                "default_status": schedule.default_status.value,
            }
            for schedule in repository.schedule_defs
        },
    }


def test_asset_graph_matches_snapshot(tmp_path: Path) -> None:
    current = graph(build_definitions(EngageSettings(home=tmp_path)))
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_asset_is_described_and_grouped_by_layer(tmp_path: Path) -> None:
    repository = build_definitions(EngageSettings(home=tmp_path)).get_repository_def()
    for node in repository.asset_graph.asset_nodes:
        key = node.key.to_user_string()
        assert node.description, f"{key} has no description"
        assert node.group_name in {"bronze", "silver", "gold", "segments"}, key
        assert node.owners, f"{key} has no owner"


def test_every_sensor_and_schedule_runs_by_default_and_says_what_it_starts(tmp_path: Path) -> None:
    repository = build_definitions(EngageSettings(home=tmp_path)).get_repository_def()
    for sensor in repository.sensor_defs:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
        assert sensor.description, f"{sensor.name} has no description"
        assert not sensor.description.lstrip().startswith("This sensor"), sensor.name  # Dagster's
    for schedule in repository.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name
        assert schedule.description, f"{schedule.name} has no description"
