"""A real SMTP server (aiosmtpd) on a free loopback port that records what it accepts.

Used to test the smtp channel against the protocol itself: plain delivery, AUTH, STARTTLS with a
self-signed certificate made by the `openssl` command, and scripted rejections.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: the envelope and the raw content."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        """The content parsed with the modern e-mail policy (decoded headers and body)."""
        return cast(EmailMessage, message_from_bytes(self.content, policy=policy.default))


@dataclass
class RecordingHandler:
    """aiosmtpd handler: accepts and records messages, or answers a scripted rejection.

    Set `rcpt_reply` / `data_reply` to a full SMTP reply ("550 5.1.1 ...") to reject at that
    stage; `None` accepts.
    """

    received: list[ReceivedMail] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        self.received.append(
            ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running server: where it listens, what it received, who logged in."""

    host: str
    port: int
    handler: RecordingHandler
    logins: list[str] = field(default_factory=list)

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received


def _authenticator(users: Mapping[str, str], logins: list[str]) -> Any:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        if users.get(login) != auth_data.password.decode():
            return AuthResult(success=False, handled=False)
        logins.append(login)
        return AuthResult(success=True)

    return authenticate


@contextmanager
def running_smtp_server(
    *,
    users: Mapping[str, str] | None = None,
    tls: tuple[Path, Path] | None = None,
    require_starttls: bool = False,
) -> Iterator[SmtpServer]:
    """Serve SMTP on a free loopback port until the block ends.

    `users` (login → password) makes AUTH required; without `tls` AUTH is allowed in plain
    text (test only). `tls` (certificate, key) offers STARTTLS; `require_starttls` refuses mail
    before it.
    """
    handler = RecordingHandler()
    server = SmtpServer(HOST, free_port(), handler)
    options: dict[str, Any] = {"require_starttls": require_starttls}
    if users is not None:
        options |= {
            "authenticator": _authenticator(users, server.logins),
            "auth_required": True,
            "auth_require_tls": tls is not None,
        }
    if tls is not None:
        options["tls_context"] = server_tls_context(*tls)
    controller = Controller(handler, hostname=HOST, port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def self_signed_certificate(directory: Path, host: str = HOST) -> tuple[Path, Path]:
    """A throw-away certificate and key for `host` (as IP and DNS name), made with `openssl`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make a test certificate")
    certificate, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host},DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def server_tls_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context


def client_tls_context(certificate: Path) -> ssl.SSLContext:
    """A client context that trusts exactly this certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certificate))


@contextmanager
def unresponsive_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says anything (to provoke timeouts)."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield listener.getsockname()[1]
