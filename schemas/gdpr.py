"""GDPR request bodies (SPEC 2.4): what `DELETE /contacts/{id}`,
`POST /contacts/{id}/personal-data-extract` and `GET /gdpr/requests/{id}` answer. None carries
personal data: the contact appears only as a keyed hash (the extract document itself is served
as stored, see storage.personal_data_extract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, field_serializer, model_serializer

from schemas.common import ResponseModel, utc_iso


class GdprRequestAccepted(ResponseModel):
    """`DELETE /contacts/{id}` (202): the contact is hidden; erasure follows at `eraseAfter`."""

    request_id: str
    status: str
    erase_after: datetime

    @field_serializer("erase_after")
    def _iso(self, value: datetime) -> str:
        return utc_iso(value)


class ExtractRequestAccepted(ResponseModel):
    """`POST /contacts/{id}/personal-data-extract` (202): the extract is being built."""

    request_id: str
    status: str


class GdprRequestOut(ResponseModel):
    """A GDPR request and how far it got; `contactHash` is HMAC-SHA256 of the contact id.

    `completedAt` and `extractUrl` belong to extracts only: they are left out of the answer
    unless set (`completedAt` for every extract, `extractUrl` once its document can be
    downloaded), so an erasure request reads as it always did.
    """

    request_id: str
    kind: str = Field(description="erasure or extract.")
    status: str = Field(
        description="Pending, then Restored or Erased (erasure), Completed or Failed (extract)."
    )
    requested_at: datetime
    erase_after: datetime | None = Field(description="End of the grace period (erasure only).")
    restored_at: datetime | None
    erased_at: datetime | None
    contact_hash: str
    reason: str = Field(default="request", description="request (the contact asked) or inactivity.")
    run_id: str | None = Field(
        default=None, description="The Dagster run that last worked on the request."
    )
    audit: dict[str, Any] | None = Field(
        default=None,
        description=(
            "What erasure removed (erased requests): `lake` rows of the contact and files and "
            "log entries removed per table, `database` rows per table. Counts only."
        ),
    )
    completed_at: datetime | None = Field(
        default=None, description="When the extract was ready (extract only)."
    )
    extract_url: str | None = Field(
        default=None, description="Where to download the completed extract (extract only)."
    )

    @field_serializer("requested_at", "erase_after", "restored_at", "erased_at", "completed_at")
    def _iso(self, value: datetime | None) -> str | None:
        return utc_iso(value) if value is not None else None

    # No return annotation on purpose: with one, pydantic would describe the answer in OpenAPI
    # by that annotation (a bare object) instead of by these fields.
    @model_serializer(mode="wrap")
    def _leave_out_unset_extract_fields(self, handler: SerializerFunctionWrapHandler):
        data: dict[str, Any] = handler(self)
        for name in ("completed_at", "extract_url"):
            if name not in self.model_fields_set:
                data.pop(name, None)
                data.pop(type(self).model_fields[name].alias or name, None)
        return data
