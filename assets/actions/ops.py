"""The delivery step the `deliver_communications` job runs: every due communication, once."""

import dagster as dg

from assets.actions.channels import channels_from_settings, close_channels
from assets.actions.delivery import RetryPolicy, deliver_due
from assets.resources import ActionChannels, AutomationsConfig, OperationalDatabase


@dg.op(
    description=(
        "Render every queued communication from its pinned order version and send it on its "
        "channel (outbox, smtp, webhook); the attempt is recorded before sending and the outcome "
        "after, so a crashed run that is retried never sends an e-mail twice."
    ),
)
def deliver_queued_communications(
    context: dg.OpExecutionContext,
    database: OperationalDatabase,
    automations: AutomationsConfig,
    action_channels: ActionChannels,
) -> None:
    settings = action_channels.channel_settings()
    channels = channels_from_settings(settings)
    retry = RetryPolicy(settings.smtp_max_attempts, settings.smtp_backoff_seconds)
    try:
        with database.session() as session:
            summary = deliver_due(session, automations.load(), channels, retry)
    finally:
        close_channels(channels)
    context.add_output_metadata(
        {"sent": summary.sent, "failed": summary.failed, **summary.by_channel}
    )
    if summary.failed:
        context.log.warning(f"{summary.failed} communication(s) failed; see GET /communications")
