"""Merging landed registrations into a register (articles by SKU, stores by externalId).

One run takes every bronze commit after the register's watermark, parses each registration again
with the intake's pydantic model, re-checks the rows with the register's pandera model, keeps the
newest registration per key and MERGEs it into silver, guarded by `change_seq` so that an older
registration never overwrites a newer one. Then, in one database transaction, it settles the jobs
and moves the watermark. Every step is idempotent: a run that died half-way is simply run again.

A registration is newer when it landed later: commit version first, then position in the commit
(`change_seq`, as for orders). Registrations carry no timestamp of their own to order them by.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandera.errors
import pandera.polars
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ValidationError

from assets.orders.changes import change_seq
from assets.resources import OperationalDatabase
from assets.run_tags import tag_run_with_batch
from schemas.problems import FieldError, field_errors_from_validation
from schemas.table_spec import TableSpec
from storage.jobs import JobOutcome, JobStatus, NewJob, record_outcomes
from storage.lake import Lake
from storage.watermarks import get_watermark, set_watermark

CHANGE_TYPE = "register"
INDEX = "_index"
"""Extra batch column: a registration's index in the body that sent it, to locate its errors."""


@dataclass(frozen=True)
class Register:
    """How one register is landed and merged."""

    bronze: TableSpec
    silver: TableSpec
    key: str
    """The key column, in bronze and silver alike."""
    payload: str
    """The bronze column holding the registration as canonical JSON."""
    model: type[BaseModel]
    frame: type[pandera.polars.DataFrameModel]
    resource: str
    """The jobs' resource (`articles`, `stores`)."""
    check_name: str

    @property
    def watermark(self) -> str:
        """Name of the watermark: the bronze version whose registrations are merged and settled."""
        return self.bronze.name


@dataclass
class Batch:
    """The registrations landed in bronze versions (after, through]."""

    after: int
    through: int
    read: int
    """Bronze rows read."""
    rows: pl.DataFrame
    """Silver-shaped rows of every registration that parsed, in landing order, plus INDEX."""
    jobs: dict[str, NewJob]
    rejected: dict[str, list[FieldError]]
    """Errors by job id: a job with any bad registration is not merged at all."""

    @property
    def accepted(self) -> pl.DataFrame:
        return self.rows.filter(~pl.col("job_id").is_in(list(self.rejected)))


def merge_register(
    context: dg.AssetExecutionContext,
    register: Register,
    lake: Lake,
    database: OperationalDatabase,
) -> tuple[dg.MaterializeResult, dg.AssetCheckResult]:
    """Process everything landed since the watermark; the asset's result and its check."""
    with database.session() as session:
        after = get_watermark(session, register.watermark)
    through = lake.version(register.bronze)
    batch = read_batch(register, lake, after, through)
    tag_run_with_batch(context, register.bronze, after, through, batch.read, len(batch.jobs))
    check_frame(register, batch)
    newest = newest_per_key(batch.accepted, register.key)
    metrics = upsert(register, lake, newest)
    with database.session() as session:
        record_outcomes(session, _outcomes(batch), list(batch.jobs.values()))
        set_watermark(session, register.watermark, through)
    return _result(register, lake, batch, newest, metrics), _check(register, batch)


def read_batch(register: Register, lake: Lake, after: int, through: int) -> Batch:
    """Parse the registrations landed in bronze versions (after, through]."""
    landed = lake.read_changes(register.bronze, after, through).sort(
        "_commit_version", "batch_position"
    )
    first_positions = _first_position_per_job(landed)
    rows: list[dict[str, Any]] = []
    indexes: list[int] = []
    jobs: dict[str, NewJob] = {}
    rejected: dict[str, list[FieldError]] = defaultdict(list)
    for row in landed.iter_rows(named=True):
        job_id = row["job_id"]
        jobs.setdefault(job_id, _job(register, row))
        index = row["batch_position"] - first_positions[job_id]
        try:
            parsed = register.model.model_validate_json(row[register.payload])
        except ValidationError as error:
            rejected[job_id].extend(_located(index, field_errors_from_validation(error)))
            continue
        rows.append(_silver_row(parsed, row))
        indexes.append(index)
    frame = pl.DataFrame(pa.Table.from_pylist(rows, schema=register.silver.arrow_schema))
    frame = frame.with_columns(pl.Series(INDEX, indexes, dtype=pl.Int64))
    return Batch(after, through, landed.height, frame, jobs, dict(rejected))


def check_frame(register: Register, batch: Batch) -> None:
    """Re-check the rows with the register's pandera model; violations reject their jobs."""
    try:
        register.frame.validate(batch.rows, lazy=True)
    except pandera.errors.SchemaErrors as error:
        cases = error.failure_cases
        if cases.filter(pl.col("index").is_null()).height:
            # Not about one row (a missing column, a wrong dtype): a bug, not bad input.
            raise
        for case in cases.iter_rows(named=True):
            row = batch.rows.row(case["index"], named=True)
            field = _camel(register, case["column"])
            batch.rejected.setdefault(row["job_id"], []).append(
                FieldError(
                    path=f"/{row[INDEX]}/{field}".rstrip("/"),
                    code="InvalidValue",
                    message=f"Failed check {case['check']}.",
                )
            )


