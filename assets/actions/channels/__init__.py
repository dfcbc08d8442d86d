"""Delivery channels of order actions: `outbox`, `smtp` and `webhook` (docs/actions.md, "Delivery").

`channels_from_settings` builds the configured ones; `channel_for` looks one up by the name an
automation uses and stands in an `UnconfiguredChannel` (a permanent failure naming the missing
settings) for names that are not configured, so one misconfigured automation fails its own
communications instead of the whole delivery run. `missing_channels` reports those names up
front, e.g. when automations are loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from assets.actions.channels.base import (
    Channel,
    DeliveryResult,
    OutgoingMessage,
    UnconfiguredChannel,
)
from assets.actions.channels.outbox import OutboxChannel
from assets.actions.channels.smtp import SmtpChannel
from assets.actions.channels.webhook import WebhookChannel, signature
from storage.settings import EngageSettings

__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "DeliveryResult",
    "OutboxChannel",
    "OutgoingMessage",
    "SmtpChannel",
    "UnconfiguredChannel",
    "WebhookChannel",
    "channel_for",
    "channels_from_settings",
    "close_channels",
    "missing_channels",
    "signature",
]

CHANNEL_NAMES = ("outbox", "smtp", "webhook")
"""Every channel the product knows; automations may name only these."""

_SETTINGS_HINTS = {
    "smtp": "set ENGAGE_SMTP_HOST",
    "webhook": "set ENGAGE_WEBHOOK_URL",
}


def channels_from_settings(settings: EngageSettings) -> dict[str, Channel]:
    """The configured channels by name: always `outbox`; `smtp` if `smtp_host` is set; `webhook`
    if `webhook_url` is set. Close them with `close_channels` when the run is done."""
    channels: dict[str, Channel] = {"outbox": OutboxChannel()}
    if settings.smtp_host:
        channels["smtp"] = SmtpChannel.from_settings(settings)
    if settings.webhook_url:
        channels["webhook"] = WebhookChannel.from_settings(settings)
    return channels


def channel_for(channels: Mapping[str, Channel], name: str) -> Channel:
    """The channel called `name`, or one whose every send fails permanently saying why."""
    channel = channels.get(name)
    if channel is not None:
        return channel
    if name in _SETTINGS_HINTS:
        return UnconfiguredChannel(name, _SETTINGS_HINTS[name])
    return UnconfiguredChannel(name, f"unknown channel; known: {', '.join(CHANNEL_NAMES)}")


def missing_channels(channels: Mapping[str, Channel], names: Iterable[str]) -> list[str]:
    """Of the channel names automations use, those not configured (sorted, without repeats)."""
    return sorted({name for name in names if name not in channels})


def close_channels(channels: Mapping[str, Channel]) -> None:
    """Close every channel (connection pools); safe to call more than once."""
    for channel in channels.values():
        channel.close()
