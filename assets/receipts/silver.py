"""Silver receipt assets: register each landed receipt once, with its lines and every outcome.

One processing run handles everything landed since the watermark (the bronze version whose
submissions are fully processed, kept in the operational database). The tables are append-only and
every append is idempotent, so a run that died half-way is simply run again.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from dagster import AssetExecutionContext

from assets.frame_checks import frame_check_results, frame_check_specs
from assets.gc_paused import gc_paused
from assets.heap import return_freed_memory
from assets.incremental import append_new
from assets.metadata import WRITE_RETRY, asset_spec
from assets.receipts.bronze import RECEIPT_SUBMISSIONS_KEY
from assets.receipts.registration import (
    ContactResolver,
    RegisteredBatch,
    Submission,
    SubmissionOutcome,
    register_receipts,
)
from assets.receipts.state import (
    APP_ID,
    line_table,
    outcome_table,
    receipt_table,
    registered_documents,
)
from assets.receipts.validation import RECEIPT_FRAMES, check_conventions, parse_submissions
from assets.references import RegisterLookup
from assets.resources import BatchLimits, LakeResource, OperationalDatabase
from assets.run_tags import tag_run_with_batch
from assets.writers import one_writer
from schemas.orders import ContactReference
from schemas.problems import ProcessingWarning
from schemas.tables import RECEIPT_LINES, RECEIPT_SUBMISSION_OUTCOMES, RECEIPT_SUBMISSIONS, RECEIPTS
from storage.contacts import resolve_match_keys
from storage.jobs import mark_processing
from storage.lake import Lake
from storage.watermarks import get_watermark

WATERMARK = "receipt_submissions"
"""Bronze `receipt_submissions` version fully processed: receipts published, jobs settled."""

CONVENTIONS_CHECK = "receipts_follow_conventions"

Warnings = dict[str, tuple[ProcessingWarning, ...]]


@dg.multi_asset(
    name="register_receipts",
    specs=[
        asset_spec(RECEIPTS, deps=[RECEIPT_SUBMISSIONS_KEY]),
        asset_spec(RECEIPT_LINES, deps=[RECEIPT_SUBMISSIONS_KEY]),
        asset_spec(RECEIPT_SUBMISSION_OUTCOMES, deps=[RECEIPT_SUBMISSIONS_KEY]),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            CONVENTIONS_CHECK,
            asset=RECEIPT_SUBMISSION_OUTCOMES.name,
            description=(
                "Landed receipts pass the pandera models (line sums, tax arithmetic, signs; "
                "SPEC 2.3). Violations are warnings: the receipt is registered all the same."
            ),
        ),
        *frame_check_specs(RECEIPT_SUBMISSION_OUTCOMES.name, RECEIPT_FRAMES),
    ],
    pool=RECEIPTS.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(RECEIPTS.name)
def register_receipts_asset(
    context: AssetExecutionContext,
    lake: LakeResource,
    database: OperationalDatabase,
    batch_limits: BatchLimits,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Register the receipts landed since the watermark: the first landing of each id wins."""
    with database.session() as session:
        watermark = get_watermark(session, WATERMARK)
    through = batch_limits.batch_end(lake.lake, RECEIPT_SUBMISSIONS, watermark)
    landed = lake.lake.read_changes(RECEIPT_SUBMISSIONS, watermark, through)
    tag_run_with_batch(
        context, RECEIPT_SUBMISSIONS, watermark, through, landed.height, landed["job_id"].n_unique()
    )
    with gc_paused():
        submissions = parse_submissions(landed)
        with database.session() as session:
            mark_processing(session, [submission.job_id for submission in submissions])
        context.log.info(
            "registering %d receipt submissions from bronze versions %d..%d",
            len(submissions),
            watermark + 1,
            through,
        )

        conventions, frames = check_conventions(submissions)
        batch = register_receipts(
            submissions,
            registered_documents(
                lake.lake, {submission.unique_receipt_id for submission in submissions}, watermark
            ),
            _contact_resolver(database, submissions),
            _merge(conventions, _register_warnings(lake.lake, submissions)),
        )

        processed_at = datetime.now(UTC)
        appended = {
            spec.name: append_new(lake.lake, spec, table, watermark, through, APP_ID)
            for spec, table in (
                (RECEIPTS, receipt_table(batch.receipts, processed_at)),
                (RECEIPT_LINES, line_table(batch.receipts)),
                # Last: its txn version tells the receipt view how far registration got.
                (RECEIPT_SUBMISSION_OUTCOMES, outcome_table(batch.outcomes, processed_at)),
            )
        }
        results = [
            *_results(lake.lake, batch, appended, watermark, through),
            _conventions_check(submissions, conventions),
            *frame_check_results(RECEIPT_SUBMISSION_OUTCOMES.name, RECEIPT_FRAMES, frames),
        ]
        # Freed while the collector is still paused: re-enabled with the batch alive, its next
        # full collection would walk every object of it.
        del batch, submissions, conventions
    return_freed_memory()
    yield from results


