"""From landed bronze rows to parsed changes, checked against the business rules with pandera."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandera.errors
import polars as pl
from pydantic import ValidationError

from assets.frame_checks import FrameResult
from assets.orders.changes import LandedChange, Payload, change_seq
from schemas.frames import (
    ORDER_CHANGE_POLARS_SCHEMA,
    ORDER_LINE_POLARS_SCHEMA,
    OrderChangeFrame,
    OrderLineFrame,
    order_change_schema,
)
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.problems import FieldError, field_errors_from_validation

PAYLOAD_MODELS: dict[str, type[Payload]] = {
    "create": Order,
    "replace": Order,
    "change_status": ChangeStatus,
    "change_delivery": ChangeDelivery,
}

_LINE_PATHS = {
    "line_type": "type",
    "return_type": "returnDetails/type",
    "sku": "article/sku",
    "quantity": "quantity",
    "total_price": "totalPrice",
}
_CHECK_PATHS = {
    "SubTotalMismatch": "/lineItems/subTotal",
    "UnknownStatus": "/status",
}
_CHECK_MESSAGES = {
    "SubTotalMismatch": "subTotal differs from the sum of the lines' totalPrice.",
    "UnknownStatus": "Unknown order status.",
    "ReturnDetailsMissing": "A Return line must have returnDetails.",
}


@dataclass
class ValidatedBatch:
    changes: list[LandedChange]
    rejected: dict[str, list[FieldError]] = field(default_factory=dict)
    frames: dict[str, FrameResult] = field(default_factory=dict)
    """What each pandera model found, by model name (assets.frame_checks)."""

    @property
    def error_counts(self) -> dict[str, int]:
        """How many changes failed, by error code (safe for Dagster metadata: no payload data)."""
        return dict(Counter(error.code for errors in self.rejected.values() for error in errors))


def parse_changes(rows: pl.DataFrame) -> ValidatedBatch:
    """Parse each landed body with the same strict models as the intake."""
    batch = ValidatedBatch(changes=[])
    for row in rows.sort("_commit_version", "batch_position").iter_rows(named=True):
        payload, errors = _parse(row)
        if errors:
            batch.rejected[row["job_id"]] = errors
        batch.changes.append(
            LandedChange(
                job_id=row["job_id"],
                order_id=row["order_id"],
                change_type=row["change_type"],
                change_seq=change_seq(row["_commit_version"], row["batch_position"]),
                landed_at=row["landed_at"],
                if_match=row["if_match"],
                payload=payload,
            )
        )
    return batch


def _parse(row: dict[str, Any]) -> tuple[Payload | None, list[FieldError]]:
    model = PAYLOAD_MODELS.get(row["change_type"])
    if model is None:
        return None, []
    if row["body"] is None:
        return None, [FieldError(path="", code="Required", message="The change has no body.")]
    try:
        return model.model_validate_json(row["body"]), []
    except ValidationError as error:
        return None, field_errors_from_validation(error)


def check_rules(batch: ValidatedBatch, statuses: Collection[str]) -> None:
    """Validate the parsed changes with the pandera models; add violations to `batch.rejected`."""
    parsed = [change for change in batch.changes if change.job_id not in batch.rejected]
    change_frame = pl.DataFrame(list(_change_rows(parsed)), schema=ORDER_CHANGE_POLARS_SCHEMA)
    line_frame = pl.DataFrame(list(_line_rows(parsed)), schema=ORDER_LINE_POLARS_SCHEMA)
    violations: dict[str, list[FieldError]] = defaultdict(list)
    batch.frames[OrderChangeFrame.__name__] = _collect(
        order_change_schema(statuses), change_frame, violations
    )
    batch.frames[OrderLineFrame.__name__] = _collect(
        OrderLineFrame.to_schema(), line_frame, violations
    )
    for job_id, errors in violations.items():
        batch.rejected.setdefault(job_id, []).extend(errors)


def _change_rows(changes: Iterable[LandedChange]) -> Iterable[dict[str, Any]]:
    for change in changes:
        payload = change.payload
        lines = payload.line_items if isinstance(payload, Order) else None
        yield {
            "job_id": change.job_id,
            "order_id": change.order_id,
            "change_type": change.change_type,
            "status": getattr(payload, "status", None),
            "sub_total": _float(lines.sub_total) if lines else None,
            "line_total": float(sum(line.total_price for line in lines.items)) if lines else None,
        }


def _line_rows(changes: Iterable[LandedChange]) -> Iterable[dict[str, Any]]:
    for change in changes:
        if not isinstance(change.payload, Order):
            continue
        for index, line in enumerate(change.payload.line_items.items):
            yield {
                "job_id": change.job_id,
                "line_index": index,
                "line_type": line.type.value,
                "return_type": line.return_details.type.value if line.return_details else None,
                "sku": line.article.sku,
                "quantity": line.quantity,
                "total_price": float(line.total_price),
            }


def _collect(
    schema: pandera.api.polars.container.DataFrameSchema,
    frame: pl.DataFrame,
    violations: dict[str, list[FieldError]],
) -> FrameResult:
    """Add each failing row's errors to `violations`; how many rows were checked and failed."""
    failing: set[int] = set()
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as error:
        for case in error.failure_cases.filter(pl.col("index").is_not_null()).iter_rows(named=True):
            row = frame.row(case["index"], named=True)
            violations[row["job_id"]].append(_field_error(case, row))
            failing.add(case["index"])
    return FrameResult(frame.height, len(failing))


def _field_error(case: dict[str, Any], row: dict[str, Any]) -> FieldError:
    check = str(case["check"])
    code = check if check in _CHECK_MESSAGES else "InvalidValue"
    if "line_index" in row:
        base = f"/lineItems/items/{row['line_index']}"
        leaf = (
            "returnDetails"
            if code == "ReturnDetailsMissing"
            else _LINE_PATHS.get(case["column"], "")
        )
        path = f"{base}/{leaf}".rstrip("/")
    else:
        path = _CHECK_PATHS.get(code, "")
    message = _CHECK_MESSAGES.get(code, f"Failed check {check}.")
    return FieldError(path=path, code=code, message=message)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
