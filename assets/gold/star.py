"""Gold star schema assets: dimensions, then facts, then the calendar; each rebuilt in full.

A full rebuild keeps gold simple and always in agreement with silver, the registers and the live
contacts (a soft-deleted contact disappears at the next build, an article registered late labels
its past sales). At a million orders it is a few seconds per table: each builder is one lazy
polars query, collected once and written in one Delta overwrite, so readers see the previous or
the new version of a table, never a mix.

Order of the build: dimensions first (facts look their keys up in them, so every key resolves),
fact_order before fact_order_line (lines inherit their order's contact, store and status), and
dim_date last (it spans the facts' days).

Run metadata carries counts only, never contact ids or other personal data.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl

from assets.gold.dimensions import (
    calendar_range,
    date_key_bounds,
    dim_article_frame,
    dim_contact_frame,
    dim_date_frame,
    dim_store_frame,
)
from assets.gold.facts import (
    fact_order_frame,
    fact_order_line_frame,
    fact_receipt_line_frame,
)
from assets.metadata import WRITE_RETRY, markdown_preview, table_asset_args
from assets.resources import LakeResource, OperationalDatabase, OrderPolicy
from assets.writers import one_writer
from schemas.gold_tables import (
    DIM_ARTICLE,
    DIM_CONTACT,
    DIM_DATE,
    DIM_STORE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_RECEIPT_LINE,
    UNKNOWN_KEY,
)
from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS, STORES
from storage.contact_attributes import live_contact_attributes


def written(
    lake: LakeResource,
    spec: TableSpec,
    frame: pl.DataFrame,
    **metadata: int | str | float | dg.MetadataValue,
) -> dg.MaterializeResult:
    """Replace the table's rows with `frame` in one commit; row count and version as metadata."""
    version = lake.lake.overwrite(spec, frame.to_arrow())
    return dg.MaterializeResult(
        metadata={"dagster/row_count": frame.height, "delta_version": version, **metadata}
    )


def _register_written(
    lake: LakeResource, spec: TableSpec, frame: pl.DataFrame, counted: str
) -> dg.MaterializeResult:
    """A register's dimension, with its registered rows counted and previewed in the UI.

    Registers hold no personal data, so their rows may show; the contact and fact tables may
    not (a contact's id in Dagster's event log would outlive its erasure)."""
    registered = frame.filter(pl.col(spec.key[0]) != UNKNOWN_KEY)
    return written(
        lake, spec, frame, **{counted: registered.height}, preview=markdown_preview(registered)
    )


def _count(frame: pl.DataFrame, condition: pl.Expr) -> int:
    return int(frame.select(condition.sum()).item())


def _rows(lake: LakeResource, spec: TableSpec) -> int:
    return int(lake.lake.scan(spec).select(pl.len()).collect().item())


def _asset_args(spec: TableSpec, *deps: TableSpec) -> dict[str, Any]:
    """Catalogue metadata, one writer at a time (pool named after the table), retried writes."""
    return {
        **table_asset_args(spec, deps=[dep.name for dep in deps]),
        "pool": spec.name,
        "retry_policy": WRITE_RETRY,
    }


@dg.asset(**_asset_args(DIM_CONTACT))
@one_writer(DIM_CONTACT.name)
def dim_contact(lake: LakeResource, database: OperationalDatabase) -> dg.MaterializeResult:
    """Live contacts of the operational database, read without any personal column."""
    with database.session() as session:
        contacts = live_contact_attributes(session)
    frame = dim_contact_frame(contacts).collect()
    return written(
        lake,
        DIM_CONTACT,
        frame,
        live_contacts=frame.height - 1,
        with_email=_count(frame, pl.col("has_email")),
        with_mobile_phone=_count(frame, pl.col("has_mobile_phone")),
    )


@dg.asset(**_asset_args(DIM_ARTICLE, ARTICLES))
@one_writer(DIM_ARTICLE.name)
def dim_article(lake: LakeResource) -> dg.MaterializeResult:
    """The article register with every attribute, plus the unknown article."""
    frame = dim_article_frame(lake.lake.scan(ARTICLES)).collect()
    return _register_written(lake, DIM_ARTICLE, frame, "registered_articles")


@dg.asset(**_asset_args(DIM_STORE, STORES))
@one_writer(DIM_STORE.name)
def dim_store(lake: LakeResource) -> dg.MaterializeResult:
    """The store register plus the unknown store."""
    frame = dim_store_frame(lake.lake.scan(STORES)).collect()
    return _register_written(lake, DIM_STORE, frame, "registered_stores")


