"""What the gold build reads, as a fingerprint: when it changes, gold is out of date.

The build_gold sensor compares the fingerprint with the one of its last launch. Each input gives
a short, non-personal text that changes whenever what gold would read from it changes: a Delta
table's version, a count and last change time of the contacts. Another input (e.g. the saved
segment definitions) is one more entry in GOLD_INPUTS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, ORDER_LINES, ORDERS, RECEIPT_LINES, RECEIPTS, STORES
from storage.contact_attributes import contacts_fingerprint
from storage.lake import Lake

SILVER_INPUTS: tuple[TableSpec, ...] = (
    ORDERS,
    ORDER_LINES,
    RECEIPTS,
    RECEIPT_LINES,
    ARTICLES,
    STORES,
)
"""The silver tables the star schema is built from."""


@dataclass(frozen=True)
class GoldInput:
    """One input of the gold build and how to fingerprint it (cheaply: it runs every tick)."""

    name: str
    fingerprint: Callable[[Lake, Session], str]


def silver_versions(lake: Lake, _session: Session) -> str:
    return ",".join(f"{spec.name}-v{lake.version(spec)}" for spec in SILVER_INPUTS)


def live_contacts(_lake: Lake, session: Session) -> str:
    return str(contacts_fingerprint(session))


def build_day(_lake: Lake, _session: Session) -> str:
    """The UTC day: contact_segmentation's recency and 365-day windows move with time, so gold
    is rebuilt at least once a day even when nothing else changed."""
    return datetime.now(UTC).date().isoformat()


GOLD_INPUTS: list[GoldInput] = [
    GoldInput("silver", silver_versions),
    GoldInput("contacts", live_contacts),
    GoldInput("day", build_day),
    # Add further inputs here, e.g. GoldInput("segment_definitions", ...).
]


def gold_fingerprint(lake: Lake, session: Session) -> str:
    """The fingerprint of every gold input, e.g. `silver=orders-v3,...|contacts=...|day=...`."""
    return "|".join(f"{entry.name}={entry.fingerprint(lake, session)}" for entry in GOLD_INPUTS)
