"""GDPR request bodies (SPEC 2.4): what `DELETE /contacts/{id}` and `GET /gdpr/requests/{id}`
answer. Neither carries personal data: the contact appears only as a keyed hash."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_serializer

from schemas.common import ResponseModel, utc_iso


class GdprRequestAccepted(ResponseModel):
    """`DELETE /contacts/{id}` (202): the contact is hidden; erasure follows at `eraseAfter`."""

    request_id: str
    status: str
    erase_after: datetime

    @field_serializer("erase_after")
    def _iso(self, value: datetime) -> str:
        return utc_iso(value)


class GdprRequestOut(ResponseModel):
    """A GDPR request and how far it got; `contactHash` is HMAC-SHA256 of the contact id."""

    request_id: str
    kind: str
    status: str
    requested_at: datetime
    erase_after: datetime
    restored_at: datetime | None
    erased_at: datetime | None
    contact_hash: str

    @field_serializer("requested_at", "erase_after", "restored_at", "erased_at")
    def _iso(self, value: datetime | None) -> str | None:
        return utc_iso(value) if value is not None else None