@dg.asset(**_asset_args(FACT_ORDER, ORDERS, ORDER_LINES, DIM_CONTACT, DIM_STORE))
@one_writer(FACT_ORDER.name)
def fact_order(lake: LakeResource, order_policy: OrderPolicy) -> dg.MaterializeResult:
    """Current orders; orders of soft-deleted or erased contacts are left out."""
    scan = lake.lake.scan
    frame = fact_order_frame(
        scan(ORDERS),
        scan(ORDER_LINES),
        scan(DIM_CONTACT),
        scan(DIM_STORE),
        order_policy.ongoing_statuses,
    ).collect()
    return written(
        lake,
        FACT_ORDER,
        frame,
        ongoing_orders=_count(frame, pl.col("is_ongoing")),
        orders_without_contact=_count(frame, pl.col("contact_key") == UNKNOWN_KEY),
        orders_of_hidden_contacts_left_out=_rows(lake, ORDERS) - frame.height,
        orders_with_unregistered_store=_count(
            frame, (pl.col("store_key") == UNKNOWN_KEY) & pl.col("external_store_id").is_not_null()
        ),
    )


@dg.asset(**_asset_args(FACT_ORDER_LINE, ORDER_LINES, FACT_ORDER, DIM_ARTICLE))
@one_writer(FACT_ORDER_LINE.name)
def fact_order_line(lake: LakeResource) -> dg.MaterializeResult:
    """Lines of the orders in fact_order, with their article key."""
    scan = lake.lake.scan
    frame = fact_order_line_frame(scan(ORDER_LINES), scan(FACT_ORDER), scan(DIM_ARTICLE)).collect()
    return written(
        lake,
        FACT_ORDER_LINE,
        frame,
        return_lines=_count(frame, pl.col("is_return")),
        lines_with_unregistered_article=_count(frame, pl.col("article_key") == UNKNOWN_KEY),
        lines_left_out=_rows(lake, ORDER_LINES) - frame.height,
    )


@dg.asset(
    **_asset_args(FACT_RECEIPT_LINE, RECEIPT_LINES, RECEIPTS, DIM_CONTACT, DIM_ARTICLE, DIM_STORE)
)
@one_writer(FACT_RECEIPT_LINE.name)
def fact_receipt_line(lake: LakeResource) -> dg.MaterializeResult:
    """Receipt lines; lines of soft-deleted or erased contacts are left out."""
    scan = lake.lake.scan
    frame = fact_receipt_line_frame(
        scan(RECEIPT_LINES), scan(RECEIPTS), scan(DIM_CONTACT), scan(DIM_ARTICLE), scan(DIM_STORE)
    ).collect()
    return written(
        lake,
        FACT_RECEIPT_LINE,
        frame,
        return_lines=_count(frame, pl.col("is_return")),
        lines_without_contact=_count(frame, pl.col("contact_key") == UNKNOWN_KEY),
        lines_with_unregistered_article=_count(frame, pl.col("article_key") == UNKNOWN_KEY),
        lines_with_unregistered_store=_count(frame, pl.col("store_key") == UNKNOWN_KEY),
        lines_of_hidden_contacts_left_out=_rows(lake, RECEIPT_LINES) - frame.height,
    )


DATE_KEY_COLUMNS: dict[TableSpec, tuple[str, ...]] = {
    FACT_ORDER: ("created_date_key", "last_changed_date_key", "delivery_date_key"),
    FACT_RECEIPT_LINE: ("date_key",),
    DIM_CONTACT: ("created_date_key",),
}
"""Where dates are: dim_date spans them all (fact_order_line's day is its order's)."""


@dg.asset(**_asset_args(DIM_DATE, *DATE_KEY_COLUMNS, FACT_ORDER_LINE))
@one_writer(DIM_DATE.name)
def dim_date(lake: LakeResource) -> dg.MaterializeResult:
    """The calendar from the first day in the facts to a year ahead (delivery dates)."""
    first, last = date_key_bounds(
        [lake.lake.scan(spec).select(columns) for spec, columns in DATE_KEY_COLUMNS.items()]
    )
    start, end = calendar_range(first, last, datetime.now(UTC).date())
    frame = dim_date_frame(start, end)
    return written(lake, DIM_DATE, frame, first_day=start.isoformat(), last_day=end.isoformat())
