"""Deletion of inactive contacts (SPEC 2.4, issue 6 point 4): what counts as activity, that the
deletion goes the way of `DELETE /contacts/{id}` (soft delete, erasure request with the grace
period), and the daily Dagster job, against real storage (SQLite, PostgreSQL), the real intake and
the real processing jobs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import dagster as dg
import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipelines.definitions import build_definitions
from storage.contacts import add_contact, update_contact
from storage.db import session_scope
from storage.gdpr import (
    REASON_INACTIVITY,
    REASON_REQUEST,
    RequestStatus,
    contact_hash,
    hash_key,
    request_erasure,
)
from storage.inactivity import (
    delete_contacts_if_inactive,
    delete_inactive_contacts,
    find_inactive_contacts,
)
from storage.models import Contact, GdprRequest, OrderView, utcnow
from storage.order_view import OrderViewRow
from storage.order_view import publish as publish_orders
from storage.receipt_view import ReceiptViewRow
from storage.receipt_view import publish as publish_receipts
from storage.settings import EngageSettings
from tests.support.contacts import create_contact, soft_delete
from tests.support.orders import JSON, order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded

KEY = b"test-hash-key"
GRACE = timedelta(days=7)
NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
"""The injected `now` of the storage tests: years after any row a test creates for real."""
CUTOFF = NOW - timedelta(days=730)
BEFORE = CUTOFF - timedelta(days=1)
"""Old activity: one day too old to keep a contact."""
LENA = "lena.berg@example.org"  # the contact of the example receipt


# --- helpers ---


def new_contact(session: Session, email: str) -> str:
    """A live contact created through the real storage function (created/updated now)."""
    return add_contact(session, {"email": email}).id


def set_contact_times(settings: EngageSettings, ids: Iterable[str], when: datetime) -> None:
    """Pretend the contacts were created and last changed at `when`."""
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            update(Contact)
            .where(Contact.id.in_(list(ids)))
            .values(created_at=when, updated_at=when)
        )


def order_row(
    order_id: str,
    contact_id: str,
    created_at: datetime | None = BEFORE,
    last_changed_at: datetime | None = BEFORE,
    processed_at: datetime = BEFORE,
) -> OrderViewRow:
    return OrderViewRow(
        order_id=order_id,
        contact_id=contact_id,
        version_tag="tag",
        version_number=1,
        change_seq=1,
        status="Completed",
        created_at=created_at,
        last_changed_at=last_changed_at,
        processed_at=processed_at,
        document="{}",
        is_deleted=False,
    )


def receipt_row(
    receipt_id: str,
    contact_id: str,
    created_at: datetime = BEFORE,
    processed_at: datetime = BEFORE,
) -> ReceiptViewRow:
    return ReceiptViewRow(
        unique_receipt_id=receipt_id,
        contact_id=contact_id,
        created_at=created_at,
        total_gross_price=100.0,
        currency="SEK",
        store_external_id=None,
        document="{}",
        processed_at=processed_at,
    )


def requests_of(session: Session, contact_id: str) -> list[GdprRequest]:
    return list(session.scalars(select(GdprRequest).where(GdprRequest.contact_id == contact_id)))


def live_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Contact.id).where(Contact.deleted_at.is_(None))))


def run_inactivity_job(
    settings: EngageSettings, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    result = (
        build_definitions(settings)
        .resolve_job_def("delete_inactive_contacts")
        .execute_in_process(instance=instance)
    )
    assert result.success
    return result


def output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [output] = [event for event in result.all_node_events if event.is_successful_output]
    return {name: value.value for name, value in output.step_output_data.metadata.items()}


def event_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Everything the run's event log holds: messages, events and their metadata."""
    return "\n".join(
        f"{record.user_message}\n{record.dagster_event}" for record in instance.all_logs(run_id)
    )


# --- storage: what counts as activity ---


CASES = [  # one contact each; only the first two are inactive
    "dormant",
    "old_order_and_receipt",
    "order_created",
    "order_changed",
    "order_processed",
    "receipt_created",
    "receipt_processed",
    "contact_changed",
]


