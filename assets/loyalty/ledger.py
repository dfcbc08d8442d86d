"""The loyalty ledger asset: points for newly registered receipts, mirrored to the database."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pyarrow as pa

from assets.incremental import append_new, first_seq_after
from assets.loyalty.points import BonusAmount, LedgerEntry, LoyaltyPolicy, ledger_entries
from assets.metadata import WRITE_RETRY, table_asset_args
from assets.resources import LakeResource, LoyaltyProgram, OperationalDatabase
from assets.writers import one_writer
from schemas.tables import LOYALTY_LEDGER, RECEIPT_LINES, RECEIPTS
from storage.lake import Lake
from storage.loyalty import LoyaltyRow, publish_entries
from storage.watermarks import get_watermark, set_watermark

APP_ID = "engage-orders/loyalty"
"""Delta `txn` application id of the ledger's appends."""
WATERMARK = "loyalty_ledger"
"""Bronze receipt_submissions version whose registered receipts the ledger holds."""
RECEIPTS_WATERMARK = "receipt_submissions"


@dg.asset(
    **table_asset_args(LOYALTY_LEDGER, deps=[RECEIPTS.name, RECEIPT_LINES.name, "receipt_view"]),
    pool=LOYALTY_LEDGER.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(LOYALTY_LEDGER.name)
def loyalty_ledger(
    lake: LakeResource, database: OperationalDatabase, loyalty_program: LoyaltyProgram
) -> dg.MaterializeResult:
    """Points earned and deducted by the receipts registered since the last run, and the bonus
    checks they trigger; the entries are also published for GET /contacts/{id}/loyalty."""
    with database.session() as session:
        after = get_watermark(session, WATERMARK)
        through = get_watermark(session, RECEIPTS_WATERMARK)
    if through <= after:
        return dg.MaterializeResult(metadata={"receipts": 0, "entries_appended": 0})
    amounts = bonus_amounts(lake.lake, after, through)
    opening = opening_balances(lake.lake, {amount.contact_id for amount in amounts}, after)
    policy = LoyaltyPolicy(loyalty_program.points_per_unit, loyalty_program.bonus_check_threshold)
    entries = ledger_entries(amounts, opening, policy)
    appended = _append_new(lake.lake, entries, after, through)
    with database.session() as session:
        publish_entries(session, [_row(entry) for entry in entries])
        set_watermark(session, WATERMARK, through)
    return dg.MaterializeResult(
        metadata={
            "receipts": len(amounts),
            "entries_appended": appended,
            "bonus_checks_issued": sum(entry.entry_type == "BonusCheckIssued" for entry in entries),
            "dagster/row_count": lake.lake.table(LOYALTY_LEDGER).count(),
        }
    )


def bonus_amounts(lake: Lake, after: int, through: int) -> list[BonusAmount]:
    """Per registered receipt with a contact: Σ bonus-awarding line amounts in group currency."""
    receipts = lake.scan(RECEIPTS).filter(
        pl.col("change_seq") >= first_seq_after(after),
        pl.col("change_seq") < first_seq_after(through),
        pl.col("contact_id").is_not_null(),
    )
    lines = (
        lake.scan(RECEIPT_LINES)
        .filter(pl.col("awards_bonus").fill_null(False))
        .group_by("unique_receipt_id")
        .agg(pl.col("signed_amount").sum().alias("bonus_amount"))
    )
    frame = (
        receipts.join(lines, on="unique_receipt_id", how="inner")
        .select(
            "unique_receipt_id",
            "contact_id",
            "change_seq",
            "created_at",
            (
                pl.col("bonus_amount") * pl.col("exchange_rate_to_group_currency").fill_null(1.0)
            ).alias("amount"),
        )
        .collect()
    )
    return [
        BonusAmount(
            row["unique_receipt_id"],
            row["contact_id"],
            row["change_seq"],
            row["created_at"],
            row["amount"],
        )
        for row in frame.iter_rows(named=True)
    ]


def opening_balances(lake: Lake, contact_ids: set[str], after: int) -> dict[str, int]:
    """Each contact's balance from entries made before this batch."""
    if not contact_ids:
        return {}
    frame = (
        lake.scan(LOYALTY_LEDGER)
        .filter(
            pl.col("contact_id").is_in(pl.Series(list(contact_ids), dtype=pl.String)),
            pl.col("change_seq") < first_seq_after(after),
        )
        .group_by("contact_id")
        .agg(pl.col("points").sum())
        .collect()
    )
    return dict(zip(frame["contact_id"], frame["points"], strict=True))


def _append_new(lake: Lake, entries: list[LedgerEntry], after: int, through: int) -> int:
    processed_at = datetime.now(UTC)
    rows = [{**entry.__dict__, "processed_at": processed_at} for entry in entries]
    table = pa.Table.from_pylist(rows, schema=LOYALTY_LEDGER.arrow_schema)
    return append_new(lake, LOYALTY_LEDGER, table, after, through, APP_ID)


def _row(entry: LedgerEntry) -> LoyaltyRow:
    return LoyaltyRow(
        entry_id=entry.entry_id,
        contact_id=entry.contact_id,
        unique_receipt_id=entry.unique_receipt_id,
        entry_type=entry.entry_type,
        points=entry.points,
        balance_after=entry.balance_after,
        change_seq=entry.change_seq,
        entry_number=entry.entry_number,
        occurred_at=entry.occurred_at,
    )
