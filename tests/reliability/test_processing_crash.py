"""`engage-orders process` killed with SIGKILL at several points, then run again, ends exactly
as an uninterrupted run of the same landed data: tables, versions and versionTags, job statuses,
queued and sent communications (e-mails received by a real SMTP server).

One installation is copied after the intake landed everything. The copy is processed without
interruption. The original is processed by a chain of runs that each die at the next point
(a recovery run dying in turn), then by one that finishes. Each crash is a real SIGKILL of the
whole process (tests/support/instrumented_process.py); Dagster's runs are left STARTED holding their
pool slots, as after a power cut.

SQLite only: the comparison copies the installation, database file included.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import text

from ingest_api.app import prepare_storage
from pipelines.pool_slots import PROCESS_TAG
from pipelines.processing import process_pending
from schemas.tables import ORDER_CHANGE_OUTCOMES, ORDER_LINES, ORDER_VERSIONS, ORDERS
from storage.apikeys import Scope
from storage.db import engine_for, session_scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import create_contact
from tests.support.orders import change, order_body, post_order, put_order
from tests.support.processing_runs import dagster_home, finish, open_instance, start_process
from tests.support.server import client, running_intake
from tests.support.smtp_server import SmtpServer, running_smtp_server

CRASH_POINTS = ["after-validation", "mid-merges", "before-job-statuses"]
LENA = "lena.berg@example.org"
ORDERS_POSTED = 8
AUTOMATIONS = """
fallbackLanguage: en-GB
automations:
  ConfirmOrder:
    channels: [outbox, smtp]
    templates:
      en-GB:
        subject: "Order {{ order.orderId }} ({{ order.externalStatus }})"
        body: "{% for line in lines %}{{ line.article.sku }};{% endfor %}"
  ConfirmShipment:
    channels: [smtp]
    templates:
      en-GB: {subject: "Shipped {{ order.orderId }}", body: "status={{ order.externalStatus }}"}
"""


def installation(home: Path, smtp: SmtpServer) -> EngageSettings:
    """Everything under `home` (database file, lake, automations), so that a copy is complete."""
    return EngageSettings(
        home=home,
        database_url=f"sqlite:///{home / 'engage.db'}",
        automations_path=home / "automations.yaml",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=False,
        smtp_from="shop@example.com",
    )


def smtp_env(settings: EngageSettings) -> dict[str, str]:
    return {
        "ENGAGE_AUTOMATIONS_PATH": str(settings.automations_path),
        "ENGAGE_SMTP_HOST": str(settings.smtp_host),
        "ENGAGE_SMTP_PORT": str(settings.smtp_port),
        "ENGAGE_SMTP_STARTTLS": "false",
        "ENGAGE_SMTP_FROM": str(settings.smtp_from),
    }


@pytest.fixture
def smtp_servers() -> Iterator[tuple[SmtpServer, SmtpServer]]:
    with running_smtp_server() as crashed, running_smtp_server() as uninterrupted:
        yield crashed, uninterrupted


def land_orders(settings: EngageSettings) -> None:
    """Orders with embedded actions, replaces and status changes, through the real intake."""
    with (
        running_intake(settings) as base_url,
        client(base_url, make_key(settings, Scope.ADMIN)) as api,
    ):
        create_contact(api, {"email": LENA})
        contact = {"matchKey": LENA, "matchKeyType": "Email"}
        for number in range(ORDERS_POSTED):
            action = {"action": "ConfirmOrder"} if number % 2 == 0 else None
            body = order_body(f"KILL-{number}", contact=contact, action=action)
            if action is None:
                body.pop("action")
            post_order(api, body)
        for number in range(0, ORDERS_POSTED, 3):
            put_order(api, order_body(f"KILL-{number}", contact=contact, externalStatus="Packed"))
        status = {"status": "InProgress", "externalStatus": "Shipped"}
        change(api, "KILL-1", "change-status", {**status, "action": {"action": "ConfirmShipment"}})
    engine_for(settings.resolved_database_url).dispose()


def lake_rows(settings: EngageSettings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the order tables, without the time each was processed."""
    lake = Lake(settings.resolved_lake_uri)
    rows = {}
    for spec in (ORDER_VERSIONS, ORDERS, ORDER_LINES, ORDER_CHANGE_OUTCOMES):
        frame = lake.scan(spec).collect().drop("processed_at", strict=False)
        rows[spec.name] = sorted(frame.rows(), key=repr)
    return rows


def database_rows(settings: EngageSettings) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "jobs": "SELECT job_id, status, version_tag, errors FROM jobs",
        "order_view": "SELECT order_id, version_tag, document FROM order_view",
        "communications": (
            "SELECT order_id, channel, version_tag, status, attempts, recipient, subject, body "
            "FROM communications"
        ),
    }
    with session_scope(settings.resolved_database_url) as session:
        return {
            name: sorted(session.execute(text(query)).all(), key=repr)
            for name, query in queries.items()
        }


def mails(smtp: SmtpServer) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((str(mail.message["subject"]), mail.rcpt_tos) for mail in smtp.received)


@pytest.mark.timeout(900)
def test_processing_killed_at_each_point_then_rerun_ends_as_an_uninterrupted_run(
    tmp_path: Path, smtp_servers: tuple[SmtpServer, SmtpServer]
) -> None:
    smtp_crashed, smtp_uninterrupted = smtp_servers
    crashed = installation(tmp_path / "crashed", smtp_crashed)
    crashed.resolved_home.mkdir(parents=True)
    Path(str(crashed.automations_path)).write_text(AUTOMATIONS)
    prepare_storage(crashed)
    land_orders(crashed)
    shutil.copytree(crashed.resolved_home, tmp_path / "uninterrupted")
    uninterrupted = installation(tmp_path / "uninterrupted", smtp_uninterrupted)

    with open_instance(dagster_home(tmp_path / "reference")) as reference:
        # Gold is left out of both: what the crash points can break is the order tables, the
        # jobs and the mails.
        assert process_pending(uninterrupted, instance=reference, gold=False)

    home = dagster_home(tmp_path / "crashing")
    for point in CRASH_POINTS:
        code, output = finish(start_process(crashed, home, crash_at=point, **smtp_env(crashed)))
        assert code == -signal.SIGKILL, f"{point}: {output[-3000:]}"
    code, output = finish(start_process(crashed, home, skip_gold=True, **smtp_env(crashed)))
    assert code == 0, output[-3000:]

    assert lake_rows(crashed) == lake_rows(uninterrupted)
    assert database_rows(crashed) == database_rows(uninterrupted)
    assert mails(smtp_crashed) == mails(smtp_uninterrupted)
    assert len(smtp_crashed.received) == ORDERS_POSTED // 2 + 1
    with open_instance(home) as instance:
        killed = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])
        )
        # Each killed run was found dead by the next `process`, marked failed, its slots freed.
        assert len(killed) == len(CRASH_POINTS)
        assert all(PROCESS_TAG in record.dagster_run.tags for record in killed)
        assert not any(
            instance.event_log_storage.get_concurrency_info(key).claimed_slots
            for key in instance.event_log_storage.get_concurrency_keys()
        )