def test_activity_is_a_contact_change_an_order_or_a_receipt_since_the_cutoff(
    settings: EngageSettings,
) -> None:
    with session_scope(settings.resolved_database_url) as session:
        ids = {name: new_contact(session, f"{name}@example.org") for name in CASES}
    # Created "now" (2026), long before the injected cutoff: only the rows below keep them.
    with session_scope(settings.resolved_database_url) as session:
        publish_orders(
            session,
            [
                order_row("O-OLD", ids["old_order_and_receipt"]),
                order_row("O-CREATED", ids["order_created"], created_at=CUTOFF),
                order_row("O-CHANGED", ids["order_changed"], created_at=None, last_changed_at=NOW),
                order_row("O-PROCESSED", ids["order_processed"], processed_at=CUTOFF),
            ],
        )
        publish_receipts(
            session,
            [
                receipt_row("R-OLD", ids["old_order_and_receipt"]),
                receipt_row("R-CREATED", ids["receipt_created"], created_at=CUTOFF),
                receipt_row("R-PROCESSED", ids["receipt_processed"], processed_at=NOW),
            ],
        )
        session.execute(
            update(Contact)
            .where(Contact.id == ids["contact_changed"])
            .values(updated_at=CUTOFF + timedelta(days=1))
        )

    with session_scope(settings.resolved_database_url) as session:
        found = set(find_inactive_contacts(session, CUTOFF, limit=100))
        deleted = delete_inactive_contacts(session, KEY, GRACE, CUTOFF, NOW)

    inactive = {ids["dormant"], ids["old_order_and_receipt"]}
    assert found == inactive
    assert deleted == 2
    with session_scope(settings.resolved_database_url) as session:
        assert live_ids(session) == set(ids.values()) - inactive
        for contact_id in inactive:
            [request] = requests_of(session, contact_id)
            assert request.kind == "erasure"
            assert request.reason == REASON_INACTIVITY
            assert request.status == RequestStatus.PENDING.value
            assert request.requested_at == NOW
            assert request.erase_after == NOW + GRACE
            assert request.contact_hash == contact_hash(KEY, contact_id)
            assert session.get(Contact, contact_id).deleted_at == NOW  # type: ignore[union-attr]


def test_batches_walk_every_contact_once_and_skip_deleted_ones(settings: EngageSettings) -> None:
    with session_scope(settings.resolved_database_url) as session:
        ids = [new_contact(session, f"c{number}@example.org") for number in range(23)]
    active = set(ids[::4])  # interleaved with the inactive ones in id order, whatever the ids
    with session_scope(settings.resolved_database_url) as session:
        publish_orders(
            session, [order_row(f"O-{n}", cid, processed_at=NOW) for n, cid in enumerate(active)]
        )
        deleted_by_api = session.get(Contact, ids[1])
        assert deleted_by_api is not None
        request_erasure(session, deleted_by_api, KEY, GRACE, purge=False)

    with session_scope(settings.resolved_database_url) as session:
        deleted = delete_inactive_contacts(session, KEY, GRACE, CUTOFF, NOW, batch_size=3)

    assert deleted == len(ids) - len(active) - 1
    with session_scope(settings.resolved_database_url) as session:
        assert live_ids(session) == active
        assert [request.reason for request in requests_of(session, ids[1])] == [REASON_REQUEST]
        inactivity = session.scalars(
            select(GdprRequest.contact_id).where(GdprRequest.reason == REASON_INACTIVITY)
        )
        assert sorted(inactivity) == sorted(set(ids) - active - {ids[1]})
        # Nothing left: a second run deletes nobody.
        assert delete_inactive_contacts(session, KEY, GRACE, CUTOFF, NOW, batch_size=3) == 0


def test_contacts_deleted_or_active_again_since_they_were_found_are_skipped(
    settings: EngageSettings,
) -> None:
    now = utcnow()  # real time here: the contact change below happens now
    cutoff = now - timedelta(days=730)
    with session_scope(settings.resolved_database_url) as session:
        names = ("dormant", "deleted_meanwhile", "ordered_meanwhile", "changed_meanwhile")
        ids = {name: new_contact(session, f"{name}@example.org") for name in names}
    set_contact_times(settings, ids.values(), cutoff - timedelta(days=1))

    with session_scope(settings.resolved_database_url) as finder:
        found = find_inactive_contacts(finder, cutoff, limit=100)
        assert set(found) == set(ids.values())
        # Between finding and deleting: the API deletes one, an order comes in for another
        # and a third is changed (other sessions, committed).
        with session_scope(settings.resolved_database_url) as other:
            contact = other.get(Contact, ids["deleted_meanwhile"])
            assert contact is not None
            request_erasure(other, contact, KEY, GRACE, purge=False)
            publish_orders(other, [order_row("O-NEW", ids["ordered_meanwhile"], processed_at=now)])
            other.commit()
            changed = other.get(Contact, ids["changed_meanwhile"])
            assert changed is not None
            update_contact(other, changed, {"city": "Lund"})
        deleted = delete_contacts_if_inactive(finder, found, KEY, GRACE, cutoff, now)

    assert deleted == 1
    with session_scope(settings.resolved_database_url) as session:
        assert live_ids(session) == {ids["ordered_meanwhile"], ids["changed_meanwhile"]}
        [request] = requests_of(session, ids["deleted_meanwhile"])
        assert request.reason == REASON_REQUEST
        [request] = requests_of(session, ids["dormant"])
        assert request.reason == REASON_INACTIVITY


# --- the daily Dagster job over the real intake and processing ---


