"""Order state in the lake: loading it before a batch, and turning a batch's results into rows.

Invariant that makes re-runs safe: `order_versions` is written first, then `orders`/`order_lines`,
then the operational database (with the watermark). If a batch beyond the watermark left versions
behind (a crashed run), the state before the batch is rebuilt from the versions history; otherwise
the `orders` table is exactly that state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from assets.incremental import written_through
from assets.orders.changes import OrderState, OrderVersion, Outcome, first_seq_after
from assets.orders.documents import line_frame, state_columns
from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_LINES, ORDER_VERSIONS, ORDERS, TableSpec
from storage.lake import Lake

APP_ID = "engage-orders/order-processing"
"""Delta `txn` application id: tables record through which bronze version they hold results."""

_STATE_COLUMNS = [
    "order_id",
    "version_tag",
    "version_number",
    "change_seq",
    "document",
    "contact_id",
]


def load_base_states(lake: Lake, order_ids: Sequence[str], watermark: int) -> dict[str, OrderState]:
    """The state of `order_ids` as of the watermark (fully processed bronze version)."""
    if not order_ids:
        return {}
    ids = pl.Series(list(order_ids), dtype=pl.String)
    if _has_versions_after(lake, watermark):
        frame = (
            lake.scan(ORDER_VERSIONS)
            .filter(
                pl.col("order_id").is_in(ids), pl.col("change_seq") < first_seq_after(watermark)
            )
            .sort("change_seq")
            .group_by("order_id")
            .last()
            .select(*_STATE_COLUMNS, "is_deleted")
            .collect()
        )
    else:
        frame = (
            lake.scan(ORDERS)
            .filter(pl.col("order_id").is_in(ids))
            .select(*_STATE_COLUMNS, pl.lit(False).alias("is_deleted"))
            .collect()
        )
    return {row["order_id"]: _state(row) for row in frame.iter_rows(named=True)}


def _has_versions_after(lake: Lake, watermark: int) -> bool:
    newer = lake.scan(ORDER_VERSIONS).filter(pl.col("change_seq") >= first_seq_after(watermark))
    return newer.select(pl.len()).collect().item() > 0


def _state(row: dict[str, Any]) -> OrderState:
    return OrderState(
        order_id=row["order_id"],
        version_tag=row["version_tag"],
        version_number=row["version_number"],
        change_seq=row["change_seq"],
        document=orjson.loads(row["document"]),
        contact_id=row["contact_id"],
        is_deleted=row["is_deleted"],
    )


def already_written_through(lake: Lake, spec: TableSpec, watermark: int) -> int:
    """Bronze version through which `spec` already holds this pipeline's rows (at least the
    watermark): rows of later changes are still to be written."""
    return written_through(lake, spec, watermark, APP_ID)


def version_table(versions: Iterable[OrderVersion], processed_at: datetime) -> pa.Table:
    rows = [
        {
            "order_id": version.state.order_id,
            "version_tag": version.state.version_tag,
            "version_number": version.state.version_number,
            "change_seq": version.state.change_seq,
            "job_id": version.job_id,
            "change_type": version.change_type,
            "contact_id": version.state.contact_id,
            **state_columns(version.state.document),
            "landed_at": version.landed_at,
            "processed_at": processed_at,
            "document": orjson.dumps(version.state.document).decode(),
            "is_deleted": version.state.is_deleted,
        }
        for version in versions
    ]
    return pa.Table.from_pylist(rows, schema=ORDER_VERSIONS.arrow_schema)


def outcome_table(
    outcomes: Iterable[Outcome], api_keys: dict[str, str], processed_at: datetime
) -> pa.Table:
    rows = [
        {
            "job_id": outcome.change.job_id,
            "order_id": outcome.change.order_id,
            "api_key_id": api_keys[outcome.change.job_id],
            "change_type": outcome.change.change_type,
            "change_seq": outcome.change.change_seq,
            "landed_at": outcome.change.landed_at,
            "processed_at": processed_at,
            "status": "Succeeded" if outcome.succeeded else "Failed",
            "version_tag": outcome.version_tag,
            "contact_id": outcome.contact_id,
            "errors": _json([error.model_dump() for error in outcome.errors]),
            "warnings": _json([warning.__dict__ for warning in outcome.warnings]),
            "action": orjson.dumps(outcome.action).decode() if outcome.action else None,
        }
        for outcome in outcomes
    ]
    return pa.Table.from_pylist(rows, schema=ORDER_CHANGE_OUTCOMES.arrow_schema)


def _json(items: list[dict[str, Any]]) -> str | None:
    return orjson.dumps(items).decode() if items else None


def latest_versions_in_range(lake: Lake, after_version: int, through_version: int) -> pl.DataFrame:
    """The newest version of each order changed by bronze commits in (after, through]."""
    return (
        lake.scan(ORDER_VERSIONS)
        .filter(
            pl.col("change_seq") >= first_seq_after(after_version),
            pl.col("change_seq") < first_seq_after(through_version),
        )
        .sort("change_seq")
        .group_by("order_id")
        .last()
        .collect()
    )


def version_documents(
    lake: Lake, version_tags: list[str], after_version: int, through_version: int
) -> dict[str, str]:
    """The Orders v3 JSON of the given versions made by bronze commits in (after, through]."""
    if not version_tags:
        return {}
    versions = (
        lake.scan(ORDER_VERSIONS)
        .filter(
            pl.col("change_seq") >= first_seq_after(after_version),
            pl.col("change_seq") < first_seq_after(through_version),
            pl.col("version_tag").is_in(version_tags),
        )
        .select("version_tag", "document")
        .collect()
    )
    return dict(versions.iter_rows())


def outcomes_in_range(lake: Lake, after_version: int, through_version: int) -> pl.DataFrame:
    return (
        lake.scan(ORDER_CHANGE_OUTCOMES)
        .filter(
            pl.col("change_seq") >= first_seq_after(after_version),
            pl.col("change_seq") < first_seq_after(through_version),
        )
        .collect()
    )


def line_table(latest: pl.DataFrame) -> pa.Table:
    """Rows of `order_lines` for the live orders among `latest` versions."""
    versions = latest.filter(~pl.col("is_deleted")).select(
        "order_id", "version_tag", "change_seq", "contact_id", "document"
    )
    lines = line_frame(versions).select(ORDER_LINES.column_names)
    return lines.to_arrow().cast(ORDER_LINES.arrow_schema)
