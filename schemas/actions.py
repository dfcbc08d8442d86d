"""Order actions (SPEC 2.2): the `POST /orders/{orderId}/action` body, its 202 answer, and the
communications `GET /communications` lists."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from schemas.common import ResponseModel
from schemas.orders import EmbeddedAction
from schemas.paging import Link

if TYPE_CHECKING:
    from storage.models import Communication

VERSION_TAG_PATTERN = r"^[\x21-\x7e]{1,64}$"
"""A versionTag as sent back: opaque, but printable ASCII without spaces (ours are base64).
Anything else cannot be one of ours, so it is a format error rather than a 404."""


class ActionRequest(EmbeddedAction):
    """`{"action", "versionTag", "language"?, "data"?}`: the embedded action's fields plus the
    order version it is about. That version must be the order's current one when the request
    arrives; the communication is rendered from exactly that version."""

    version_tag: Annotated[str, Field(pattern=VERSION_TAG_PATTERN)]


class ActionAccepted(ResponseModel):
    """202 body: the action is committed in the operational database and will be delivered."""

    action_id: str
    links: list[Link] = Field(
        description="`communications`: its communications and their delivery status."
    )


class CommunicationOut(ResponseModel):
    """One action's message on one channel and where its delivery stands."""

    communication_id: int
    action_id: str
    action: str = Field(description="The action's name, e.g. ConfirmOrder.")
    channel: str = Field(description="outbox, smtp or webhook.")
    status: str = Field(description="Queued, Sending, Sent or Failed.")
    attempts: int = Field(description="Delivery attempts so far.")
    order_id: str
    contact_id: str
    version_tag: str = Field(description="The order version the message is rendered from.")
    language: str | None = Field(description="Language of the rendered template.")
    recipient: str | None = Field(description="E-mail address or URL, once rendered.")
    subject: str | None = Field(description="Rendered subject; null until rendered.")
    body: str | None = Field(description="Rendered body; null until rendered.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, communication: Communication, action: str) -> CommunicationOut:
        """The stored communication as `GET /communications` and the personal data extract show
        it; `action` is its action's name."""
        stored = set(cls.model_fields) - {"communication_id", "action"}
        fields = {name: getattr(communication, name) for name in stored}
        return cls(communication_id=communication.id, action=action, **fields)