def test_the_daily_job_deletes_inactive_contacts_the_way_delete_does(
    api: httpx.Client, settings: EngageSettings, caplog: pytest.LogCaptureFixture
) -> None:
    contacts = {
        name: create_contact(api, {"email": f"{name}@example.org", "firstName": name})
        for name in ("dormant", "old_buyer", "buyer", "changed", "gone", "newcomer")
    }
    contacts["shopper"] = create_contact(api, {"email": LENA, "firstName": "Lena"})
    jobs = {
        order_id: post_order(
            api,
            order_body(
                order_id,
                contact={"matchKey": f"{name}@example.org", "matchKeyType": "Email"},
            ),
        )
        for order_id, name in (("OLD-1", "old_buyer"), ("NEW-1", "buyer"))
    }
    receipt_job = post_receipt(api, receipt_body())  # Lena's, processed today
    instance = dg.DagsterInstance.ephemeral()
    definitions = build_definitions(settings)
    for name in ("process_orders", "process_receipts"):
        assert definitions.resolve_job_def(name).execute_in_process(instance=instance).success
    succeeded(api, receipt_job)
    old_tag = succeeded_tag(api, jobs["OLD-1"])
    succeeded_tag(api, jobs["NEW-1"])
    # What we do to a contact is not its activity: an action and its communication, today.
    action = {"action": "ConfirmOrder", "versionTag": old_tag}
    response = api.post("/orders/OLD-1/action", content=json.dumps(action), headers=JSON)
    assert response.status_code == 202, response.text

    # Everyone but the newcomer was created and last changed three years ago; OLD-1 is as old.
    long_ago = utcnow() - timedelta(days=3 * 365)
    set_contact_times(
        settings, (id_ for name, id_ in contacts.items() if name != "newcomer"), long_ago
    )
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            update(OrderView)
            .where(OrderView.order_id == "OLD-1")
            .values(created_at=long_ago, last_changed_at=long_ago, processed_at=long_ago)
        )
    patched = api.patch(f"/contacts/{contacts['changed']}", json={"city": "Lund"})
    assert patched.status_code == 200, patched.text
    gone_request = soft_delete(api, contacts["gone"])["requestId"]

    result = run_inactivity_job(settings, instance)

    metadata = output_metadata(result)
    assert metadata["deleted"] == 2
    assert metadata["inactivity_days"] == settings.gdpr_inactivity_days == 730
    inactive = {contacts["dormant"], contacts["old_buyer"]}
    for name, contact_id in contacts.items():
        expected = 404 if contact_id in inactive or name == "gone" else 200
        assert api.get(f"/contacts/{contact_id}").status_code == expected, name
    assert api.get("/orders/OLD-1").status_code == 404  # hidden with its contact
    assert api.get("/orders/NEW-1").status_code == 200

    with session_scope(settings.resolved_database_url) as session:
        requests = list(session.scalars(select(GdprRequest)))
        by_reason = {
            reason: {request.contact_id for request in requests if request.reason == reason}
            for reason in (REASON_REQUEST, REASON_INACTIVITY)
        }
        assert by_reason == {REASON_REQUEST: {contacts["gone"]}, REASON_INACTIVITY: inactive}
        for request in requests:
            assert request.contact_id is not None
            assert request.contact_hash == contact_hash(hash_key(settings), request.contact_id)
            assert request.erase_after == request.requested_at + timedelta(
                days=settings.gdpr_grace_days
            )
        inactivity_request = next(r for r in requests if r.reason == REASON_INACTIVITY)
    status = api.get(f"/gdpr/requests/{inactivity_request.request_id}").json()
    assert (status["kind"], status["status"]) == ("erasure", "Pending")
    assert api.get(f"/gdpr/requests/{gone_request}").json()["status"] == "Pending"

    # Personal data stays out of Dagster: no contact id (nor e-mail) in the run's event log.
    logged = event_log_text(instance, result.run_id)
    logged += "\n".join(record.getMessage() for record in caplog.records)
    assert "2 contact(s)" in logged
    for contact_id in contacts.values():
        assert contact_id not in logged
    assert "@example.org" not in logged

    # Within the grace period the deletion can be undone; a restore is a contact change, so the
    # next run leaves the restored contact alone, and deletes nobody else twice.
    restored = api.post(f"/contacts/{contacts['dormant']}/restore")
    assert restored.status_code == 200, restored.text
    again = run_inactivity_job(settings, instance)
    assert output_metadata(again)["deleted"] == 0
    assert api.get(f"/contacts/{contacts['dormant']}").status_code == 200


def test_inactivity_days_zero_turns_the_deletion_off(settings: EngageSettings) -> None:
    off = EngageSettings(
        home=settings.home, database_url=settings.database_url, gdpr_inactivity_days=0
    )
    with session_scope(off.resolved_database_url) as session:
        contact_id = new_contact(session, "dormant@example.org")
    set_contact_times(off, [contact_id], utcnow() - timedelta(days=3650))

    result = run_inactivity_job(off, dg.DagsterInstance.ephemeral())

    assert output_metadata(result)["deleted"] == 0
    with session_scope(off.resolved_database_url) as session:
        assert live_ids(session) == {contact_id}
        assert session.scalar(select(GdprRequest.request_id)) is None


def test_the_schedule_runs_the_job_daily_by_default(settings: EngageSettings) -> None:
    schedule = build_definitions(settings).resolve_schedule_def("inactive_contacts_schedule")
    assert schedule.job_name == "delete_inactive_contacts"
    assert schedule.cron_schedule == "30 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
