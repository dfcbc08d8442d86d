"""Silver order assets: apply landed changes, keep every version, merge current orders and lines.

One processing run handles everything landed since the watermark (the bronze version whose changes
are fully processed, kept in the operational database). Every write is idempotent, so a run that
died half-way is simply run again.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl
import pyarrow as pa
from dagster import AssetExecutionContext

from assets.frame_checks import frame_check_results, frame_check_specs
from assets.gc_paused import gc_paused
from assets.heap import return_freed_memory
from assets.incremental import append_new
from assets.metadata import WRITE_RETRY, asset_spec, table_asset_args
from assets.orders.bronze import ORDER_CHANGES_KEY
from assets.orders.changes import (
    AppliedBatch,
    OrderState,
    Outcome,
    ReferenceChecker,
    apply_changes,
)
from assets.orders.documents import order_skus
from assets.orders.state import (
    APP_ID,
    latest_versions_in_range,
    line_table,
    load_base_states,
    outcome_table,
    version_table,
)
from assets.orders.validation import ValidatedBatch, check_rules, parse_changes
from assets.references import RegisterLookup
from assets.resources import BatchLimits, LakeResource, OperationalDatabase, OrderPolicy
from assets.run_tags import tag_run_with_batch
from assets.writers import one_writer
from schemas.frames import OrderChangeFrame, OrderLineFrame
from schemas.orders import Order
from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_CHANGES, ORDER_LINES, ORDER_VERSIONS, ORDERS
from storage.contacts import resolve_match_keys
from storage.jobs import mark_processing
from storage.lake import Lake
from storage.watermarks import get_watermark, set_watermark

WATERMARK = "order_changes"
"""Bronze `order_changes` version fully processed: published to the order view, jobs settled."""
ORDERS_MERGED = "order_changes:orders"
ORDER_LINES_MERGED = "order_changes:order_lines"
"""Bronze versions whose changes the current tables already reflect. The order view publishes no
further than both, so the watermark never runs ahead of `orders`, whose rows are the state the next
batch starts from."""

RULES_CHECK = "changes_follow_business_rules"
LINES_APP_ID = "engage-orders/order-lines"
"""Delta txn id of the `order_lines` appends: through which bronze version the lines are in."""


ORDER_FRAMES = (OrderChangeFrame, OrderLineFrame)
"""The pandera models a batch of order changes is checked with, one asset check each."""


@dg.multi_asset(
    specs=[
        asset_spec(ORDER_VERSIONS, deps=[ORDER_CHANGES_KEY]),
        asset_spec(ORDER_CHANGE_OUTCOMES, deps=[ORDER_CHANGES_KEY]),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            RULES_CHECK,
            asset=ORDER_CHANGE_OUTCOMES.name,
            description="Landed changes pass the pandera business-rule models (SPEC 2.1).",
        ),
        *frame_check_specs(ORDER_CHANGE_OUTCOMES.name, ORDER_FRAMES),
    ],
    pool=ORDER_VERSIONS.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(ORDER_VERSIONS.name)
def apply_order_changes(
    context: AssetExecutionContext,
    lake: LakeResource,
    database: OperationalDatabase,
    order_policy: OrderPolicy,
    batch_limits: BatchLimits,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Validate the changes landed since the watermark and apply them in landing order."""
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
    through = batch_limits.batch_end(lake.lake, ORDER_CHANGES, watermark)
    rows = lake.lake.read_changes(ORDER_CHANGES, watermark, through)
    tag_run_with_batch(
        context, ORDER_CHANGES, watermark, through, rows.height, rows["job_id"].n_unique()
    )
    context.log.info(
        "applying %d changes from bronze versions %d..%d", len(rows), watermark + 1, through
    )
    with gc_paused():
        batch, applied = _validate_and_apply(rows, watermark, lake, database, order_policy)
        processed_at = datetime.now(UTC)
        versions = version_table(applied.versions, processed_at)
        api_keys = dict(zip(rows["job_id"], rows["api_key_id"], strict=True))
        outcomes = outcome_table(applied.outcomes, api_keys, processed_at)
        outcome_counts = _outcome_counts(applied.outcomes)
        rules_check = _rules_check(batch)
        frame_checks = list(
            frame_check_results(ORDER_CHANGE_OUTCOMES.name, ORDER_FRAMES, batch.frames)
        )
        # Freed by reference counting while the collector is still paused: re-enabled with the
        # batch alive, its next full collection would walk every object of it (2-4 s at 100k).
        del batch, applied
    return_freed_memory()
    appended_versions = _append_new(lake.lake, ORDER_VERSIONS, versions, watermark, through)
    appended_outcomes = _append_new(lake.lake, ORDER_CHANGE_OUTCOMES, outcomes, watermark, through)

    batch_metadata = {"bronze_after_version": watermark, "bronze_through_version": through}
    yield dg.MaterializeResult(
        asset_key=ORDER_VERSIONS.name,
        metadata={
            **batch_metadata,
            "versions_appended": appended_versions,
            "dagster/row_count": lake.lake.table(ORDER_VERSIONS).count(),
        },
    )
    yield dg.MaterializeResult(
        asset_key=ORDER_CHANGE_OUTCOMES.name,
        metadata={**batch_metadata, **outcome_counts, "outcomes_appended": appended_outcomes},
    )
    yield rules_check
    yield from frame_checks


