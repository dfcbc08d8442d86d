"""One asset check per pandera model, so data ops see which model's rules a batch broke.

The processing assets validate their batch with the models of schemas/frames.py and report, per
model, how many rows it checked and how many failed. The summary checks of each domain (rejected
changes, receipt warnings) stay: these say where the failures come from. Counts only, never a
row's values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg
import pandera.polars as pa


@dataclass(frozen=True)
class FrameResult:
    """What one pandera model found in a batch."""

    rows: int
    failing_rows: int


def frame_check_name(model: type[pa.DataFrameModel]) -> str:
    """`passes_order_change_frame` for OrderChangeFrame."""
    return "passes_" + re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def frame_check_specs(
    asset: str, models: Sequence[type[pa.DataFrameModel]]
) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            frame_check_name(model),
            asset=asset,
            description=f"Each row passes the pandera model {model.__name__} "
            f"(schemas/frames.py). {_summary(model)}",
        )
        for model in models
    ]


def _summary(model: type[pa.DataFrameModel]) -> str:
    """The first line of the model's docstring: what one row of it is."""
    return next(iter((model.__doc__ or "").strip().splitlines()), "")


def frame_check_results(
    asset: str,
    models: Sequence[type[pa.DataFrameModel]],
    results: Mapping[str, FrameResult],
) -> Iterator[dg.AssetCheckResult]:
    """A result per model; a model that checked nothing (an empty batch) passes."""
    for model in models:
        result = results.get(model.__name__, FrameResult(0, 0))
        yield dg.AssetCheckResult(
            check_name=frame_check_name(model),
            asset_key=asset,
            passed=result.failing_rows == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows_checked": result.rows, "failing_rows": result.failing_rows},
        )
