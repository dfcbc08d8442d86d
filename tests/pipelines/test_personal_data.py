"""Personal data stays in the rows that hold it: never in Delta statistics, logs or run metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import httpx
import pyarrow.parquet as pq
import pytest

from pipelines.definitions import build_definitions
from schemas.gold_tables import ANALYST_TABLES
from schemas.tables import ALL_TABLES
from storage.settings import EngageSettings
from tests.support.orders import JSON, order_body, post_order, succeeded_tag

PERSONAL_VALUES = ["lena.berg@example.org", "Sveavägen", "Berg", "11157"]


def mentions(text: str, value: str) -> bool:
    """`value` in `text` as a value of its own: a postcode inside a longer number (a commit's
    millisecond timestamp, 1795847111573) is not one."""
    return re.search(rf"(?<![0-9]){re.escape(value)}(?![0-9])", text) is not None


def test_processing_keeps_personal_data_out_of_statistics_logs_and_metadata(
    api: httpx.Client, settings: EngageSettings, caplog: pytest.LogCaptureFixture
) -> None:
    contact = {"email": "lena.berg@example.org", "lastName": "Berg", "zipCode": "11157"}
    created = api.post("/contacts", content=json.dumps(contact), headers=JSON)
    assert created.status_code == 201, created.text
    job_id = post_order(api, order_body("PII-1"))
    instance = dg.DagsterInstance.ephemeral()
    definitions = build_definitions(settings)
    results = [
        definitions.resolve_job_def(name).execute_in_process(instance=instance)
        for name in ("process_orders", "build_gold")
    ]
    assert all(result.success for result in results)
    succeeded_tag(api, job_id)

    lake = Path(settings.resolved_lake_uri)
    log_files = list(lake.glob("*/*/_delta_log/*.json"))
    written = {log_file.parent.parent.name for log_file in log_files}
    assert {"order_changes", "order_versions", "orders", "order_lines"} <= written
    assert {spec.name for spec in ANALYST_TABLES} - {"segment_memberships"} <= written
    # Statistics are there for other columns (the order id), just not for personal ones.
    assert any("PII-1" in log_file.read_text() for log_file in log_files)
    for log_file in log_files:
        text = log_file.read_text()
        for value in PERSONAL_VALUES:
            assert not mentions(text, value), f"{value!r} in {log_file.relative_to(lake)}"

    for spec in ALL_TABLES:
        for data_file in (lake / spec.path).glob("*.parquet"):
            metadata = pq.ParquetFile(data_file).metadata
            for group in range(metadata.num_row_groups):
                for index in range(metadata.num_columns):
                    column = metadata.row_group(group).column(index)
                    if column.path_in_schema in spec.personal_columns:
                        stats = column.statistics
                        assert stats is None or not stats.has_min_max, (
                            spec.name,
                            column.path_in_schema,
                        )

    # Gold tables hold no personal data at all, not even in their rows.
    for spec in ANALYST_TABLES:
        for data_file in (lake / spec.path).glob("*.parquet"):
            rows = str(pq.read_table(data_file).to_pylist())
            for value in PERSONAL_VALUES:
                assert not mentions(rows, value), (spec.name, value)

    events = "\n".join(
        str(record.dagster_event)
        for result in results
        for record in instance.all_logs(result.run_id)
    )
    events += "\n".join(record.getMessage() for record in caplog.records)
    for value in PERSONAL_VALUES:
        assert not mentions(events, value)
