"""The smtp channel: one e-mail per communication through an SMTP relay.

One connection per message (relays close idle connections, and a delivery run sends few enough
messages that reconnecting is cheap and failure isolation is simpler). Decisions:

- STARTTLS is required when `smtp_starttls` is true: a server that does not offer it is a
  permanent failure rather than a silent fall-back to plain text, which would also be what a
  downgrade attacker wants. An untrusted certificate is permanent too (configuration:
  `ssl_context` / a CA file).
- `Message-ID` is derived from the action id, so a message that was delivered but whose
  acknowledgement was lost (timeout after DATA) and is sent again carries the same id, and the
  receiving side can drop the duplicate.
- `Auto-Submitted: auto-generated` (RFC 3834) keeps vacation responders from answering.
- The body is text/plain UTF-8 in quoted-printable, which passes relays without 8BITMIME.
- Failures: SMTP 5xx, a missing or invalid address and configuration problems are permanent;
  4xx, refused connections, timeouts, DNS and other network errors are transient. Server replies
  are never copied into the error (they usually quote the address); only the reply code and the
  enhanced status code are.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from pydantic import SecretStr

from assets.actions.channels.base import DeliveryResult, OutgoingMessage
from storage.settings import EngageSettings

logger = logging.getLogger(__name__)

_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$")
_FALLBACK_DOMAIN = "engage-orders.invalid"


class _Failure(Exception):
    """A classified delivery failure; its text is already free of personal data."""

    def __init__(self, error: str, *, permanent: bool) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _describe_reply(code: int, reply: bytes | str) -> str:
    """ "550 5.1.1": the reply code and, if present, the enhanced status code; never the text."""
    enhanced = _ENHANCED_STATUS.match(_reply_text(reply))
    return f"{code} {enhanced.group(1)}" if enhanced else str(code)


def _reply_failure(stage: str, code: int, reply: bytes | str) -> _Failure:
    return _Failure(
        f"SMTP {stage} rejected with {_describe_reply(code, reply)}", permanent=code >= 500
    )


def _classify(stage: str, exc: Exception) -> _Failure:
    """Map an smtplib/socket error to a failure; order matters (subclasses first)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (550, b""))
        return _reply_failure("recipient", code, reply)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _reply_failure("sender", exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_failure(stage, exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into "Connection unexpectedly closed"; the timeout is the
        # exception it was raised while handling.
        if isinstance(exc.__context__, TimeoutError):
            return _Failure(f"SMTP {stage}: timed out", permanent=False)
        return _Failure(f"SMTP {stage}: connection closed by the server", permanent=False)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _Failure(
            f"SMTP {stage}: the server does not support a required extension", permanent=True
        )
    if isinstance(exc, smtplib.SMTPException):
        return _Failure(f"SMTP {stage} failed ({type(exc).__name__})", permanent=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(
            "SMTP STARTTLS: the server's certificate is not trusted (CA file / ssl_context)",
            permanent=True,
        )
    if isinstance(exc, ssl.SSLError):
        return _Failure(f"SMTP {stage}: TLS error ({exc.reason})", permanent=False)
    if isinstance(exc, TimeoutError):
        return _Failure(f"SMTP {stage}: timed out", permanent=False)
    if isinstance(exc, ConnectionRefusedError):
        return _Failure(f"SMTP {stage}: connection refused", permanent=False)
    if isinstance(exc, socket.gaierror):
        return _Failure(f"SMTP {stage}: host name not resolved", permanent=False)
    return _Failure(f"SMTP {stage}: network error ({type(exc).__name__})", permanent=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quit_quietly(client: smtplib.SMTP) -> None:
    """End the session; a failing QUIT after an accepted message must not turn into a failure."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


class SmtpChannel:
    """Sends each communication as an e-mail from `sender` to the contact's address."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        starttls: bool = True,
        username: str | None = None,
        password: SecretStr | str | None = None,
        timeout_seconds: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_from = parseaddr(sender)[1] or sender
        self._domain = self._envelope_from.rpartition("@")[2] or _FALLBACK_DOMAIN
        self._starttls = starttls
        self._username = username
        self._password = SecretStr(password) if isinstance(password, str) else password
        self._timeout = timeout_seconds
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._local_hostname = local_hostname

    @classmethod
    def from_settings(
        cls, settings: EngageSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpChannel:
        """The channel the `ENGAGE_SMTP_*` settings describe; `smtp_host` must be set.

        `ssl_context` overrides the CA used for STARTTLS; without it an `smtp_ca_file` setting (if
        the settings have one) is trusted, else the system's CAs.
        """
        if not settings.smtp_host:
            raise ValueError("ENGAGE_SMTP_HOST is not set")
        ca_file = getattr(settings, "smtp_ca_file", None)
        if ssl_context is None and ca_file:
            ssl_context = ssl.create_default_context(cafile=str(ca_file))
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_seconds=settings.smtp_timeout_seconds,
            ssl_context=ssl_context,
        )

    def recipient(self, message: OutgoingMessage) -> str | None:
        return message.recipient

    def message_id(self, action_id: str) -> str:
        """The `Message-ID` of an action's e-mail: the same on every attempt."""
        return f"<{action_id}@{self._domain}>"

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        try:
            email = self._email(message)
            self._deliver(email, self._address(email))
        except _Failure as failure:
            logger.info("smtp delivery of action %s failed: %s", message.action_id, failure.error)
            return DeliveryResult.failed(failure.error, permanent=failure.permanent)
        return DeliveryResult.sent()

    def close(self) -> None:
        return None

    def _email(self, message: OutgoingMessage) -> EmailMessage:
        if not message.recipient:
            raise _Failure("contact has no e-mail address", permanent=True)
        email = EmailMessage()
        try:
            email["To"] = message.recipient
        except ValueError:  # CR/LF in the value
            raise _Failure("contact's e-mail address is not valid", permanent=True) from None
        email["From"] = self._sender
        email["Subject"] = _one_line(message.subject)
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = self.message_id(message.action_id)
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body, charset="utf-8", cte="quoted-printable")
        # After set_content, which replaces every Content-* header.
        if message.language and _LANGUAGE_TAG.match(message.language):
            email["Content-Language"] = message.language
        return email

    @staticmethod
    def _address(email: EmailMessage) -> str:
        """The one valid recipient address of the e-mail, as parsed from its `To` header."""
        header = email["To"]
        addresses = header.addresses
        if header.defects or len(addresses) != 1 or not addresses[0].domain:
            raise _Failure("contact's e-mail address is not valid", permanent=True)
        return addresses[0].addr_spec

    def _deliver(self, email: EmailMessage, address: str) -> None:
        client = self._connect()
        stage = "connect"
        try:
            client.ehlo_or_helo_if_needed()
            if self._starttls:
                stage = "STARTTLS"
                self._upgrade(client)
            if self._username:
                stage = "login"
                self._login(client, self._username)
            stage = "send"
            client.send_message(email, from_addr=self._envelope_from, to_addrs=[address])
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(stage, exc) from None
        finally:
            _quit_quietly(client)

    def _connect(self) -> smtplib.SMTP:
        """Open the session; the host is passed to the constructor because `starttls` checks the
        certificate against the host name the client was constructed with."""
        try:
            return smtplib.SMTP(
                self._host, self._port, timeout=self._timeout, local_hostname=self._local_hostname
            )
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify("connect", exc) from None

    def _login(self, client: smtplib.SMTP, username: str) -> None:
        password = self._password.get_secret_value() if self._password else ""
        try:
            client.login(username, password)
        except UnicodeEncodeError:
            raise _Failure(
                "SMTP login: the user name and password must be ASCII", permanent=True
            ) from None

    def _upgrade(self, client: smtplib.SMTP) -> None:
        if not client.has_extn("starttls"):
            raise _Failure(
                "SMTP STARTTLS: the server does not offer STARTTLS (ENGAGE_SMTP_STARTTLS is true)",
                permanent=True,
            )
        client.starttls(context=self._ssl_context)
        client.ehlo()
