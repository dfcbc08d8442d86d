"""The smtp channel against a real SMTP server (aiosmtpd): delivery, AUTH, STARTTLS, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.actions.channels import SmtpChannel
from storage.settings import EngageSettings
from tests.support.action_messages import (
    ACTION_ID,
    BODY,
    RECIPIENT,
    SUBJECT,
    assert_no_personal_data,
    outgoing_message,
)
from tests.support.smtp_server import (
    HOST,
    client_tls_context,
    free_port,
    running_smtp_server,
    self_signed_certificate,
    unresponsive_port,
)

SENDER = "Butiken <no-reply@shop.example.com>"

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def channel(port: int, **options: object) -> SmtpChannel:
    settings: dict[str, object] = {"sender": SENDER, "starttls": False, "timeout_seconds": 5.0}
    return SmtpChannel(HOST, port, **(settings | options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def test_delivers_a_utf8_message_with_a_stable_message_id() -> None:
    with running_smtp_server() as server:
        result = channel(server.port).send(outgoing_message())
    assert result.ok
    assert result.attempts == 1
    assert result.error is None
    [mail] = server.received
    assert mail.mail_from == "no-reply@shop.example.com"
    assert mail.rcpt_tos == (RECIPIENT,)
    message = mail.message
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == f"<{ACTION_ID}@shop.example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "sv-SE"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert mail.content.isascii(), "quoted-printable keeps the message 7-bit clean"


def test_the_recipient_recorded_is_the_contacts_address() -> None:
    assert channel(25).recipient(outgoing_message()) == RECIPIENT


def test_logs_in_when_a_username_is_set() -> None:
    with running_smtp_server(users={"engage": "hemligt-123"}) as server:
        result = channel(server.port, username="engage", password="hemligt-123").send(
            outgoing_message()
        )
    assert result.ok
    assert server.logins == ["engage"]
    assert len(server.received) == 1


def test_non_ascii_credentials_fail_clearly() -> None:
    with running_smtp_server(users={"engage": "hemligt-lösen"}) as server:
        result = channel(server.port, username="engage", password="hemligt-lösen").send(
            outgoing_message()
        )
    assert not result.ok
    assert result.permanent
    assert result.error == "SMTP login: the user name and password must be ASCII"


def test_a_wrong_password_is_permanent() -> None:
    with running_smtp_server(users={"engage": "hemligt"}) as server:
        result = channel(server.port, username="engage", password="fel").send(outgoing_message())
    assert not result.ok
    assert result.permanent
    assert result.error is not None
    assert result.error.startswith("SMTP login rejected with 535")
    assert "fel" not in result.error
    assert server.received == []


def test_starttls_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    with running_smtp_server(
        users={"engage": "hemligt"}, tls=certificate, require_starttls=True
    ) as server:
        smtp = channel(
            server.port,
            starttls=True,
            ssl_context=client_tls_context(certificate[0]),
            username="engage",
            password="hemligt",
        )
        result = smtp.send(outgoing_message())
    assert result.ok, result.error
    assert server.logins == ["engage"]
    assert server.received[0].message["Subject"] == SUBJECT


def test_settings_build_a_starttls_channel(certificate: tuple[Path, Path]) -> None:
    with running_smtp_server(tls=certificate, require_starttls=True) as server:
        settings = EngageSettings(
            smtp_host=HOST,
            smtp_port=server.port,
            smtp_starttls=True,
            smtp_from="no-reply@shop.example.com",
            smtp_timeout_seconds=5,
        )
        smtp = SmtpChannel.from_settings(settings, ssl_context=client_tls_context(certificate[0]))
        result = smtp.send(outgoing_message())
    assert result.ok, result.error
    assert server.received[0].mail_from == "no-reply@shop.example.com"


def test_an_untrusted_certificate_is_permanent(certificate: tuple[Path, Path]) -> None:
    with running_smtp_server(tls=certificate, require_starttls=True) as server:
        result = channel(server.port, starttls=True).send(outgoing_message())
    assert not result.ok
    assert result.permanent
    assert result.error is not None
    assert "certificate is not trusted" in result.error
    assert server.received == []


def test_starttls_required_but_not_offered_is_permanent() -> None:
    with running_smtp_server() as server:
        result = channel(server.port, starttls=True).send(outgoing_message())
    assert not result.ok
    assert result.permanent
    assert result.error is not None
    assert "does not offer STARTTLS" in result.error
    assert server.received == []


def test_a_rejected_recipient_is_permanent_and_the_reply_is_not_copied() -> None:
    with running_smtp_server() as server:
        server.handler.rcpt_reply = f"550 5.1.1 <{RECIPIENT}>: Recipient address rejected"
        result = channel(server.port).send(outgoing_message())
    assert not result.ok
    assert result.permanent
    assert result.error == "SMTP recipient rejected with 550 5.1.1"
    assert_no_personal_data(result)


def test_a_4xx_reply_is_transient() -> None:
    with running_smtp_server() as server:
        server.handler.data_reply = "451 4.3.0 Temporary local problem, try again"
        result = channel(server.port).send(outgoing_message())
    assert not result.ok
    assert not result.permanent
    assert result.error == "SMTP send rejected with 451 4.3.0"


def test_a_refused_connection_is_transient() -> None:
    result = channel(free_port()).send(outgoing_message())
    assert not result.ok
    assert not result.permanent
    assert result.attempts == 1
    assert result.error == "SMTP connect: connection refused"


def test_a_silent_server_times_out_transiently() -> None:
    with unresponsive_port() as port:
        result = channel(port, timeout_seconds=0.3).send(outgoing_message())
    assert not result.ok
    assert not result.permanent
    assert result.error == "SMTP connect: timed out"


@pytest.mark.parametrize("recipient", [None, "", "not an address", "a@b.example\nBcc: x@y.z"])
def test_a_missing_or_invalid_address_is_permanent(recipient: str | None) -> None:
    with running_smtp_server() as server:
        result = channel(server.port).send(outgoing_message(recipient=recipient))
    assert not result.ok
    assert result.permanent
    expected = "contact has no e-mail address" if not recipient else "not valid"
    assert result.error is not None
    assert expected in result.error
    assert server.received == []
