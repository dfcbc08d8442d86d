"""The outbox channel: nothing leaves the system.

The rendered subject and body are stored on the communication row by the caller, which is the
whole delivery; another system (or a person) reads them from there. It is the default channel so a
fresh installation never e-mails real customers by accident.
"""

from __future__ import annotations

from assets.actions.channels.base import DeliveryResult, OutgoingMessage


class OutboxChannel:
    """Succeeds at once; the recipient recorded is the contact's e-mail address, if any."""

    name = "outbox"

    def recipient(self, message: OutgoingMessage) -> str | None:
        return message.recipient

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult.sent()

    def close(self) -> None:
        return None