def _validate_and_apply(
    rows: pl.DataFrame,
    watermark: int,
    lake: LakeResource,
    database: OperationalDatabase,
    order_policy: OrderPolicy,
) -> tuple[ValidatedBatch, AppliedBatch]:
    batch = parse_changes(rows)
    check_rules(batch, order_policy.statuses)
    with database.session() as session:
        mark_processing(session, [change.job_id for change in batch.changes])
    base = load_base_states(lake.lake, rows["order_id"].unique().to_list(), watermark)
    resolver = _contact_resolver(database, batch, base)
    references = _reference_checker(lake.lake, batch, base)
    return batch, apply_changes(batch.changes, base, batch.rejected, resolver, references)


def _outcome_counts(outcomes: list[Outcome]) -> dict[str, int]:
    """Changes, succeeded and failed, and warnings by code (no payload data: safe metadata)."""
    failed = sum(not outcome.succeeded for outcome in outcomes)
    warnings = Counter(warning.code for outcome in outcomes for warning in outcome.warnings)
    return {
        "changes": len(outcomes),
        "succeeded": len(outcomes) - failed,
        "failed": failed,
        **{f"warnings.{code}": count for code, count in sorted(warnings.items())},
    }


def _contact_resolver(
    database: OperationalDatabase, batch: ValidatedBatch, base: dict[str, OrderState]
):
    """Resolve every contact the batch may need in one query, then look up from memory."""
    keys = {_contact_key(state.document) for state in base.values()}
    # Read from the validated payloads directly: dumping each one's contact to JSON first took
    # about 10 µs a change.
    keys |= {
        (contact.match_key_type.value, contact.match_key)
        for change in batch.changes
        if (contact := getattr(change.payload, "contact", None)) is not None
    }
    keys.discard(None)
    with database.session() as session:
        resolved = resolve_match_keys(session, keys)  # type: ignore[arg-type]

    def resolve(document: dict[str, Any]) -> str | None:
        key = _contact_key(document)
        return resolved.get(key) if key else None

    return resolve


def _reference_checker(
    lake: Lake, batch: ValidatedBatch, base: dict[str, OrderState]
) -> ReferenceChecker:
    """Look up every SKU and store the batch may name in the registers once.

    New orders are read from their validated payloads: building their documents here too would
    do the work `apply_changes` does again (about 35 µs an order).
    """
    documents = [state.document for state in base.values()]
    payloads = [change.payload for change in batch.changes if isinstance(change.payload, Order)]
    skus = [sku for document in documents for sku in order_skus(document)]
    skus += [line.article.sku for payload in payloads for line in payload.line_items.items]
    store_ids = [document.get("externalStoreId") for document in documents]
    store_ids += [payload.external_store_id for payload in payloads]
    lookup = RegisterLookup(
        lake, skus=skus, store_ids=(store for store in store_ids if store is not None)
    )
    return lambda document: lookup.warnings(order_skus(document), document.get("externalStoreId"))


def _contact_key(document: dict[str, Any]) -> tuple[str, str] | None:
    contact = document.get("contact")
    if not contact:
        return None
    return contact["matchKeyType"], contact["matchKey"]


def _append_new(lake: Lake, spec: Any, table: pa.Table, watermark: int, through: int) -> int:
    """Append the rows a previous attempt at this batch did not already write; returns the count."""
    return append_new(lake, spec, table, watermark, through, APP_ID)


