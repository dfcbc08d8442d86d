"""What every delivery channel shares: the message going out, the outcome, and the protocol.

A channel's `send` never raises for a delivery problem: it answers a `DeliveryResult` that says
whether the message went out, how many attempts it took and, if not, whether trying again later
can help (`permanent`). The caller records that on the communication row; the channel itself
keeps no state between messages.

Error texts are stored (`communications.last_error`) and logged, so they never contain personal
data: no addresses, no subjects or bodies, no server replies (an SMTP server's reply usually
quotes the recipient's address).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered communication of one action, ready for any channel.

    Personal fields are left out of `repr`, so logging a message by mistake shows only ids.
    """

    action_id: str
    action: str
    order_id: str
    version_tag: str
    contact_id: str
    recipient: str | None = field(repr=False)
    """The contact's e-mail address, if the contact has one."""
    subject: str = field(repr=False)
    body: str = field(repr=False)
    language: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The action's `data` object."""
    order: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The pinned order version (Orders v3 document)."""

    def payload(self) -> dict[str, Any]:
        """The JSON object a webhook receives (field names follow the Engage API's camelCase)."""
        return {
            "actionId": self.action_id,
            "action": self.action,
            "orderId": self.order_id,
            "versionTag": self.version_tag,
            "contactId": self.contact_id,
            "language": self.language,
            "subject": self.subject,
            "body": self.body,
            "data": dict(self.data),
            "order": dict(self.order),
        }


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one `Channel.send`.

    `attempts` counts the tries this call made (at least 1, also when a precondition failed before
    anything was contacted), so the caller can add it to `communications.attempts`. `permanent`
    is only meaningful when `ok` is false: retrying will not help without a change (bad address,
    5xx, missing configuration); otherwise a later delivery run may try again.
    """

    ok: bool
    permanent: bool = False
    attempts: int = 1
    error: str | None = None

    @classmethod
    def sent(cls, attempts: int = 1) -> DeliveryResult:
        return cls(ok=True, attempts=attempts)

    @classmethod
    def failed(cls, error: str, *, permanent: bool, attempts: int = 1) -> DeliveryResult:
        return cls(ok=False, permanent=permanent, attempts=attempts, error=error)


@runtime_checkable
class Channel(Protocol):
    """A way a communication leaves the system (or, for the outbox, does not)."""

    name: str

    def recipient(self, message: OutgoingMessage) -> str | None:
        """What `communications.recipient` records: the address or URL the message goes to.

        Known before sending, so it can be recorded with the `Sending` status.
        """
        ...

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Deliver the message; never raises for delivery problems."""
        ...

    def close(self) -> None:
        """Release connections held between messages (idempotent)."""
        ...


class UnconfiguredChannel:
    """Stands in for a channel an automation names but the settings do not configure.

    Every send fails permanently with a message naming the settings to set, so a misconfigured
    automation shows up on each communication instead of crashing the delivery run.
    """

    def __init__(self, name: str, hint: str) -> None:
        self.name = name
        self._hint = hint

    def recipient(self, message: OutgoingMessage) -> str | None:
        return None

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult.failed(
            f"channel {self.name!r} is not configured ({self._hint})", permanent=True
        )

    def close(self) -> None:
        return None
