"""Applying landed order changes to order state, one order at a time, in landing order.

This is the heart of SPEC 2.1 and deliberately free of Dagster and storage: given the state of the
affected orders before a batch and the batch's changes, it returns the new versions and one outcome
per change. The result depends only on its inputs (version tags are hashed from job ids), so a batch
re-run after a crash produces exactly the same versions and outcomes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The landing order (change_seq) is shared by every domain; re-exported here for the orders code.
from assets.incremental import CHANGE_SEQ_BITS as CHANGE_SEQ_BITS
from assets.incremental import change_seq as change_seq
from assets.incremental import first_seq_after as first_seq_after
from assets.orders.documents import order_document, parse_timestamp, version_tag_for
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.problems import FieldError, ProcessingWarning

Payload = Order | ChangeStatus | ChangeDelivery
ContactResolver = Callable[[dict[str, Any]], str | None]
"""Finds the live contact an order document names, or None."""
ReferenceChecker = Callable[[dict[str, Any]], tuple[ProcessingWarning, ...]]
"""Warnings for what an order document refers to that the registers do not know."""


@dataclass(frozen=True)
class LandedChange:
    job_id: str
    order_id: str
    change_type: str
    change_seq: int
    landed_at: datetime
    if_match: str | None
    payload: Payload | None
    """The parsed body; None for a delete, or when the body failed validation."""


@dataclass(frozen=True)
class OrderState:
    """An order version: the order as it stood after one processed change."""

    order_id: str
    version_tag: str
    version_number: int
    change_seq: int
    document: dict[str, Any]
    contact_id: str | None
    is_deleted: bool = False


@dataclass(frozen=True)
class OrderVersion:
    state: OrderState
    job_id: str
    change_type: str
    landed_at: datetime


@dataclass(frozen=True)
class Outcome:
    change: LandedChange
    succeeded: bool
    version_tag: str | None = None
    contact_id: str | None = None
    errors: tuple[FieldError, ...] = ()
    warnings: tuple[ProcessingWarning, ...] = ()
    action: dict[str, Any] | None = None


@dataclass
class AppliedBatch:
    versions: list[OrderVersion] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


CONTACT_MISSING = ProcessingWarning("ContactMissing", "Contact is missing")
VERSION_CONFLICT = FieldError(
    path="",
    code="VersionConflict",
    message="The order's current versionTag is not the If-Match one.",
)
ORDER_NOT_FOUND = FieldError(
    path="", code="OrderNotFound", message="No order with this orderId exists."
)
ORDER_ALREADY_EXISTS = FieldError(
    path="/orderId",
    code="OrderAlreadyExists",
    message="An order with this orderId exists with other content; use PUT to replace it.",
)
STALE_CHANGE = FieldError(
    path="/lastChangedAt",
    code="StaleChange",
    message="lastChangedAt is older than the stored order's.",
)


def no_reference_warnings(document: dict[str, Any]) -> tuple[ProcessingWarning, ...]:
    return ()


def apply_changes(
    changes: Iterable[LandedChange],
    base: Mapping[str, OrderState],
    rejected: Mapping[str, list[FieldError]],
    resolve_contact: ContactResolver,
    check_references: ReferenceChecker = no_reference_warnings,
) -> AppliedBatch:
    """Apply changes in landing order; `rejected` holds validation errors by job id.

    `check_references` names what the resulting order refers to but the registers lack
    (ArticleMissing, StoreMissing): warnings only, the order is stored all the same.
    """
    states = dict(base)
    batch = AppliedBatch()
    for change in sorted(changes, key=lambda change: change.change_seq):
        errors = rejected.get(change.job_id)
        if errors:
            batch.outcomes.append(_failed(change, errors))
            continue
        outcome, version = _apply_one(change, states.get(change.order_id), resolve_contact)
        if version is not None:
            batch.versions.append(version)
            states[change.order_id] = version.state
        state = states.get(change.order_id)
        if outcome.succeeded and state is not None and not state.is_deleted:
            references = check_references(state.document)
            outcome = dataclasses.replace(outcome, warnings=outcome.warnings + references)
        batch.outcomes.append(outcome)
    return batch


def _apply_one(
    change: LandedChange, stored: OrderState | None, resolve_contact: ContactResolver
) -> tuple[Outcome, OrderVersion | None]:
    current = stored if stored is not None and not stored.is_deleted else None
    if change.if_match is not None and (current is None or current.version_tag != change.if_match):
        return _failed(change, [VERSION_CONFLICT]), None
    if change.change_type == "delete":
        if current is None:
            return _failed(change, [ORDER_NOT_FOUND]), None
        return _new_version(change, stored, current.document, current.contact_id, is_deleted=True)
    if change.change_type in ("create", "replace"):
        return _put(change, stored, current, resolve_contact)
    if current is None:
        return _failed(change, [ORDER_NOT_FOUND]), None
    document = _patched(current.document, change.payload)
    return _changed(change, stored, current, document, resolve_contact)


def _put(
    change: LandedChange,
    stored: OrderState | None,
    current: OrderState | None,
    resolve_contact: ContactResolver,
) -> tuple[Outcome, OrderVersion | None]:
    assert isinstance(change.payload, Order)
    document = order_document(change.payload)
    if current is not None and document != current.document and change.change_type == "create":
        return _failed(change, [ORDER_ALREADY_EXISTS]), None
    return _changed(change, stored, current, document, resolve_contact)


def _changed(
    change: LandedChange,
    stored: OrderState | None,
    current: OrderState | None,
    document: dict[str, Any],
    resolve_contact: ContactResolver,
) -> tuple[Outcome, OrderVersion | None]:
    """A change that yields `document`: a no-op if identical, stale if older, else a version."""
    if current is not None and document == current.document:
        return _succeeded(change, current), None
    if current is not None and _is_stale(change, current):
        return _failed(change, [STALE_CHANGE]), None
    return _new_version(change, stored, document, resolve_contact(document), is_deleted=False)


def _new_version(
    change: LandedChange,
    stored: OrderState | None,
    document: dict[str, Any],
    contact_id: str | None,
    is_deleted: bool,
) -> tuple[Outcome, OrderVersion]:
    state = OrderState(
        order_id=change.order_id,
        version_tag=version_tag_for(change.job_id),
        version_number=(stored.version_number if stored else 0) + 1,
        change_seq=change.change_seq,
        document=document,
        contact_id=contact_id,
        is_deleted=is_deleted,
    )
    version = OrderVersion(state, change.job_id, change.change_type, change.landed_at)
    return _succeeded(change, state), version


def _patched(document: dict[str, Any], payload: Payload | None) -> dict[str, Any]:
    """The document after a change-status or change-delivery."""
    assert isinstance(payload, ChangeStatus | ChangeDelivery)
    fields = payload.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"action"})
    if isinstance(payload, ChangeStatus):
        return {**document, **fields}
    return {**document, "delivery": {**document.get("delivery", {}), **fields}}


def _is_stale(change: LandedChange, current: OrderState) -> bool:
    sent = getattr(change.payload, "last_changed_at", None)
    stored = parse_timestamp(current.document.get("lastChangedAt"))
    return sent is not None and stored is not None and sent < stored


def _succeeded(change: LandedChange, state: OrderState) -> Outcome:
    warnings = () if state.is_deleted or state.contact_id else (CONTACT_MISSING,)
    return Outcome(
        change=change,
        succeeded=True,
        version_tag=state.version_tag,
        contact_id=state.contact_id,
        warnings=warnings,
        action=_embedded_action(change),
    )


def _failed(change: LandedChange, errors: Iterable[FieldError]) -> Outcome:
    """The embedded action is kept with the failure, so it is discarded with a log entry."""
    return Outcome(
        change=change, succeeded=False, errors=tuple(errors), action=_embedded_action(change)
    )


def _embedded_action(change: LandedChange) -> dict[str, Any] | None:
    action = getattr(change.payload, "action", None)
    return action.model_dump(mode="json", by_alias=True, exclude_none=True) if action else None
