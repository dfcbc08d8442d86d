"""pandera (polars) models of landed and processed rows.

The pipeline re-checks every landed order change against the business rules of SPEC 2.1. The
intake checks them too, but bronze can be fed by older intakes or repaired by hand, and processing
must never store an order that breaks them. Check names are the error codes a failed job reports.
"""

from __future__ import annotations

from collections.abc import Collection

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig

SUBTOTAL_TOLERANCE = 0.01
MONEY_DECIMALS = 4

CHANGE_TYPES = ("create", "replace", "delete", "change_status", "change_delivery")


class OrderChangeFrame(pa.DataFrameModel):
    """One row per landed order change, with the order-level facts the rules need."""

    class Config(BaseConfig):
        strict = True
        coerce = False

    job_id: str = pa.Field(unique=True)
    order_id: str = pa.Field(str_length={"min_value": 1, "max_value": 128})
    change_type: str = pa.Field(isin=CHANGE_TYPES)
    status: str = pa.Field(nullable=True)
    sub_total: float = pa.Field(nullable=True)
    line_total: float = pa.Field(nullable=True)

    # No `error=` on the checks: pandera reports a check by its error text when it has one, and
    # the pipeline reads the reported identifier as the error code.
    @pa.dataframe_check(name="SubTotalMismatch")
    def sub_total_matches_lines(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """subTotal differs from the sum of the lines' totalPrice by more than the tolerance."""
        # Money has at most 4 decimals: rounding the float difference to them removes the binary
        # float error (100.31 - 100.3 is 0.010000000000005116), like the intake's Decimal check.
        difference = (pl.col("sub_total") - pl.col("line_total")).abs().round(MONEY_DECIMALS)
        return data.lazyframe.select(
            pl.col("sub_total").is_null() | (difference <= SUBTOTAL_TOLERANCE)
        )


class OrderLineFrame(pa.DataFrameModel):
    """One row per line of a created or replaced order."""

    class Config(BaseConfig):
        strict = True
        coerce = False

    job_id: str
    line_index: int = pa.Field(ge=0)
    line_type: str = pa.Field(isin=["Purchase", "Return"])
    return_type: str = pa.Field(nullable=True, isin=["Normal", "Complaint", "Change"])
    sku: str = pa.Field(str_length={"min_value": 1})
    quantity: int = pa.Field(ge=0)
    total_price: float

    @pa.dataframe_check(name="ReturnDetailsMissing")
    def return_lines_have_details(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("line_type") != "Return") | pl.col("return_type").is_not_null()
        )


def order_change_schema(statuses: Collection[str]) -> pa.DataFrameSchema:
    """OrderChangeFrame with the configured order statuses as the allowed `status` values."""
    return OrderChangeFrame.to_schema().update_column(
        "status",
        checks=[pa.Check.isin(list(statuses), name="UnknownStatus", error="UnknownStatus")],
    )


ORDER_CHANGE_POLARS_SCHEMA = pl.Schema(
    {
        "job_id": pl.String,
        "order_id": pl.String,
        "change_type": pl.String,
        "status": pl.String,
        "sub_total": pl.Float64,
        "line_total": pl.Float64,
    }
)
ORDER_LINE_POLARS_SCHEMA = pl.Schema(
    {
        "job_id": pl.String,
        "line_index": pl.Int64,
        "line_type": pl.String,
        "return_type": pl.String,
        "sku": pl.String,
        "quantity": pl.Int64,
        "total_price": pl.Float64,
    }
)
