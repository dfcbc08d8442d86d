"""Register merging without Dagster: newest registration per key, and the pandera re-check."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from assets.registers.merge import INDEX, Batch, check_frame, newest_per_key
from assets.registers.stores import STORE_REGISTER
from schemas.tables import STORES

NOW = datetime(2025, 12, 3, 14, 15, tzinfo=UTC)


def store_rows(*rows: dict[str, object]) -> pl.DataFrame:
    full = [{"currency": "SEK", "job_id": "j", "registered_at": NOW, **row} for row in rows]
    frame = pl.DataFrame(pa.Table.from_pylist(full, schema=STORES.arrow_schema))
    return frame.with_columns(pl.Series(INDEX, range(len(rows)), dtype=pl.Int64))


def test_the_registration_that_landed_last_is_kept_per_key() -> None:
    rows = store_rows(
        {"external_id": "S-1", "name": "newest", "change_seq": 9},
        {"external_id": "S-2", "name": "only", "change_seq": 3},
        {"external_id": "S-1", "name": "oldest", "change_seq": 1},
        {"external_id": "S-1", "name": "middle", "change_seq": 5},
    )
    newest = newest_per_key(rows, "external_id").sort("external_id")
    assert newest.select("external_id", "name").rows() == [("S-1", "newest"), ("S-2", "only")]


def test_a_row_failing_the_pandera_model_rejects_its_job_at_its_body_index() -> None:
    rows = store_rows(
        {"external_id": "S-1", "country_code": "SE", "change_seq": 1, "job_id": "good"},
        {"external_id": "S-2", "country_code": "SE", "change_seq": 2, "job_id": "bad"},
        {"external_id": "S-3", "country_code": "sverige", "change_seq": 3, "job_id": "bad"},
    )
    batch = Batch(after=0, through=1, read=3, rows=rows, jobs={}, rejected={})
    check_frame(STORE_REGISTER, batch)
    assert list(batch.rejected) == ["bad"]
    [error] = batch.rejected["bad"]
    assert (error.path, error.code) == ("/2/countryCode", "InvalidValue")
    assert batch.accepted["job_id"].to_list() == ["good"]
