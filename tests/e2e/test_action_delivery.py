"""Order actions end to end: accepted by the real intake, queued by processing, delivered by the
real deliver_communications job on the outbox, to a real SMTP server and to a real webhook."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from ingest_api.app import prepare_storage
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_settings
from pipelines.sensors import communications_sensor
from schemas.tables import ORDERS
from storage.communications import due_communications, record_attempt
from storage.db import session_scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.contacts import create_contact
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import (
    JSON,
    change,
    failed_codes,
    order_body,
    post_order,
    put_order,
    succeeded_tag,
)
from tests.support.smtp_server import SmtpServer, running_smtp_server
from tests.support.webhook_server import (
    Reply,
    WebhookServer,
    running_webhook_server,
    signature_is_valid,
)

pytestmark = pytest.mark.without_gold

Process = Callable[[], None]

LENA = "lena.berg@example.org"
SECRET = "whsec-test-123"
AUTOMATIONS = """
fallbackLanguage: en-GB
automations:
  ConfirmOrder:
    channels: [outbox, smtp, webhook]
    templates:
      en-GB:
        subject: "Order {{ order.orderId }} ({{ order.externalStatus }})"
        body: "{% for line in lines %}{{ line.article.sku }};{% endfor %} note={{ data.note }}"
  ConfirmShipment:
    channels: [outbox]
    templates:
      en-GB: {subject: "Shipped {{ order.orderId }}", body: "status={{ order.externalStatus }}"}
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with running_webhook_server() as server:
        yield server


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    lake_uri: str | None,
    smtp: SmtpServer,
    webhook: WebhookServer,
) -> EngageSettings:
    """The intake and the pipeline with every channel configured against the test's servers."""
    automations = tmp_path / "automations.yaml"
    automations.write_text(AUTOMATIONS)
    settings = EngageSettings(
        home=tmp_path / "engage",
        database_url=database_url,
        lake_uri=lake_uri,
        automations_path=automations,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=False,
        smtp_from="shop@example.com",
        webhook_url=webhook.url,
        webhook_secret=SECRET,
        webhook_backoff_seconds=0.01,
    )
    prepare_storage(settings)
    return settings


def lena_order(order_id: str, **changes: Any) -> dict[str, Any]:
    return order_body(order_id, contact={"matchKey": LENA, "matchKeyType": "Email"}, **changes)