def _rules_check(batch: ValidatedBatch) -> dg.AssetCheckResult:
    counts = batch.error_counts
    return dg.AssetCheckResult(
        check_name=RULES_CHECK,
        asset_key=ORDER_CHANGE_OUTCOMES.name,
        passed=not batch.rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "changes": len(batch.changes),
            "rejected_changes": len(batch.rejected),
            **{f"errors.{code}": n for code, n in sorted(counts.items())},
        },
        description="Rejected changes fail their jobs; the rest of the batch is applied.",
    )


def processed_through(lake: Lake) -> int:
    """The bronze version through which changes have been applied (outcomes written)."""
    return lake.app_version(ORDER_CHANGE_OUTCOMES, APP_ID) or 0


def _batch_range(lake: LakeResource, database: OperationalDatabase) -> tuple[int, int]:
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
    return watermark, processed_through(lake.lake)


def _record_merged(database: OperationalDatabase, name: str, through: int) -> None:
    with database.session() as session:
        set_watermark(session, name, through)


def _merge_source(latest: pl.DataFrame, columns: list[str]) -> pa.Table:
    return latest.select(*columns, "is_deleted").to_arrow()


@dg.asset(
    **table_asset_args(ORDERS, deps=[ORDER_VERSIONS.name, ORDER_CHANGE_OUTCOMES.name]),
    pool=ORDERS.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(ORDERS.name)
def orders(lake: LakeResource, database: OperationalDatabase) -> dg.MaterializeResult:
    """Upsert the newest version of each changed order; delete orders whose newest is a delete."""
    watermark, through = _batch_range(lake, database)
    latest = latest_versions_in_range(lake.lake, watermark, through)
    metrics: dict[str, int] = {}
    if not latest.is_empty():
        columns = {name: f"s.{name}" for name in ORDERS.column_names}
        metrics = lake.lake.merge(
            ORDERS,
            _merge_source(latest, ORDERS.column_names),
            predicate="t.order_id = s.order_id",
            clauses=lambda merge: (
                merge.when_matched_delete("s.is_deleted AND s.change_seq > t.change_seq")
                .when_matched_update(columns, "NOT s.is_deleted AND s.change_seq > t.change_seq")
                .when_not_matched_insert(columns, "NOT s.is_deleted")
            ),
        )
    _record_merged(database, ORDERS_MERGED, through)
    changed = latest.height
    del latest
    return_freed_memory()
    return dg.MaterializeResult(
        metadata={
            "bronze_through_version": through,
            "orders_changed": changed,
            "rows_inserted": metrics.get("num_target_rows_inserted", 0),
            "rows_updated": metrics.get("num_target_rows_updated", 0),
            "rows_deleted": metrics.get("num_target_rows_deleted", 0),
            "dagster/row_count": lake.lake.table(ORDERS).count(),
        }
    )


@dg.asset(
    **table_asset_args(ORDER_LINES, deps=[ORDER_VERSIONS.name, ORDER_CHANGE_OUTCOMES.name]),
    pool=ORDER_LINES.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(ORDER_LINES.name)
def order_lines(lake: LakeResource, database: OperationalDatabase) -> dg.MaterializeResult:
    """Replace the lines of every changed order with those of its newest version."""
    watermark, through = _batch_range(lake, database)
    latest = latest_versions_in_range(lake.lake, watermark, through)
    deleted = inserted = 0
    if not latest.is_empty():
        # Drop the lines of older versions (an idempotent merge), then append the newest
        # lines once: the append records the batch in the same commit (Delta txn), so a re-run
        # finds them written. A plain append reads nothing of the table, unlike a MERGE.
        stale = lake.lake.merge(
            ORDER_LINES,
            latest.select("order_id", "change_seq").to_arrow(),
            predicate="t.order_id = s.order_id",
            clauses=lambda merge: merge.when_matched_delete("t.change_seq < s.change_seq"),
        )
        lines = line_table(latest)
        inserted = append_new(lake.lake, ORDER_LINES, lines, watermark, through, LINES_APP_ID)
        deleted = stale.get("num_target_rows_deleted", 0)
    _record_merged(database, ORDER_LINES_MERGED, through)
    changed = latest.height
    del latest
    return_freed_memory()
    return dg.MaterializeResult(
        metadata={
            "bronze_through_version": through,
            "orders_changed": changed,
            "lines_deleted": deleted,
            "lines_inserted": inserted,
            "dagster/row_count": lake.lake.table(ORDER_LINES).count(),
        }
    )
