"""Embedded actions: the `action` object inside an order, change-status or change-delivery body.

It runs once its change is processed, pinned to the version that change produced. Planning is
pure: which embedded actions of a processed batch are queued, and which are discarded with an
integration-log entry saying why (SPEC 2.2). The order view queues them in the same database
transaction that settles the jobs and moves the watermark, so each runs exactly once, however
often a crashed run is repeated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import polars as pl

from schemas.automations import Automations
from storage.actions import NewAction
from storage.integration_log import LogEntry

ACTIONS_LOG_TYPE = "Actions"
DISCARDED = "ActionDiscarded"
_ACTION_IDS = uuid.UUID("6c0b7c8e-5d0a-4f35-9a57-1f0cf0e1a7b3")
"""Namespace of embedded action ids: derived from the job, so a re-run finds the same action."""


def embedded_action_id(job_id: str) -> str:
    return str(uuid.uuid5(_ACTION_IDS, job_id))


def plan_embedded_actions(
    outcomes: pl.DataFrame, documents: Mapping[str, str], automations: Automations
) -> tuple[list[NewAction], list[LogEntry]]:
    """Embedded actions of processed changes: queued, or discarded with the reason logged.

    `documents` maps the versionTags of the batch to their Orders v3 JSON.
    """
    planned: list[NewAction] = []
    discarded: list[LogEntry] = []
    for row in outcomes.filter(pl.col("action").is_not_null()).iter_rows(named=True):
        embedded = json.loads(row["action"])
        reason = _why_not(row, embedded["action"], automations)
        if reason is not None:
            discarded.append(_discarded(row, embedded["action"], reason))
            continue
        planned.append(_planned(row, embedded, documents[row["version_tag"]], automations))
    return planned, discarded


def _why_not(row: dict[str, Any], name: str, automations: Automations) -> str | None:
    if row["status"] != "Succeeded":
        return "the change it came with failed"
    if row["contact_id"] is None:
        return "the order's contact is missing"
    if automations.find(name) is None:
        return "no automation defines it"
    return None


def _discarded(row: dict[str, Any], name: str, reason: str) -> LogEntry:
    return LogEntry(
        type=ACTIONS_LOG_TYPE,
        severity="Warning",
        code=DISCARDED,
        message=f"The embedded action {name} was discarded: {reason}.",
        job_id=row["job_id"],
        order_id=row["order_id"],
    )


def _planned(
    row: dict[str, Any], embedded: dict[str, Any], document: str, automations: Automations
) -> NewAction:
    automation = automations.find(embedded["action"])
    assert automation is not None
    return NewAction(
        action_id=embedded_action_id(row["job_id"]),
        order_id=row["order_id"],
        version_tag=row["version_tag"],
        action=embedded["action"],
        language=embedded.get("language"),
        data=embedded.get("data"),
        contact_id=row["contact_id"],
        job_id=row["job_id"],
        api_key_id=row["api_key_id"],
        document=document,
        channels=tuple(automation.channels),
        source="embedded",
    )
