"""`GET /contacts/{contactId}/loyalty`: a contact's points balance, bonus checks and ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from ingest_api.deps import SessionDep, live_contact, require_scope
from ingest_api.paging import DEFAULT_OFFSET, DEFAULT_PAGE, Count, Offset, page_body
from storage.apikeys import Principal, Scope
from storage.loyalty import list_entries, summary
from storage.models import LoyaltyEntry

router = APIRouter(prefix="/contacts", tags=["loyalty"])

Reader = Annotated[Principal, Depends(require_scope(Scope.CONTACTS_READ))]


@router.get("/{contactId}/loyalty", summary="Loyalty balance and ledger of a contact")
def read_loyalty(
    contact_id: Annotated[str, Path(alias="contactId")],
    session: SessionDep,
    _reader: Reader,
    offset: Offset = DEFAULT_OFFSET,
    count: Count = DEFAULT_PAGE,
) -> JSONResponse:
    """Points come from processed receipts only (orders never earn points): purchases on
    bonus-awarding lines earn, returns deduct, and each bonus check uses the threshold's points."""
    contact = live_contact(session, contact_id)
    totals = summary(session, contact.id)
    entries, total = list_entries(session, contact.id, offset, count)
    path = f"/api/v3/contacts/{contact.id}/loyalty"
    return JSONResponse(
        {
            "contactId": contact.id,
            "balance": totals.balance,
            "bonusChecksIssued": totals.bonus_checks_issued,
            "ledger": page_body(
                [_entry(entry) for entry in entries], total, offset, count, path, {}
            ),
        }
    )


def _entry(entry: LoyaltyEntry) -> dict[str, Any]:
    return {
        "entryId": entry.entry_id,
        "uniqueReceiptId": entry.unique_receipt_id,
        "type": entry.entry_type,
        "points": entry.points,
        "balanceAfter": entry.balance_after,
        "occurredAt": entry.occurred_at.isoformat(),
    }
