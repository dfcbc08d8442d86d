"""Channel wiring: the outbox, building channels from settings, unconfigured channel names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from assets.actions.channels import (
    Channel,
    OutboxChannel,
    SmtpChannel,
    UnconfiguredChannel,
    WebhookChannel,
    channel_for,
    channels_from_settings,
    close_channels,
    missing_channels,
)
from assets.actions.channels.webhook import _retry_after_seconds
from storage.settings import EngageSettings
from tests.support.action_messages import ACTION_ID, RECIPIENT, outgoing_message


def bare_settings(**values: object) -> EngageSettings:
    defaults: dict[str, object] = {"smtp_host": None, "webhook_url": None}
    return EngageSettings(**(defaults | values))  # type: ignore[arg-type]


def test_the_outbox_succeeds_and_records_the_contacts_address() -> None:
    outbox = OutboxChannel()
    result = outbox.send(outgoing_message())
    assert (result.ok, result.attempts, result.error) == (True, 1, None)
    assert outbox.recipient(outgoing_message()) == RECIPIENT
    assert outbox.recipient(outgoing_message(recipient=None)) is None
    assert outbox.send(outgoing_message(recipient=None)).ok


def test_only_the_outbox_without_configuration() -> None:
    channels = channels_from_settings(bare_settings())
    assert list(channels) == ["outbox"]
    assert missing_channels(channels, ["outbox", "smtp", "webhook", "smtp"]) == ["smtp", "webhook"]


def test_configured_channels_are_built() -> None:
    channels = channels_from_settings(
        bare_settings(smtp_host="smtp.example.com", webhook_url="https://hooks.example.com/e")
    )
    try:
        assert isinstance(channels["smtp"], SmtpChannel)
        assert isinstance(channels["webhook"], WebhookChannel)
        assert all(isinstance(channel, Channel) for channel in channels.values())
        assert missing_channels(channels, ["smtp", "webhook"]) == []
    finally:
        close_channels(channels)
        close_channels(channels)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("smtp", "ENGAGE_SMTP_HOST"),
        ("webhook", "ENGAGE_WEBHOOK_URL"),
        ("sms", "unknown channel; known: outbox, smtp, webhook"),
    ],
)
def test_an_unconfigured_channel_fails_permanently(name: str, hint: str) -> None:
    channel = channel_for(channels_from_settings(bare_settings()), name)
    assert isinstance(channel, UnconfiguredChannel)
    assert channel.name == name
    result = channel.send(outgoing_message())
    assert (result.ok, result.permanent, result.attempts) == (False, True, 1)
    assert result.error is not None
    assert f"channel {name!r} is not configured" in result.error
    assert hint in result.error


def test_a_message_repr_shows_ids_only() -> None:
    text = repr(outgoing_message())
    assert ACTION_ID in text
    for personal in (RECIPIENT, "Åsa", "Regnjacka", "loyaltyLevel", "lineItems"):
        assert personal not in text


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
    assert _retry_after_seconds("7", now) == 7.0
    assert (
        _retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    )
    assert _retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert _retry_after_seconds("soon", now) is None
    assert _retry_after_seconds(None, now) is None
