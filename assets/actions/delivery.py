"""Delivery of queued communications: render from the pinned order version, send, record.

Each communication is rendered from the order version its action pinned, with the contact as it
is now and the action's data; the attempt is committed before anything is sent and the outcome
after (storage.communications). So a run that crashes mid-way and is run again never sends an
e-mail twice: a communication it finds still "Sending" was perhaps sent, and only channels whose
receivers deduplicate by the action id (webhook) or that send nothing outside (outbox) try again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from assets.actions.channels import Channel, DeliveryResult, OutgoingMessage, channel_for
from assets.actions.rendering import RenderError, contact_context, message_context, render
from schemas.automations import Automations
from storage.communications import (
    DueCommunication,
    due_communications,
    record_attempt,
    record_failure,
    record_sent,
)
from storage.integration_log import LogEntry, write_entries
from storage.models import Contact

log = logging.getLogger(__name__)

RESENDABLE_AFTER_CRASH = frozenset({"outbox", "webhook"})
"""Channels safe to try again when a crash left the outcome unknown."""
INTERRUPTED = "interrupted while sending; not sent again so that it cannot arrive twice"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts for transient failures of channels that do not retry themselves (SMTP)."""

    max_attempts: int = 3
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


def deliver_due(
    session: Session,
    automations: Automations,
    channels: Mapping[str, Channel],
    retry: RetryPolicy | None = None,
    limit: int = 500,
) -> DeliverySummary:
    """Deliver up to `limit` due communications, oldest first."""
    retry = retry or RetryPolicy()
    summary = DeliverySummary()
    for due in due_communications(session, limit):
        ok = _deliver_one(session, due, automations, channels, retry)
        if ok:
            summary.sent += 1
            channel = due.communication.channel
            summary.by_channel[channel] = summary.by_channel.get(channel, 0) + 1
        else:
            summary.failed += 1
    return summary


def _deliver_one(
    session: Session,
    due: DueCommunication,
    automations: Automations,
    channels: Mapping[str, Channel],
    retry: RetryPolicy,
) -> bool:
    communication = due.communication
    if due.interrupted and communication.channel not in RESENDABLE_AFTER_CRASH:
        return _fail(session, due, INTERRUPTED)
    prepared = _prepare(session, due, automations)
    if isinstance(prepared, str):
        return _fail(session, due, prepared)
    message, language = prepared
    channel = channel_for(channels, communication.channel)
    record_attempt(
        session,
        communication.id,
        recipient=channel.recipient(message),
        subject=message.subject,
        body=message.body,
        language=language,
    )
    result = _send(channel, message, retry)
    if result.ok:
        record_sent(session, communication.id, retries=result.attempts - 1)
        log.info("communication %s sent on %s", communication.id, communication.channel)
        return True
    return _fail(session, due, result.error or "failed", retries=result.attempts - 1)


def _prepare(
    session: Session, due: DueCommunication, automations: Automations
) -> tuple[OutgoingMessage, str] | str:
    """The message to send and its language, or why it cannot be made."""
    action = due.action
    if automations.find(action.action) is None:
        return f"no automation defines the action {action.action} any more"
    contact = session.get(Contact, action.contact_id)
    if contact is None or contact.deleted_at is not None:
        return "the contact was deleted"
    chosen = automations.template_for(action.action, action.language)
    document = json.loads(action.document)
    data = json.loads(action.data) if action.data else {}
    context = message_context(
        action, document, contact_context(contact), data, language=chosen.language
    )
    try:
        rendered = render(chosen.template, context)
    except RenderError as error:
        return f"the template could not be rendered: {error}"
    message = OutgoingMessage(
        action_id=action.action_id,
        action=action.action,
        order_id=action.order_id,
        version_tag=action.version_tag,
        contact_id=action.contact_id,
        recipient=contact.email,
        subject=rendered.subject,
        body=rendered.body,
        language=chosen.language,
        data=data,
        order=document,
    )
    return message, chosen.language


def _send(channel: Channel, message: OutgoingMessage, retry: RetryPolicy) -> DeliveryResult:
    """Send, retrying transient failures with exponential backoff; webhooks retry themselves."""
    attempts = 0
    delay = retry.backoff_seconds
    while True:
        result = channel.send(message)
        attempts += result.attempts
        if result.ok or result.permanent or channel.name == "webhook":
            break
        if attempts >= retry.max_attempts:
            break
        retry.sleep(delay)
        delay *= 2
    return DeliveryResult(result.ok, result.permanent, attempts, result.error)


def _fail(session: Session, due: DueCommunication, error: str, retries: int = 0) -> bool:
    """Record a final failure, in the communication and in the integration log (type Actions)."""
    communication, action = due.communication, due.action
    record_failure(session, communication.id, error, retries=retries)
    entry = LogEntry(
        type="Actions",
        severity="Error",
        code=f"{communication.channel.capitalize()}DeliveryFailed",
        message=f"The {action.action} communication on {communication.channel} failed: {error}.",
        job_id=action.action_id,
        order_id=action.order_id,
    )
    write_entries(session, [entry])
    session.commit()
    log.warning("communication %s on %s failed: %s", communication.id, communication.channel, error)
    return False
