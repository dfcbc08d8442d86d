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


# Receipts (SPEC 2.3). A receipt records an exchange that already happened: breaking these rules
# does not stop it from being registered, it puts a warning in the integration log (type
# Receipts). The check names are the warning codes. See schemas/receipts.py for the hard rules.

RECEIPT_TOLERANCE = 0.01
"""How far amounts may be apart: integrators round per line and per tax rate."""
RECEIPT_LINE_TYPES = ("PURCHASE", "RETURN")


class ReceiptFrame(pa.DataFrameModel):
    """One row per parsed receipt submission: its total and what its lines add up to."""

    class Config(BaseConfig):
        strict = True
        coerce = False

    job_id: str = pa.Field(unique=True)
    total_gross_price: float
    line_sum: float
    purchase_lines: int = pa.Field(ge=0)
    return_lines: int = pa.Field(ge=0)

    @pa.dataframe_check(name="LineSumMismatch")
    def lines_add_up_to_total(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """totalGrossPrice differs from the lines' signed amounts (returns negative)."""
        difference = (pl.col("total_gross_price") - pl.col("line_sum")).abs().round(MONEY_DECIMALS)
        return data.lazyframe.select(difference <= RECEIPT_TOLERANCE)

    @pa.dataframe_check(name="SignConvention")
    def total_sign_follows_lines(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A receipt of only purchases has a total >= 0, one of only returns a total <= 0."""
        total = pl.col("total_gross_price")
        negative_sale = (pl.col("return_lines") == 0) & (total < 0)
        positive_return = (pl.col("purchase_lines") == 0) & (total > 0)
        return data.lazyframe.select(~(negative_sale | positive_return))


class ReceiptLineFrame(pa.DataFrameModel):
    """One row per line of a parsed receipt submission."""

    class Config(BaseConfig):
        strict = True
        coerce = False

    job_id: str
    line_index: int = pa.Field(ge=0)
    line_type: str = pa.Field(isin=RECEIPT_LINE_TYPES)
    quantity: float
    gross_paid_price: float
    tax_amount: float = pa.Field(nullable=True)
    tax_percent: float = pa.Field(nullable=True)

    @pa.dataframe_check(name="TaxMismatch")
    def tax_follows_rate(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """taxAmount is the tax included in grossPaidPrice at taxPercent."""
        rate = pl.col("tax_percent")
        expected = pl.col("gross_paid_price") * rate / (100 + rate)
        difference = (pl.col("tax_amount") - expected).abs().round(MONEY_DECIMALS)
        return data.lazyframe.select(
            pl.col("tax_amount").is_null() | rate.is_null() | (difference <= RECEIPT_TOLERANCE)
        )

    @pa.dataframe_check(name="SignConvention")
    def quantity_sign_follows_type(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """PURCHASE lines have a positive quantity, RETURN lines a negative one."""
        line_type, quantity = pl.col("line_type"), pl.col("quantity")
        return data.lazyframe.select(
            ((line_type == "PURCHASE") & (quantity > 0))
            | ((line_type == "RETURN") & (quantity < 0))
        )


class ReceiptTaxDetailFrame(pa.DataFrameModel):
    """One row per taxDetails entry of a parsed receipt submission."""

    class Config(BaseConfig):
        strict = True
        coerce = False

    job_id: str
    detail_index: int = pa.Field(ge=0)
    value: float
    total_including_tax: float = pa.Field(nullable=True)
    total_excluding_tax: float = pa.Field(nullable=True)

    @pa.dataframe_check(name="TaxMismatch")
    def value_is_the_difference(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """value = totalIncludingTax - totalExcludingTax."""
        including, excluding = pl.col("total_including_tax"), pl.col("total_excluding_tax")
        difference = (pl.col("value") - (including - excluding)).abs().round(MONEY_DECIMALS)
        return data.lazyframe.select(
            including.is_null() | excluding.is_null() | (difference <= RECEIPT_TOLERANCE)
        )


RECEIPT_POLARS_SCHEMA = pl.Schema(
    {
        "job_id": pl.String,
        "total_gross_price": pl.Float64,
        "line_sum": pl.Float64,
        "purchase_lines": pl.Int64,
        "return_lines": pl.Int64,
    }
)
RECEIPT_LINE_POLARS_SCHEMA = pl.Schema(
    {
        "job_id": pl.String,
        "line_index": pl.Int64,
        "line_type": pl.String,
        "quantity": pl.Float64,
        "gross_paid_price": pl.Float64,
        "tax_amount": pl.Float64,
        "tax_percent": pl.Float64,
    }
)
RECEIPT_TAX_DETAIL_POLARS_SCHEMA = pl.Schema(
    {
        "job_id": pl.String,
        "detail_index": pl.Int64,
        "value": pl.Float64,
        "total_including_tax": pl.Float64,
        "total_excluding_tax": pl.Float64,
    }
)


# Article and store registers (SPEC 2.4). The intake validated every registration with the same
# pydantic models; these re-check the rows about to be merged into silver, because bronze can be
# fed by an older intake or repaired by hand, and a bad key would be in the register for good.

GTIN_PATTERN = r"^([0-9]{8}|[0-9]{12,14})$"
REGISTER_KEY_LENGTH = {"min_value": 1, "max_value": 128}


class ArticleFrame(pa.DataFrameModel):
    """One row per landed article registration, shaped like silver `articles`."""

    class Config(BaseConfig):
        strict = False  # the descriptive columns are free text: nothing to check beyond pydantic
        coerce = False

    sku: str = pa.Field(str_length=REGISTER_KEY_LENGTH)
    awards_bonus: bool = pa.Field(nullable=True)
    gtin: str = pa.Field(nullable=True, str_matches=GTIN_PATTERN)
    change_seq: int = pa.Field(ge=0, unique=True)
    job_id: str = pa.Field(str_length={"min_value": 1})


class StoreFrame(pa.DataFrameModel):
    """One row per landed store registration, shaped like silver `stores`."""

    class Config(BaseConfig):
        strict = False
        coerce = False

    external_id: str = pa.Field(str_length=REGISTER_KEY_LENGTH)
    country_code: str = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    currency: str = pa.Field(nullable=True, str_matches=r"^[A-Z]{3}$")
    change_seq: int = pa.Field(ge=0, unique=True)
    job_id: str = pa.Field(str_length={"min_value": 1})
