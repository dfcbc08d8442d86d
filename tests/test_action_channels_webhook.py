"""The webhook channel against a real HTTP server: signing, idempotency, retries, failures."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from assets.actions.channels import WebhookChannel, signature
from assets.actions.channels.webhook import encode_payload
from storage.settings import EngageSettings
from tests.support.action_messages import (
    ACTION_ID,
    BODY,
    SUBJECT,
    assert_no_personal_data,
    example_order,
    outgoing_message,
)
from tests.support.smtp_server import free_port
from tests.support.webhook_server import (
    Reply,
    WebhookServer,
    running_webhook_server,
    signature_is_valid,
)

SECRET = "s3cret-för-test"


@pytest.fixture
def receiver() -> Iterator[WebhookServer]:
    with running_webhook_server() as server:
        yield server


class Sleeps:
    """Records the delays asked for instead of waiting them (the requests are real)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def channel(url: str, sleeps: Sleeps | None = None, **options: object) -> WebhookChannel:
    settings: dict[str, object] = {
        "secret": SECRET,
        "timeout_seconds": 2.0,
        "max_attempts": 4,
        "backoff_seconds": 0.25,
    }
    return WebhookChannel(url, sleep=sleeps or Sleeps(), **(settings | options))  # type: ignore[arg-type]


def test_retries_server_errors_then_delivers_once_signed(receiver: WebhookServer) -> None:
    receiver.script(Reply(500), Reply(502))
    sleeps = Sleeps()
    with channel(receiver.url, sleeps) as webhook:
        result = webhook.send(outgoing_message())
    assert result.ok
    assert result.attempts == 3
    assert result.error is None
    assert sleeps.delays == [0.25, 0.5]
    requests = receiver.requests
    assert len(requests) == 3
    assert len({request.body for request in requests}) == 1, "every attempt posts the same bytes"
    for request in requests:
        assert request.path == "/hooks/engage"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["idempotency-key"] == ACTION_ID
        expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-engage-signature"] == f"sha256={expected}"
        assert signature_is_valid(SECRET, request.body, request.headers["x-engage-signature"])


def test_the_body_carries_the_message_and_the_pinned_order(receiver: WebhookServer) -> None:
    with channel(receiver.url) as webhook:
        assert webhook.send(outgoing_message()).ok
    [request] = receiver.requests
    assert "Åsa".encode() in request.body, "UTF-8, not \\u escapes"
    assert request.json() == {
        "actionId": ACTION_ID,
        "action": "ConfirmOrder",
        "orderId": "WEB-2025-000481",
        "versionTag": "v-2",
        "contactId": "7d3c1e2a-0000-4000-8000-000000000042",
        "language": "sv-SE",
        "subject": SUBJECT,
        "body": BODY,
        "data": {"loyaltyLevel": "Guld"},
        "order": example_order(),
    }
    assert request.body == encode_payload(outgoing_message())
    assert request.headers["x-engage-signature"] == signature(SECRET, request.body)


def test_a_client_error_is_permanent_and_not_retried(receiver: WebhookServer) -> None:
    receiver.script(Reply(400, body=b'{"error": "bad asa.ostberg@example.org"}'))
    sleeps = Sleeps()
    with channel(receiver.url, sleeps) as webhook:
        result = webhook.send(outgoing_message())
    assert not result.ok
    assert result.permanent
    assert result.attempts == 1
    assert result.error == "webhook answered HTTP 400"
    assert sleeps.delays == []
    assert len(receiver.requests) == 1
    assert_no_personal_data(result)


def test_a_redirect_is_permanent(receiver: WebhookServer) -> None:
    receiver.script(Reply(301, headers={"Location": "https://elsewhere.example/"}))
    with channel(receiver.url) as webhook:
        result = webhook.send(outgoing_message())
    assert (result.ok, result.permanent, result.attempts) == (False, True, 1)


def test_a_timeout_is_retried(receiver: WebhookServer) -> None:
    receiver.script(Reply(200, delay_seconds=3.0))
    sleeps = Sleeps()
    with channel(receiver.url, sleeps, timeout_seconds=0.3) as webhook:
        result = webhook.send(outgoing_message())
    assert result.ok
    assert result.attempts == 2
    assert sleeps.delays == [0.25]
    requests = receiver.requests
    assert [request.headers["idempotency-key"] for request in requests] == [ACTION_ID] * 2


