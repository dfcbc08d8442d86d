"""The webhook channel: an HTTP POST of the communication as JSON to one configured URL.

Decisions:

- The body is serialised once per `send`, and every attempt posts exactly those bytes, so the
  signature and any receiver-side hashing agree across retries.
- `X-Engage-Signature: sha256=<hex>` is the HMAC-SHA256 of those exact bytes with the shared
  secret; receivers verify it before parsing. Without a secret the header is left out.
- `Idempotency-Key: <actionId>` is the same on every attempt and every delivery run: a request
  that timed out may well have been processed, so retries are only safe because the receiver can
  drop what it has already seen. For the same reason there is no timestamp header: a replayed
  request is a duplicate of an already delivered action, which the key makes harmless.
- Retries happen inside one `send`: up to `max_attempts` attempts with delays of
  `backoff_seconds * 2**n`, on connection errors, timeouts, 408, 429 and 5xx. A 429/503
  `Retry-After` up to `max_retry_after_seconds` is honoured instead of the backoff; a longer one
  ends this run with a transient failure, for a later run to pick up. Any other 4xx, and 3xx
  (the configured URL is wrong), is permanent.
- Errors name the status code or the kind of network failure, never the response body (which may
  echo the payload) nor the URL (which may carry a token).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from assets.actions.channels.base import DeliveryResult, OutgoingMessage
from storage.settings import EngageSettings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Engage-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "engage-orders-webhook/1"
_RETRIED_STATUSES = frozenset({408, 429})


def signature(secret: str | bytes, body: bytes) -> str:
    """The `X-Engage-Signature` value of a body: `sha256=` and the hex HMAC-SHA256."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def encode_payload(message: OutgoingMessage) -> bytes:
    """The request body: compact UTF-8 JSON of `OutgoingMessage.payload()`."""
    return json.dumps(
        message.payload(), ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class _Attempt:
    """The outcome of one POST."""

    ok: bool
    permanent: bool = False
    error: str | None = None
    retry_after: float | None = None


def _response_outcome(response: httpx.Response) -> _Attempt:
    status = response.status_code
    if 200 <= status < 300:
        return _Attempt(ok=True)
    error = f"webhook answered HTTP {status}"
    if status in _RETRIED_STATUSES or status >= 500:
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        return _Attempt(ok=False, error=error, retry_after=retry_after)
    return _Attempt(ok=False, permanent=True, error=error)


def _transport_outcome(exc: httpx.HTTPError) -> _Attempt:
    if isinstance(exc, httpx.TimeoutException):
        return _Attempt(ok=False, error=f"webhook timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return _Attempt(
            ok=False, permanent=True, error=f"webhook request invalid ({type(exc).__name__})"
        )
    return _Attempt(ok=False, error=f"webhook connection failed ({type(exc).__name__})")


def _without_credentials(url: str) -> str | None:
    """The URL without user info, query and fragment (what may be stored as the recipient);
    None if it cannot be parsed (sending then fails permanently anyway)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal keeps its brackets
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class WebhookChannel:
    """POSTs each communication to `url`, signed, with retries (see the module docstring).

    Holds one `httpx.Client` (connection reuse across messages); call `close()` when done.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        secret: SecretStr | str | None,
        timeout_seconds: float = 5.0,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_retry_after_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._url = url
        self._secret = SecretStr(secret) if isinstance(secret, str) else secret
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_retry_after = max_retry_after_seconds
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout_seconds, follow_redirects=False, verify=verify)

    @classmethod
    def from_settings(cls, settings: EngageSettings) -> WebhookChannel:
        """The channel the `ENGAGE_WEBHOOK_*` settings describe; `webhook_url` must be set."""
        if not settings.webhook_url:
            raise ValueError("ENGAGE_WEBHOOK_URL is not set")
        return cls(
            settings.webhook_url,
            secret=settings.webhook_secret,
            timeout_seconds=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            backoff_seconds=settings.webhook_backoff_seconds,
        )

    def recipient(self, message: OutgoingMessage) -> str | None:
        return _without_credentials(self._url)

    def headers(self, message: OutgoingMessage, body: bytes) -> dict[str, str]:
        """The request headers of a message whose encoded body is `body`."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: message.action_id,
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret.get_secret_value(), body)
        return headers

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        body = encode_payload(message)
        headers = self.headers(message, body)
        attempt = 0
        while True:
            attempt += 1
            outcome = self._post(body, headers)
            if outcome.ok:
                return DeliveryResult.sent(attempts=attempt)
            error = outcome.error or "webhook delivery failed"
            delay = self._retry_delay(outcome, attempt)
            if delay is None and not outcome.permanent and attempt < self._max_attempts:
                error = f"{error}; its Retry-After is longer than this run waits"
            if delay is None:
                logger.info("webhook delivery of action %s failed: %s", message.action_id, error)
                return DeliveryResult.failed(error, permanent=outcome.permanent, attempts=attempt)
            logger.info(
                "webhook attempt %d for action %s failed (%s); retrying in %.2fs",
                attempt,
                message.action_id,
                error,
                delay,
            )
            self._sleep(delay)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(self, body: bytes, headers: dict[str, str]) -> _Attempt:
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return _transport_outcome(exc)
        except httpx.InvalidURL:
            return _Attempt(ok=False, permanent=True, error="webhook URL is not valid")
        return _response_outcome(response)

    def _retry_delay(self, outcome: _Attempt, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when this run should stop trying.

        A `Retry-After` longer than `max_retry_after_seconds` stops the run: blocking the
        delivery job for minutes helps nobody, and a later run retries anyway.
        """
        if outcome.permanent or attempt >= self._max_attempts:
            return None
        if outcome.retry_after is None:
            return self._backoff * 2 ** (attempt - 1)
        if outcome.retry_after > self._max_retry_after:
            return None
        return outcome.retry_after
