"""`POST /orders/{orderId}/action` and `GET /communications` over HTTP, against orders processed by
the real Dagster job: 202 queues the action pinned to the current version, with one Queued
communication per configured channel; 400/404/422 refuse it and queue nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ingest_api.app import create_app
from schemas.automations import AutomationsError
from storage.apikeys import Scope
from storage.db import session_scope
from storage.models import OrderAction
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import create_contact, soft_delete
from tests.support.installations import LAKE_INCIDENTAL, REFUSED_BEFORE_THE_LAKE
from tests.support.orders import JSON, change, order_body, post_order, succeeded_tag
from tests.support.server import client, running_intake

pytestmark = [LAKE_INCIDENTAL, pytest.mark.without_gold]

Process = Callable[[], None]

LENA = "lena.berg@example.org"
NOBODY = "nobody@example.org"


@dataclass(frozen=True)
class Orders:
    """Processed orders: two of Lena's, one of Per's and one whose contact does not exist."""

    lena: str
    per: str
    tags: dict[str, str]
    lena_order: str = "ACT-1"
    lena_other_order: str = "ACT-2"
    per_order: str = "ACT-3"
    orphan_order: str = "ACT-4"


@pytest.fixture
def orders(api: httpx.Client, process: Process) -> Orders:
    lena = create_contact(api, {"email": LENA, "firstName": "Lena"})
    per = create_contact(api, {"email": "per.holm@example.org", "firstName": "Per"})
    owners = {"ACT-1": LENA, "ACT-2": LENA, "ACT-3": "per.holm@example.org", "ACT-4": NOBODY}
    jobs = {
        order_id: post_order(
            api, order_body(order_id, contact={"matchKey": email, "matchKeyType": "Email"})
        )
        for order_id, email in owners.items()
    }
    process()
    return Orders(lena, per, {order_id: succeeded_tag(api, job) for order_id, job in jobs.items()})


def trigger(
    api: httpx.Client, order_id: str, body: dict[str, Any] | str, **headers: str
) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return api.post(f"/orders/{order_id}/action", content=content, headers={**JSON, **headers})


def accepted_action(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    action_id = response.json()["actionId"]
    href = f"/api/v3/communications?actionId={action_id}"
    assert response.headers["location"] == href
    assert response.json()["links"] == [{"href": href, "method": "GET", "rel": "communications"}]
    return action_id


def confirm(api: httpx.Client, order_id: str, tag: str, **fields: Any) -> str:
    body = {"action": "ConfirmOrder", "versionTag": tag, **fields}
    return accepted_action(trigger(api, order_id, body))


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:engage-orders:problem:{code}"
    return body


def field_errors(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    return [(error["path"], error["code"]) for error in response.json()["errors"]]


def communications(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get("/communications", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def stored_action(settings: EngageSettings, action_id: str) -> OrderAction:
    with session_scope(settings.resolved_database_url) as session:
        action = session.scalar(select(OrderAction).where(OrderAction.action_id == action_id))
        assert action is not None
        return action


def current_document(api: httpx.Client, order_id: str) -> dict[str, Any]:
    order = api.get(f"/orders/{order_id}").json()
    return {key: value for key, value in order.items() if key not in ("versionTag", "contactId")}


# --- 202 -----------------------------------------------------------------------------------------


def test_an_action_is_queued_pinned_to_the_current_version(
    api: httpx.Client, orders: Orders, settings: EngageSettings
) -> None:
    tag = orders.tags[orders.lena_order]
    action_id = confirm(api, orders.lena_order, tag, language="sv-SE", data={"note": "Tack!"})
    assert uuid.UUID(action_id).version == 4

    page = communications(api, actionId=action_id)
    assert page["totalCount"] == 1
    item = page["items"][0]
    assert isinstance(item.pop("communicationId"), int)
    created_at = item.pop("createdAt")
    assert item.pop("updatedAt") >= created_at
    assert item == {
        "actionId": action_id,
        "action": "ConfirmOrder",
        "channel": "outbox",
        "status": "Queued",
        "attempts": 0,
        "orderId": orders.lena_order,
        "contactId": orders.lena,
        "versionTag": tag,
        "language": None,
        "recipient": None,
        "subject": None,
        "body": None,
        "lastError": None,
        "sentAt": None,
    }

    action = stored_action(settings, action_id)
    assert (action.source, action.job_id, action.language) == ("api", None, "sv-SE")
    assert json.loads(action.data or "null") == {"note": "Tack!"}
    assert json.loads(action.document) == current_document(api, orders.lena_order)


def test_the_action_keeps_its_version_when_the_order_changes(
    api: httpx.Client, orders: Orders, process: Process, settings: EngageSettings
) -> None:
    old_tag = orders.tags[orders.lena_order]
    first = confirm(api, orders.lena_order, old_tag)
    shipped = {"status": "Completed", "lastChangedAt": "2025-11-21T08:00:00+01:00"}
    new_tag = succeeded_tag(
        api, _processed(process, change(api, orders.lena_order, "change-status", shipped))
    )
    assert new_tag != old_tag

    problem(
        trigger(api, orders.lena_order, {"action": "ConfirmOrder", "versionTag": old_tag}),
        404,
        "OrderNotFound",
    )
    second = confirm(api, orders.lena_order, new_tag)

    assert json.loads(stored_action(settings, first).document)["status"] == "InProgress"
    assert json.loads(stored_action(settings, second).document)["status"] == "Completed"
    tags = {item["actionId"]: item["versionTag"] for item in communications(api)["items"]}
    assert tags == {first: old_tag, second: new_tag}


def _processed(process: Process, job_id: str) -> str:
    process()
    return job_id


def test_each_configured_channel_gets_a_communication(
    orders: Orders, settings: EngageSettings, admin_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "automations.yaml"
    path.write_text(
        "automations:\n"
        "  ThankYou:\n"
        "    channels: [webhook, outbox]\n"
        "    templates:\n"
        "      en-GB: {subject: 'Thanks {{ order.orderId }}', body: 'Hello'}\n",
        encoding="utf-8",
    )
    configured = settings.model_copy(
        update={
            "automations_path": path,
            "webhook_url": "http://127.0.0.1:9/hooks",  # configured; nothing is delivered here
        }
    )
    tag = orders.tags[orders.lena_order]
    with running_intake(configured) as base_url, client(base_url, admin_key) as api:
        action_id = accepted_action(
            trigger(api, orders.lena_order, {"action": "ThankYou", "versionTag": tag})
        )
        unknown = trigger(api, orders.lena_order, {"action": "ConfirmOrder", "versionTag": tag})
        assert field_errors(unknown) == [("/action", "UnknownAction")]
        assert unknown.json()["errors"][0]["message"] == (
            "No automation defines this action; known: ThankYou."
        )
        items = communications(api, actionId=action_id)["items"]
    assert sorted(item["channel"] for item in items) == ["outbox", "webhook"]
    assert {item["status"] for item in items} == {"Queued"}


# --- 404, 422 ------------------------------------------------------------------------------------


def test_an_unknown_order_and_a_stale_version_tag_get_the_same_404(
    api: httpx.Client, orders: Orders
) -> None:
    tag = orders.tags[orders.lena_order]
    unknown = trigger(api, "NO-SUCH-ORDER", {"action": "ConfirmOrder", "versionTag": tag})
    other_tag = orders.tags[orders.per_order]
    stale = trigger(api, orders.lena_order, {"action": "ConfirmOrder", "versionTag": other_tag})
    assert problem(unknown, 404, "OrderNotFound") == problem(stale, 404, "OrderNotFound")
    assert communications(api)["totalCount"] == 0


def test_an_order_without_a_contact_is_422(api: httpx.Client, orders: Orders) -> None:
    tag = orders.tags[orders.orphan_order]
    response = trigger(api, orders.orphan_order, {"action": "ConfirmOrder", "versionTag": tag})
    body = problem(response, 422, "ContactMissing")
    assert body["errors"] == [
        {"path": "", "code": "ContactMissing", "message": "Contact is missing"}
    ]
    assert communications(api)["totalCount"] == 0


def test_an_order_whose_contact_was_deleted_is_404(
    api: httpx.Client, orders: Orders, settings: EngageSettings
) -> None:
    """A soft-deleted contact's orders are hidden everywhere, so acting on one is acting on an
    order that does not exist."""
    soft_delete(api, orders.lena)
    tag = orders.tags[orders.lena_order]
    response = trigger(api, orders.lena_order, {"action": "ConfirmOrder", "versionTag": tag})
    problem(response, 404, "OrderNotFound")
    assert communications(api)["totalCount"] == 0


# --- 400 -----------------------------------------------------------------------------------------

TAG = "5b3kN1tq0x9Lz2Qh8c7GVw=="


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"action": "SendFlowers", "versionTag": TAG}, [("/action", "UnknownAction")]),
        ({"action": "", "versionTag": TAG}, [("/action", "TooShort")]),
        ({"action": "A" * 101, "versionTag": TAG}, [("/action", "TooLong")]),
        ({"versionTag": TAG}, [("/action", "Required")]),
        ({"action": "ConfirmOrder"}, [("/versionTag", "Required")]),
        ({"action": "ConfirmOrder", "versionTag": "two words"}, [("/versionTag", "InvalidFormat")]),
        ({"action": "ConfirmOrder", "versionTag": 12}, [("/versionTag", "InvalidType")]),
        (
            {"action": "ConfirmOrder", "versionTag": TAG, "language": "sv_SE"},
            [("/language", "InvalidFormat")],
        ),
        (
            {"action": "ConfirmOrder", "versionTag": TAG, "language": "Swedish"},
            [("/language", "InvalidFormat")],
        ),
        (
            {"action": "ConfirmOrder", "versionTag": TAG, "priority": "high"},
            [("/priority", "UnknownField")],
        ),
        ({"action": "ConfirmOrder", "versionTag": TAG, "data": [1]}, [("/data", "InvalidType")]),
        (
            {"action": "ConfirmOrder", "versionTag": TAG, "data": {"n": "x"}, "language": 1},
            [("/language", "InvalidType")],
        ),
        ("{not json", [("", "MalformedJson")]),
        (
            '{"action": "ConfirmOrder", "versionTag": "t", "data": {"x": NaN}}',
            [("/data", "InvalidNumber")],
        ),
        (
            {"action": "ConfirmOrder", "versionTag": TAG, "data": {"note": ["a\x00b"]}},
            [("/data", "InvalidCharacter")],
        ),
    ],
)
@REFUSED_BEFORE_THE_LAKE
def test_a_bad_body_is_400_naming_each_field_and_queues_nothing(
    api: httpx.Client, body: dict[str, Any] | str, errors: list[tuple[str, str]]
) -> None:
    response = trigger(api, "ACT-1", body)
    problem(response, 400, "FormatError")
    assert field_errors(response) == errors
    assert communications(api)["totalCount"] == 0


@REFUSED_BEFORE_THE_LAKE
def test_a_body_that_is_not_json_is_415(api: httpx.Client) -> None:
    response = api.post(
        "/orders/ACT-1/action",
        content=json.dumps({"action": "ConfirmOrder", "versionTag": TAG}),
        headers={"content-type": "text/plain"},
    )
    problem(response, 415, "UnsupportedMediaType")


# --- scopes --------------------------------------------------------------------------------------


@REFUSED_BEFORE_THE_LAKE
def test_triggering_needs_orders_write(settings: EngageSettings, intake_url: str) -> None:
    body = {"action": "ConfirmOrder", "versionTag": TAG}
    with client(intake_url, make_key(settings, Scope.ORDERS_READ)) as reader:
        problem(trigger(reader, "ACT-1", body), 403, "MissingScope")
    with client(intake_url, make_key(settings, Scope.ORDERS_WRITE)) as writer:
        problem(trigger(writer, "ACT-1", body), 404, "OrderNotFound")
    with client(intake_url, None) as anonymous:
        problem(trigger(anonymous, "ACT-1", body), 401, "MissingApiKey")


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        ((Scope.ORDERS_READ,), 200),
        ((Scope.ADMIN,), 200),
        ((Scope.ORDERS_WRITE,), 403),
        ((Scope.CONTACTS_READ,), 403),
    ],
)
@REFUSED_BEFORE_THE_LAKE
def test_reading_communications_needs_orders_read(
    settings: EngageSettings, intake_url: str, scopes: tuple[Scope, ...], status: int
) -> None:
    with client(intake_url, make_key(settings, *scopes)) as http:
        assert http.get("/communications").status_code == status


# --- GET /communications -------------------------------------------------------------------------


@pytest.fixture
def queued(api: httpx.Client, orders: Orders) -> list[str]:
    """Four actions, oldest first: three on Lena's orders, one on Per's."""
    return [
        confirm(api, orders.lena_order, orders.tags[orders.lena_order]),
        confirm(api, orders.lena_other_order, orders.tags[orders.lena_other_order]),
        confirm(api, orders.per_order, orders.tags[orders.per_order]),
        confirm(api, orders.lena_order, orders.tags[orders.lena_order], language="en-GB"),
    ]


def action_ids(page: dict[str, Any]) -> list[str]:
    return [item["actionId"] for item in page["items"]]


def test_communications_are_listed_newest_first_in_pages(
    api: httpx.Client, queued: list[str]
) -> None:
    newest_first = queued[::-1]
    first = communications(api, count=3)
    assert (first["totalCount"], first["offset"], first["count"]) == (4, 0, 3)
    assert action_ids(first) == newest_first[:3]
    assert first["links"] == [
        {"href": "/api/v3/communications?offset=3&count=3", "method": "GET", "rel": "next"}
    ]
    second = communications(api, offset=3, count=3)
    assert action_ids(second) == newest_first[3:]
    assert second["links"] == [
        {"href": "/api/v3/communications?offset=0&count=3", "method": "GET", "rel": "prev"}
    ]


def test_communications_are_filtered(api: httpx.Client, orders: Orders, queued: list[str]) -> None:
    lena_first, lena_other, per, lena_second = queued
    assert action_ids(communications(api, contactId=orders.lena)) == [
        lena_second,
        lena_other,
        lena_first,
    ]
    assert action_ids(communications(api, contactId=orders.per.upper())) == [per]
    assert action_ids(communications(api, orderId=orders.lena_order)) == [lena_second, lena_first]
    by_both = communications(api, contactId=orders.lena, orderId=orders.per_order)
    assert by_both["totalCount"] == 0
    assert action_ids(communications(api, actionId=lena_other)) == [lena_other]
    assert communications(api, status="Queued")["totalCount"] == 4
    assert communications(api, status="Sent")["totalCount"] == 0
    page = communications(api, contactId=orders.lena, count=1)
    assert page["links"][0]["href"] == (
        f"/api/v3/communications?contactId={orders.lena}&offset=1&count=1"
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"contactId": str(uuid.uuid4())}, 404),
        ({"contactId": "not-a-contact"}, 404),
        ({"actionId": "not-an-action"}, 400),
        ({"status": "Delivered"}, 400),
        ({"count": 101}, 400),
        ({"offset": -1}, 400),
        ({"orderId": "A\x00B"}, 400),
    ],
)
def test_bad_filters_are_refused(api: httpx.Client, params: dict[str, Any], status: int) -> None:
    response = api.get("/communications", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_deleted_contacts_communications_are_hidden(
    api: httpx.Client, orders: Orders, queued: list[str], settings: EngageSettings
) -> None:
    soft_delete(api, orders.lena)
    assert action_ids(communications(api)) == [queued[2]]
    problem(api.get("/communications", params={"contactId": orders.lena}), 404, "ContactNotFound")


# --- configuration at start ----------------------------------------------------------------------


@pytest.fixture
def broken_automations(tmp_path: Path) -> Path:
    path = tmp_path / "automations.yaml"
    path.write_text(
        "automations:\n"
        "  ConfirmOrder:\n"
        "    channels: [outbox, sms]\n"
        "    templates:\n"
        "      sv-SE: {subject: 'Tack', body: 'Hej {{ contact.firstName }'}\n",
        encoding="utf-8",
    )
    return path


@REFUSED_BEFORE_THE_LAKE
def test_the_intake_does_not_start_with_an_invalid_configuration(
    settings: EngageSettings, broken_automations: Path
) -> None:
    configured = settings.model_copy(update={"automations_path": broken_automations})
    with pytest.raises(AutomationsError) as raised:
        create_app(configured)
    assert str(raised.value) == (
        f"Invalid automations configuration ({broken_automations}):\n"
        "  - automations.ConfirmOrder.channels.1: unknown channel; known: outbox, smtp, webhook\n"
        "  - automations.ConfirmOrder.templates.sv-SE.body: unexpected '}' (line 1)"
    )