def test_429_waits_as_long_as_retry_after_says(receiver: WebhookServer) -> None:
    receiver.script(Reply(429, headers={"Retry-After": "2"}), Reply(503))
    sleeps = Sleeps()
    with channel(receiver.url, sleeps) as webhook:
        result = webhook.send(outgoing_message())
    assert result.ok
    assert result.attempts == 3
    assert sleeps.delays == [2.0, 0.5]


def test_a_long_retry_after_ends_the_run_transiently(receiver: WebhookServer) -> None:
    receiver.script(Reply(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()
    with channel(receiver.url, sleeps) as webhook:
        result = webhook.send(outgoing_message())
    assert not result.ok
    assert not result.permanent
    assert result.attempts == 1
    assert result.error is not None
    assert result.error.startswith("webhook answered HTTP 429")
    assert sleeps.delays == []


def test_gives_up_transiently_after_max_attempts(receiver: WebhookServer) -> None:
    receiver.script(*[Reply(503)] * 5)
    sleeps = Sleeps()
    with channel(receiver.url, sleeps, max_attempts=3, backoff_seconds=1.0) as webhook:
        result = webhook.send(outgoing_message())
    assert (result.ok, result.permanent, result.attempts) == (False, False, 3)
    assert result.error == "webhook answered HTTP 503"
    assert sleeps.delays == [1.0, 2.0]
    assert len(receiver.requests) == 3


def test_a_refused_connection_is_retried_then_transient() -> None:
    sleeps = Sleeps()
    with channel(f"http://127.0.0.1:{free_port()}/hook", sleeps, max_attempts=2) as webhook:
        result = webhook.send(outgoing_message())
    assert (result.ok, result.permanent, result.attempts) == (False, False, 2)
    assert result.error == "webhook connection failed (ConnectError)"
    assert sleeps.delays == [0.25]


def test_real_backoff_sleeps(receiver: WebhookServer) -> None:
    receiver.script(Reply(500))
    webhook = WebhookChannel(receiver.url, secret=SECRET, backoff_seconds=0.05, max_attempts=2)
    with webhook:
        assert webhook.send(outgoing_message()).attempts == 2


def test_without_a_secret_there_is_no_signature(receiver: WebhookServer) -> None:
    with channel(receiver.url, secret=None) as webhook:
        assert webhook.send(outgoing_message()).ok
    assert "x-engage-signature" not in receiver.requests[0].headers


@pytest.mark.parametrize(
    ("url", "recorded"),
    [
        (
            "https://user:pw@hooks.example.com:8443/engage?token=abc#x",
            "https://hooks.example.com:8443/engage",
        ),
        ("http://[::1]:8080/hook?k=v", "http://[::1]:8080/hook"),
    ],
)
def test_the_recipient_recorded_has_no_credentials(url: str, recorded: str) -> None:
    with channel(url) as webhook:
        assert webhook.recipient(outgoing_message()) == recorded


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "hooks.example.com/x", "http://[::1/x"]
)
def test_an_unusable_url_is_permanent(url: str) -> None:
    sleeps = Sleeps()
    with channel(url, sleeps) as webhook:
        webhook.recipient(outgoing_message())
        result = webhook.send(outgoing_message())
    assert (result.ok, result.permanent, result.attempts) == (False, True, 1)
    assert sleeps.delays == []


def test_settings_build_the_channel(receiver: WebhookServer) -> None:
    settings = EngageSettings(
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_max_attempts=2,
        webhook_backoff_seconds=0.01,
        webhook_timeout_seconds=2,
    )
    receiver.script(Reply(500), Reply(500))
    with WebhookChannel.from_settings(settings) as webhook:
        result = webhook.send(outgoing_message())
    assert (result.ok, result.attempts) == (False, 2)
    assert signature_is_valid(
        SECRET, receiver.requests[0].body, receiver.requests[0].headers["x-engage-signature"]
    )
