"""The segment_memberships asset: who is in each saved segment, as of the last gold build.

Every saved definition is evaluated on the gold tables and the whole table is rewritten in one
Delta commit, so a reader never sees half of the segments updated, and deleted segments simply
disappear. Each row carries the definition's revision, and the operational database records which
revision each segment was materialised from, so the API can tell whether members are current.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl
from pydantic import ValidationError
from sqlalchemy.orm import Session

from assets.metadata import WRITE_RETRY, table_asset_args
from assets.resources import LakeResource, OperationalDatabase
from assets.writers import one_writer
from schemas.gold_tables import SEGMENT_MEMBERSHIPS
from schemas.problems import field_errors_from_validation
from schemas.segment_definitions import Criterion
from storage.segment_evaluation import GoldTables, segment_members
from storage.segment_lake import gold_specs
from storage.segments import (
    hidden_contact_ids,
    list_segments,
    load_definition,
    record_materialization,
)


@dataclass(frozen=True)
class SavedDefinition:
    """A definition as loaded for materialisation: its name, revision and criteria."""

    name: str
    revision: str
    criteria: Criterion


@dataclass(frozen=True)
class LoadedDefinitions:
    valid: list[SavedDefinition]
    skipped: list[str]


@dg.asset(
    **table_asset_args(SEGMENT_MEMBERSHIPS, deps=[spec.name for spec in gold_specs()]),
    pool=SEGMENT_MEMBERSHIPS.name,
    retry_policy=WRITE_RETRY,
)
@one_writer(SEGMENT_MEMBERSHIPS.name)
def segment_memberships(
    context: dg.AssetExecutionContext, lake: LakeResource, database: OperationalDatabase
) -> dg.MaterializeResult:
    """Rebuilt in full after every gold build and whenever a definition changes. Soft-deleted
    contacts are left out even when the gold tables still hold them."""
    with database.session() as session:
        loaded = load_definitions(session, context.log)
        hidden = hidden_contact_ids(session)
    now = datetime.now(UTC)
    frame = memberships_frame(loaded.valid, GoldTables.from_lake(lake.lake), now, hidden)
    version = lake.lake.overwrite(SEGMENT_MEMBERSHIPS, frame.to_arrow())
    with database.session() as session:
        revisions = {definition.name: definition.revision for definition in loaded.valid}
        record_materialization(session, revisions, now, skipped=loaded.skipped)
    return dg.MaterializeResult(metadata=_metadata(frame, loaded, version))


def load_definitions(
    session: Session, log: dg.DagsterLogManager | None = None
) -> LoadedDefinitions:
    """Every saved definition, validated again; one that no longer validates is skipped.

    The intake validates before saving, so a skip means the rules changed under a stored
    definition. Skipping it keeps every other segment up to date; the warning names the segment
    and the JSON pointers of the problems (never values).
    """
    valid: list[SavedDefinition] = []
    skipped: list[str] = []
    for segment in list_segments(session):
        try:
            definition = load_definition(segment)
        except ValidationError as error:
            skipped.append(segment.name)
            if log is not None:
                paths = ", ".join(
                    f"{item.path or '/'} ({item.code})"
                    for item in field_errors_from_validation(error)
                )
                log.warning(
                    f"segment {segment.name!r} skipped: its definition is invalid at {paths}"
                )
            continue
        valid.append(SavedDefinition(segment.name, segment.revision, definition.criteria))
    return LoadedDefinitions(valid, skipped)


def memberships_frame(
    definitions: Sequence[SavedDefinition],
    gold: GoldTables,
    now: datetime,
    hidden: Collection[str] = (),
) -> pl.DataFrame:
    """One row per segment and member, in the table's columns, evaluated in one collect so that
    polars shares the scans between segments."""
    frames = [_members(definition, gold, now, hidden) for definition in definitions]
    if not frames:
        return pl.DataFrame(schema=pl.Schema(SEGMENT_MEMBERSHIPS.arrow_schema))
    return (
        pl.concat(frames)
        .select(SEGMENT_MEMBERSHIPS.column_names)
        .sort("segment_name", "contact_id")
        .collect()
    )


def _members(
    definition: SavedDefinition, gold: GoldTables, now: datetime, hidden: Collection[str]
) -> pl.LazyFrame:
    members = segment_members(definition.criteria, gold, now)
    if hidden:
        members = members.filter(~pl.col("contact_id").is_in(list(hidden)))
    return members.with_columns(
        segment_name=pl.lit(definition.name, pl.String),
        revision=pl.lit(definition.revision, pl.String),
        materialized_at=pl.lit(now, pl.Datetime("us", "UTC")),
    )


def _metadata(frame: pl.DataFrame, loaded: LoadedDefinitions, version: int) -> dict[str, Any]:
    """Sizes only: contact ids are pseudonymous, but still stay out of Dagster's metadata."""
    sizes = dict.fromkeys((definition.name for definition in loaded.valid), 0)
    counts = frame.group_by("segment_name").len()
    sizes.update(zip(counts["segment_name"], counts["len"], strict=True))
    table = ["| segment | members |", "|---|---:|"]
    table += [f"| {name} | {size} |" for name, size in sorted(sizes.items())]
    return {
        "dagster/row_count": frame.height,
        "delta_version": version,
        "segments": len(sizes),
        "skipped_segments": len(loaded.skipped),
        "sizes": dg.MetadataValue.md("\n".join(table)),
        **{f"size/{name}": size for name, size in sorted(sizes.items())},
    }