def _contact_resolver(
    database: OperationalDatabase, submissions: list[Submission]
) -> ContactResolver:
    """Resolve every contact the batch names in one query, then look up from memory."""
    keys = {
        _contact_key(submission.receipt.contact)
        for submission in submissions
        if submission.receipt is not None
    } - {None}
    with database.session() as session:
        resolved = resolve_match_keys(session, keys)  # type: ignore[arg-type]

    def resolve(contact: ContactReference | None) -> str | None:
        key = _contact_key(contact)
        return resolved.get(key) if key else None

    return resolve


def _contact_key(contact: ContactReference | None) -> tuple[str, str] | None:
    return (contact.match_key_type.value, contact.match_key) if contact else None


def _register_warnings(lake: Lake, submissions: list[Submission]) -> Warnings:
    """StoreMissing and ArticleMissing by job id, looking up the batch's stores and SKUs once."""
    receipts = {s.job_id: s.receipt for s in submissions if s.receipt is not None}
    skus = {job_id: [item.sku for item in r.items if item.sku] for job_id, r in receipts.items()}
    lookup = RegisterLookup(
        lake,
        skus=(sku for listed in skus.values() for sku in listed),
        store_ids=(r.store_external_id for r in receipts.values() if r.store_external_id),
    )
    return {
        job_id: lookup.warnings(skus[job_id], receipt.store_external_id)
        for job_id, receipt in receipts.items()
    }


def _merge(*sources: Warnings) -> Warnings:
    merged: Warnings = {}
    for source in sources:
        for job_id, warnings in source.items():
            merged[job_id] = merged.get(job_id, ()) + warnings
    return merged


def _results(
    lake: Lake, batch: RegisteredBatch, appended: dict[str, int], watermark: int, through: int
) -> Iterator[dg.MaterializeResult]:
    """Counts only: run metadata must never hold personal data."""
    batch_metadata = {"bronze_after_version": watermark, "bronze_through_version": through}
    for spec in (RECEIPTS, RECEIPT_LINES):
        yield dg.MaterializeResult(
            asset_key=spec.name,
            metadata={
                **batch_metadata,
                "rows_appended": appended[spec.name],
                "dagster/row_count": lake.table(spec).count(),
            },
        )
    outcomes = batch.outcomes
    failed = sum(not outcome.succeeded for outcome in outcomes)
    yield dg.MaterializeResult(
        asset_key=RECEIPT_SUBMISSION_OUTCOMES.name,
        metadata={
            **batch_metadata,
            "submissions": len(outcomes),
            "registered": len(batch.receipts),
            "duplicates": sum(outcome.duplicate for outcome in outcomes),
            "failed": failed,
            "outcomes_appended": appended[RECEIPT_SUBMISSION_OUTCOMES.name],
            **_warning_counts(outcomes),
        },
    )


def _warning_counts(outcomes: list[SubmissionOutcome]) -> dict[str, int]:
    counts = Counter(warning.code for outcome in outcomes for warning in outcome.warnings)
    return {f"warnings.{code}": count for code, count in sorted(counts.items())}


def _conventions_check(submissions: list[Submission], conventions: Warnings) -> dg.AssetCheckResult:
    counts = Counter(warning.code for warnings in conventions.values() for warning in warnings)
    return dg.AssetCheckResult(
        check_name=CONVENTIONS_CHECK,
        asset_key=RECEIPT_SUBMISSION_OUTCOMES.name,
        passed=not conventions,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "submissions_checked": sum(s.receipt is not None for s in submissions),
            "submissions_with_warnings": len(conventions),
            **{f"warnings.{code}": n for code, n in sorted(counts.items())},
        },
        description="Violations are integration-log warnings; the receipts are registered.",
    )
