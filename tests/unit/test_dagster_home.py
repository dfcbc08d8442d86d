"""The dagster.yaml a new DAGSTER_HOME gets, and the Dagster database URL it may refer to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from pipelines.dagster_home import ensure_dagster_home
from storage.settings import EngageSettings


def written_config(settings: EngageSettings, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(settings)
    return yaml.safe_load((home / "dagster.yaml").read_text())


def test_embedded_instance_keeps_its_storage_in_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = written_config(EngageSettings(home=tmp_path), monkeypatch)

    assert "storage" not in config
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] == 30


def test_with_a_dagster_database_the_storage_is_postgresql_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = EngageSettings(
        home=tmp_path, dagster_database_url="postgresql+psycopg2://dagster:secret@db/dagster"
    )
    config = written_config(settings, monkeypatch)

    assert config["storage"] == {
        "postgres": {"postgres_url": {"env": "ENGAGE_DAGSTER_DATABASE_URL"}}
    }
    assert "secret" not in (tmp_path / "dagster" / "dagster.yaml").read_text()
    assert (
        config["concurrency"]
        == written_config(EngageSettings(home=tmp_path / "e"), monkeypatch)["concurrency"]
    )


def test_a_dagster_database_url_without_the_psycopg2_driver_is_refused() -> None:
    with pytest.raises(ValidationError, match="postgresql\\+psycopg2://"):
        EngageSettings(dagster_database_url="postgresql://dagster@db/dagster")