def communications(api: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    response = api.get("/communications", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def by_channel(api: httpx.Client, order_id: str) -> dict[str, dict[str, Any]]:
    return {item["channel"]: item for item in communications(api, orderId=order_id)}


def post_action(api: httpx.Client, order_id: str, body: dict[str, Any]) -> str:
    response = api.post(f"/orders/{order_id}/action", content=json.dumps(body), headers=JSON)
    assert response.status_code == 202, response.text
    return response.json()["actionId"]


def deliver(settings: EngageSettings) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("deliver_communications")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


@pytest.fixture
def placed(api: httpx.Client, process: Process) -> str:
    """Lena's order, processed; returns its first versionTag."""
    create_contact(api, {"email": LENA, "firstName": "Lena"})
    job_id = post_order(api, lena_order("A-1", externalStatus="Placed"))
    process()
    return succeeded_tag(api, job_id)


@LAKE_INCIDENTAL
def test_the_message_is_rendered_from_the_version_the_action_named(
    api: httpx.Client,
    process: Process,
    placed: str,
    smtp: SmtpServer,
    webhook: WebhookServer,
) -> None:
    action_id = post_action(
        api, "A-1", {"action": "ConfirmOrder", "versionTag": placed, "data": {"note": "Hi"}}
    )
    # The order changes before the action is delivered: one line only, a new status.
    second = lena_order("A-1", externalStatus="Packed")
    second["lineItems"]["items"] = second["lineItems"]["items"][:1]
    second["lineItems"]["subTotal"] = second["lineItems"]["items"][0]["totalPrice"]
    job_id = put_order(api, second)
    process()  # processing, then delivery
    assert succeeded_tag(api, job_id) != placed

    sent = by_channel(api, "A-1")
    assert {channel: item["status"] for channel, item in sent.items()} == {
        "outbox": "Sent",
        "smtp": "Sent",
        "webhook": "Sent",
    }
    outbox = sent["outbox"]
    assert outbox["versionTag"] == placed
    assert outbox["subject"] == "Order A-1 (Placed)"
    assert outbox["body"] == "7391-RAIN-BLU-L;2210-SOCK-GRY-M; note=Hi"
    [mail] = smtp.received
    assert mail.message["Subject"] == "Order A-1 (Placed)"
    assert mail.message["To"] == LENA
    [request] = webhook.requests
    assert request.headers["idempotency-key"] == action_id
    assert signature_is_valid(SECRET, request.body, request.headers["x-engage-signature"])
    assert request.json()["versionTag"] == placed
    # A second cycle sends nothing again.
    process()
    assert (len(smtp.received), len(webhook.requests)) == (1, 1)


@LAKE_INCIDENTAL
def test_a_stale_version_tag_is_404_after_the_change_is_processed(
    api: httpx.Client, process: Process, placed: str
) -> None:
    job_id = change(api, "A-1", "change-status", {"status": "InProgress", "externalStatus": "X"})
    process()
    current = succeeded_tag(api, job_id)
    stale = api.post(
        "/orders/A-1/action",
        content=json.dumps({"action": "ConfirmOrder", "versionTag": placed}),
        headers=JSON,
    )
    assert stale.status_code == 404, stale.text
    assert post_action(api, "A-1", {"action": "ConfirmOrder", "versionTag": current})


def test_embedded_actions_run_with_the_version_their_change_made(
    api: httpx.Client, process: Process, smtp: SmtpServer
) -> None:
    create_contact(api, {"email": LENA})
    created = post_order(api, lena_order("A-2", action={"action": "ConfirmOrder"}))
    process()
    first = succeeded_tag(api, created)
    shipped = change(
        api,
        "A-2",
        "change-status",
        {
            "status": "InProgress",
            "externalStatus": "Shipped",
            "action": {"action": "ConfirmShipment"},
        },
    )
    process()
    second = succeeded_tag(api, shipped)

    items = communications(api, orderId="A-2")
    messages = {(item["action"], item["channel"]): item for item in items}
    assert messages[("ConfirmOrder", "outbox")]["versionTag"] == first
    assert messages[("ConfirmShipment", "outbox")]["versionTag"] == second
    assert messages[("ConfirmShipment", "outbox")]["body"] == "status=Shipped"
    assert all(item["status"] == "Sent" for item in items)
    assert len(smtp.received) == 1  # ConfirmOrder's e-mail; ConfirmShipment is outbox only


@LAKE_INCIDENTAL
def test_an_embedded_action_that_cannot_run_is_discarded_and_logged(
    api: httpx.Client, process: Process
) -> None:
    create_contact(api, {"email": LENA})
    no_contact = post_order(
        api,
        order_body(
            "A-3",
            contact={"matchKey": "nobody@example.org", "matchKeyType": "Email"},
            action={"action": "ConfirmOrder"},
        ),
    )
    unknown = post_order(api, lena_order("A-4", action={"action": "NoSuchAction"}))
    post_order(api, lena_order("A-5"))
    # A second create of the same order fails when processed (OrderAlreadyExists).
    failed = post_order(
        api, lena_order("A-5", externalStatus="Other", action={"action": "ConfirmOrder"})
    )
    process()
    succeeded_tag(api, no_contact)
    succeeded_tag(api, unknown)
    assert failed_codes(api, failed) == ["OrderAlreadyExists"]
    assert communications(api, orderId="A-3") == []
    log = api.get("/integration-log", params={"type": "Actions"}).json()["items"]
    reasons = {entry["orderId"]: entry["message"] for entry in log}
    assert reasons["A-3"] == (
        "The embedded action ConfirmOrder was discarded: the order's contact is missing."
    )
    assert "no automation defines it" in reasons["A-4"]
    assert reasons["A-5"].endswith("discarded: the change it came with failed.")


@LAKE_INCIDENTAL
def test_a_webhook_that_fails_twice_gets_one_delivery(
    api: httpx.Client, settings: EngageSettings, placed: str, webhook: WebhookServer
) -> None:
    webhook.script(Reply(status=503), Reply(status=500), Reply(status=200))
    action_id = post_action(api, "A-1", {"action": "ConfirmOrder", "versionTag": placed})
    deliver(settings)
    requests = webhook.requests
    assert len(requests) == 3
    assert {request.headers["idempotency-key"] for request in requests} == {action_id}
    assert len({request.body for request in requests}) == 1
    assert all(
        signature_is_valid(SECRET, request.body, request.headers["x-engage-signature"])
        for request in requests
    )
    hook = by_channel(api, "A-1")["webhook"]
    assert (hook["status"], hook["attempts"]) == ("Sent", 3)


@LAKE_INCIDENTAL
def test_a_crash_between_sending_and_recording_never_sends_twice(
    api: httpx.Client,
    settings: EngageSettings,
    placed: str,
    smtp: SmtpServer,
    webhook: WebhookServer,
) -> None:
    """A run recorded the attempts and sent, then died before recording the outcome."""
    post_action(api, "A-1", {"action": "ConfirmOrder", "versionTag": placed})
    with session_scope(settings.resolved_database_url) as session:
        for due in due_communications(session):
            record_attempt(
                session,
                due.communication.id,
                recipient=None,
                subject="as sent",
                body="as sent",
                language="en-GB",
            )
    deliver(settings)  # the retried run

    sent = by_channel(api, "A-1")
    assert sent["smtp"]["status"] == "Failed"
    assert "not sent again" in sent["smtp"]["lastError"]
    assert smtp.received == []  # the retried run sent no (second) e-mail
    assert (sent["outbox"]["status"], sent["outbox"]["attempts"]) == ("Sent", 2)
    # The webhook is tried again: its receiver deduplicates by the idempotency key.
    assert sent["webhook"]["status"] == "Sent"
    assert len(webhook.requests) == 1
    log = api.get("/integration-log", params={"type": "Actions"}).json()["items"]
    assert [entry["code"] for entry in log] == ["SmtpDeliveryFailed"]


@LAKE_INCIDENTAL
def test_the_sensor_starts_delivery_when_communications_are_due(
    api: httpx.Client, settings: EngageSettings, placed: str
) -> None:
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=instance, resources=resources_from_settings(settings)
        )
        return communications_sensor(context)

    assert isinstance(evaluate(), dg.SkipReason)  # nothing queued yet
    post_action(api, "A-1", {"action": "ConfirmOrder", "versionTag": placed})
    due = evaluate()
    assert isinstance(due, dg.SensorResult)
    [request] = due.run_requests
    job = build_definitions(settings).resolve_job_def("deliver_communications")
    assert job.execute_in_process(instance=instance, tags=request.tags).success
    assert isinstance(evaluate(), dg.SkipReason)  # all delivered
    assert {item["status"] for item in communications(api, orderId="A-1")} == {"Sent"}


def age_the_log(settings: EngageSettings, hours: float) -> None:
    """Make every log entry of the lake look `hours` old (maintenance judges entries by age)."""
    moment = time.time() - hours * 3600
    for log_file in Path(settings.resolved_lake_uri).glob("*/*/_delta_log/*"):
        os.utime(log_file, (moment, moment))


@pytest.mark.lake("local")
def test_a_queued_action_is_delivered_after_maintenance_removed_its_order_version(
    api: httpx.Client, settings: EngageSettings, placed: str, smtp: SmtpServer
) -> None:
    """Lake maintenance keeps no old table version for pending actions: each keeps the document
    of the version it is pinned to (issue 9: retention never removes what an action needs).

    Local lake only: the test ages the log by setting file times, which object storage does not
    allow. What it checks (the action's own copy of its document) does not touch the lake."""
    definitions = build_definitions(settings)
    lake = Lake(settings.resolved_lake_uri)
    pinned_version = lake.version(ORDERS)
    post_action(api, "A-1", {"action": "ConfirmOrder", "versionTag": placed, "data": {"note": "x"}})
    put_order(api, lena_order("A-1", externalStatus="Packed"))
    for job in ("process_orders", "maintain_lake"):
        if job == "maintain_lake":
            age_the_log(settings, hours=settings.lake_history_hours + 24)
        result = definitions.resolve_job_def(job).execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        assert result.success

    with pytest.raises(DeltaError):  # the version the action was pinned at is gone
        DeltaTable(lake.uri(ORDERS), version=pinned_version)
    deliver(settings)

    outbox = by_channel(api, "A-1")["outbox"]
    assert (outbox["status"], outbox["versionTag"]) == ("Sent", placed)
    assert outbox["subject"] == "Order A-1 (Placed)"
    [mail] = smtp.received
    assert mail.message["Subject"] == "Order A-1 (Placed)"