def newest_per_key(rows: pl.DataFrame, key: str) -> pl.DataFrame:
    """The newest registration of each key (MERGE needs one source row per key)."""
    return rows.sort("change_seq").unique(subset=[key], keep="last", maintain_order=True)


def upsert(register: Register, lake: Lake, newest: pl.DataFrame) -> dict[str, int]:
    """MERGE into silver; a registration only replaces an older one (`t.change_seq < s...`)."""
    if newest.is_empty():
        return {}
    return lake.merge(
        register.silver,
        newest.select(register.silver.column_names).to_arrow(),
        predicate=f"t.{register.key} = s.{register.key}",
        clauses=lambda merge: merge.when_matched_update_all(
            predicate="t.change_seq < s.change_seq"
        ).when_not_matched_insert_all(),
    )


def _first_position_per_job(landed: pl.DataFrame) -> dict[str, int]:
    """A job's rows are contiguous in one commit: its first position maps rows to body indexes."""
    if landed.is_empty():
        return {}
    firsts = landed.group_by("job_id").agg(pl.col("batch_position").min())
    return dict(zip(firsts["job_id"], firsts["batch_position"], strict=True))


def _job(register: Register, row: dict[str, Any]) -> NewJob:
    return NewJob(
        job_id=row["job_id"],
        resource=register.resource,
        order_id=None,
        change_type=CHANGE_TYPE,
        api_key_id=row["api_key_id"],
        created_at=row["landed_at"],
    )


def _silver_row(parsed: BaseModel, row: dict[str, Any]) -> dict[str, Any]:
    """The model's fields are named like the silver columns (`date_spare1`, `zip_code`)."""
    values = parsed.model_dump(by_alias=False)
    return {
        **{name: _utc(value) for name, value in values.items()},
        "change_seq": change_seq(row["_commit_version"], row["batch_position"]),
        "job_id": row["job_id"],
        "registered_at": row["landed_at"],
    }


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _located(index: int, errors: list[FieldError]) -> list[FieldError]:
    """Errors of one registration, located as in the request body (`/3/gtin`)."""
    return [error.model_copy(update={"path": f"/{index}{error.path}"}) for error in errors]


def _camel(register: Register, column: str | None) -> str:
    if column is None or column not in register.model.model_fields:
        return ""
    return register.model.model_fields[column].alias or column


def _outcomes(batch: Batch) -> list[JobOutcome]:
    return [
        JobOutcome(
            job_id=job_id,
            status=JobStatus.FAILED if job_id in batch.rejected else JobStatus.SUCCEEDED,
            version_tag=None,
            errors=[error.model_dump() for error in batch.rejected.get(job_id, [])],
        )
        for job_id in batch.jobs
    ]


def _result(
    register: Register,
    lake: Lake,
    batch: Batch,
    newest: pl.DataFrame,
    metrics: dict[str, int],
) -> dg.MaterializeResult:
    """Counts only: keys and values of the registrations stay out of Dagster's event log."""
    return dg.MaterializeResult(
        metadata={
            "bronze_after_version": batch.after,
            "bronze_through_version": batch.through,
            "rows_read": batch.read,
            "keys_changed": newest.height,
            "rows_inserted": metrics.get("num_target_rows_inserted", 0),
            "rows_updated": metrics.get("num_target_rows_updated", 0),
            "jobs_succeeded": len(batch.jobs) - len(batch.rejected),
            "jobs_failed": len(batch.rejected),
            "dagster/row_count": lake.table(register.silver).count(),
        }
    )


def _check(register: Register, batch: Batch) -> dg.AssetCheckResult:
    codes = Counter(error.code for errors in batch.rejected.values() for error in errors)
    return dg.AssetCheckResult(
        check_name=register.check_name,
        asset_key=register.silver.name,
        passed=not batch.rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "registrations": batch.rows.height,
            "rejected_jobs": len(batch.rejected),
            **{f"errors.{code}": count for code, count in sorted(codes.items())},
        },
        description="Jobs with an invalid registration fail; the rest of the batch is merged.",
    )


def unique_key_check(lake: Lake, register: Register) -> dg.AssetCheckResult:
    """Each key once in the register; counts only, the keys themselves stay out of the log."""
    duplicates = (
        lake.scan(register.silver)
        .group_by(register.key)
        .len()
        .filter(pl.col("len") > 1)
        .collect()
        .height
    )
    return dg.AssetCheckResult(
        passed=duplicates == 0, metadata={f"duplicated_{register.key}s": duplicates}
    )
