"""Registering landed receipt submissions: each uniqueReceiptId once, the first landing winning.

Free of Dagster and storage, like the orders' `changes.py`: given the submissions of a batch, the
receipts registered before it, and what processing looked up (contacts, warnings), it returns the
receipts to register and one outcome per submission. The result depends only on its inputs, so a
batch re-run after a crash registers exactly the same receipts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from schemas.orders import ContactReference
from schemas.problems import FieldError, ProcessingWarning
from schemas.receipts import Receipt, receipt_document

ContactResolver = Callable[[ContactReference | None], str | None]
"""Finds the live contact a receipt names, or None (also when it names none)."""

CONTACT_MISSING = ProcessingWarning("ContactMissing", "Contact is missing")
DUPLICATE_DIFFERS = ProcessingWarning(
    "DuplicateDiffers",
    "A receipt with this uniqueReceiptId was registered before with other content; "
    "this submission was ignored.",
)


@dataclass(frozen=True)
class Submission:
    """One landed POST /receipts, parsed again with the intake's model."""

    job_id: str
    unique_receipt_id: str
    api_key_id: str
    change_seq: int
    landed_at: datetime
    receipt: Receipt | None
    """None when the body failed validation (`errors` say why)."""
    errors: tuple[FieldError, ...] = ()

    @cached_property
    def document(self) -> dict[str, Any]:
        """The receipt's canonical JSON (only for a submission that parsed)."""
        assert self.receipt is not None
        return receipt_document(self.receipt)


@dataclass(frozen=True)
class RegisteredReceipt:
    submission: Submission
    contact_id: str | None


@dataclass(frozen=True)
class SubmissionOutcome:
    submission: Submission
    succeeded: bool
    duplicate: bool = False
    contact_id: str | None = None
    errors: tuple[FieldError, ...] = ()
    warnings: tuple[ProcessingWarning, ...] = ()


@dataclass
class RegisteredBatch:
    receipts: list[RegisteredReceipt] = field(default_factory=list)
    outcomes: list[SubmissionOutcome] = field(default_factory=list)


def canonical_json(document: dict[str, Any]) -> str:
    """The stored form of a receipt document; equal content gives equal text."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def register_receipts(
    submissions: Iterable[Submission],
    registered: Mapping[str, str],
    resolve_contact: ContactResolver,
    warnings: Mapping[str, tuple[ProcessingWarning, ...]],
) -> RegisteredBatch:
    """Register the batch in landing order.

    `registered` maps the ids of receipts registered before the batch to their stored document;
    `warnings` holds, by job id, what the checks and register look-ups found. A submission whose id
    is registered already, before or earlier in the batch, succeeds as a duplicate and registers
    nothing; it gets none of the receipt's warnings, which belong to the registered one.
    """
    documents = dict(registered)
    batch = RegisteredBatch()
    for submission in sorted(submissions, key=lambda submission: submission.change_seq):
        if submission.receipt is None:
            batch.outcomes.append(
                SubmissionOutcome(submission, succeeded=False, errors=submission.errors)
            )
            continue
        document = canonical_json(submission.document)
        stored = documents.get(submission.unique_receipt_id)
        if stored is not None:
            differs = (DUPLICATE_DIFFERS,) if stored != document else ()
            batch.outcomes.append(
                SubmissionOutcome(submission, succeeded=True, duplicate=True, warnings=differs)
            )
            continue
        documents[submission.unique_receipt_id] = document
        contact_id = resolve_contact(submission.receipt.contact)
        found = () if contact_id else (CONTACT_MISSING,)
        batch.receipts.append(RegisteredReceipt(submission, contact_id))
        batch.outcomes.append(
            SubmissionOutcome(
                submission,
                succeeded=True,
                contact_id=contact_id,
                warnings=found + warnings.get(submission.job_id, ()),
            )
        )
    return batch
