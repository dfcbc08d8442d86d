"""Erasure after the grace period or at once: what is removed, what waits, what is recorded, and
when the sensor starts it (real intake, Dagster jobs, Delta tables, databases)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import dagster as dg
import httpx
import polars as pl
import pytest
from sqlalchemy import update

from pipelines.definitions import build_definitions
from pipelines.gdpr_erasure import erasure_sensor
from pipelines.resources import resources_from_settings
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS
from storage.db import session_scope
from storage.erasure import IDENTIFYING_COLUMNS, erasable_tables
from storage.lake import Lake, _ranges_between
from storage.models import GdprRequest, utcnow
from storage.settings import EngageSettings
from tests.support.contacts import create_contact, soft_delete
from tests.support.installations import LAKE_INCIDENTAL
from tests.support.orders import JSON, order_body, post_order, succeeded_tag

Process = Callable[[], None]
LENA = "lena.berg@example.org"


def order_for(email: str, order_id: str) -> dict[str, object]:
    return order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})


def lake_rows(settings: EngageSettings, order_id: str) -> dict[str, int]:
    lake = Lake(settings.resolved_lake_uri)
    return {
        spec.name: lake.scan(spec).filter(pl.col("order_id") == order_id).collect().height
        for spec in (ORDER_CHANGES, ORDER_VERSIONS)
    }


def run_erasure(settings: EngageSettings) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("erase_contacts")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


def erasure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [materialization] = [
        event for event in result.all_events if event.event_type_value == "STEP_OUTPUT"
    ]
    metadata = materialization.event_specific_data.metadata  # type: ignore[union-attr]
    return {key: value.value for key, value in metadata.items()}


def expire_grace_period(settings: EngageSettings, request_id: str) -> None:
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            update(GdprRequest)
            .where(GdprRequest.request_id == request_id)
            .values(erase_after=utcnow() - timedelta(seconds=1))
        )


@pytest.mark.lake("local", "s3", "azure")
def test_erasure_waits_for_the_grace_period_then_records_what_it_removed(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    lena = create_contact(api, {"email": LENA})
    succeeded = post_order(api, order_for(LENA, "GRACE-1"))
    process()
    tag = succeeded_tag(api, succeeded)
    queued = api.post(
        "/orders/GRACE-1/action",
        content=json.dumps({"action": "ConfirmOrder", "versionTag": tag}),
        headers=JSON,
    )
    assert queued.status_code == 202, queued.text
    request = soft_delete(api, lena)

    first = erasure_metadata(run_erasure(settings))
    assert first["erased"] == 0
    assert lake_rows(settings, "GRACE-1") == {"order_changes": 1, "order_versions": 1}
    assert api.get(f"/gdpr/requests/{request['requestId']}").json()["status"] == "Pending"

    expire_grace_period(settings, request["requestId"])
    second = erasure_metadata(run_erasure(settings))
    assert second["erased"] == 1
    assert request["requestId"] in str(second["request_ids"])
    assert lake_rows(settings, "GRACE-1") == {"order_changes": 0, "order_versions": 0}

    erased = api.get(f"/gdpr/requests/{request['requestId']}").json()
    assert erased["status"] == "Erased"
    assert erased["erasedAt"] is not None
    audit = erased["audit"]
    assert audit["lake"]["silver/order_versions"]["rows"] == 1
    assert audit["lake"]["bronze/order_changes"]["rows"] == 1
    assert audit["lake"]["bronze/order_changes"]["filesRemoved"] >= 1
    assert audit["database"]["contacts"] == 1
    assert audit["database"]["order_view"] == 1
    # The action was never delivered: erasure cancelled it.
    assert audit["database"]["communicationsCancelled"] == 1
    assert LENA not in json.dumps(erased)
    assert lena not in json.dumps(erased)
    # Nothing is left to restore, and the order and its job are gone from the API too.
    assert api.post(f"/contacts/{lena}/restore").status_code == 404
    assert api.get("/orders/GRACE-1").status_code == 404
    assert api.get(f"/orders/jobs/{succeeded}").status_code == 404


@LAKE_INCIDENTAL
def test_erasure_waits_for_landed_data_of_the_contact_to_be_processed(
    api: httpx.Client, settings: EngageSettings, process: Process
) -> None:
    lena = create_contact(api, {"email": LENA})
    post_order(api, order_for(LENA, "WAIT-1"))
    process()
    post_order(api, order_for(LENA, "WAIT-2"))  # landed, not processed yet
    request = soft_delete(api, lena, purge=True)

    waiting = erasure_metadata(run_erasure(settings))
    assert (waiting["erased"], waiting["deferred"]) == (0, 1)
    assert lake_rows(settings, "WAIT-1")["order_versions"] == 1

    process()  # processes WAIT-2, then erases
    assert api.get(f"/gdpr/requests/{request['requestId']}").json()["status"] == "Erased"
    assert lake_rows(settings, "WAIT-1") == {"order_changes": 0, "order_versions": 0}
    assert lake_rows(settings, "WAIT-2") == {"order_changes": 0, "order_versions": 0}


@LAKE_INCIDENTAL
def test_erasure_sensor_starts_a_run_for_due_requests_only_when_no_writer_runs(
    api: httpx.Client, settings: EngageSettings
) -> None:
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=instance, resources=resources_from_settings(settings)
        )
        return erasure_sensor(context)  # type: ignore[return-value]

    lena = create_contact(api, {"email": LENA})
    assert isinstance(evaluate(), dg.SkipReason)
    soft_delete(api, lena)  # within the grace period: not due
    assert isinstance(evaluate(), dg.SkipReason)
    request = soft_delete(api, create_contact(api, {"email": "per@example.org"}), purge=True)

    due = evaluate()
    assert isinstance(due, dg.SensorResult)
    [run] = due.run_requests or []
    assert run.tags["engage/gdpr_requests"] == request["requestId"]
    assert lena not in json.dumps(run.tags)

    definitions = build_definitions(settings)
    instance.create_run_for_job(
        definitions.resolve_job_def("process_orders"), status=dg.DagsterRunStatus.STARTED
    )
    blocked = evaluate()
    assert isinstance(blocked, dg.SkipReason)
    assert "process_orders" in (blocked.skip_message or "")


def test_every_table_that_can_hold_personal_data_is_erasable_by_an_identifying_column() -> None:
    names = {spec.name for spec in erasable_tables()}
    assert {"order_changes", "receipt_submissions", "dim_contact", "segment_memberships"} <= names
    for spec in erasable_tables():
        assert set(IDENTIFYING_COLUMNS) & set(spec.column_names), spec.name


@pytest.mark.parametrize(
    ("after", "through", "skipped", "expected"),
    [
        (3, 7, set(), [(4, 7)]),
        (3, 7, {5}, [(4, 4), (6, 7)]),
        (3, 7, {4, 7}, [(5, 6)]),
        (3, 7, {2, 9}, [(4, 7)]),
        (3, 4, {4}, []),
    ],
)
def test_change_reading_skips_erasure_commits(
    after: int, through: int, skipped: set[int], expected: list[tuple[int, int]]
) -> None:
    assert _ranges_between(after, through, skipped) == expected
