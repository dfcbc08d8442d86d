"""docs/gdpr.md: the officer's curl steps run as written against a real intake and print what the
text says: an extract built and downloaded, a deletion restored, a purge erased with its audit,
nothing served afterwards, and the proof of erasure (the hash and the SQL) finding the requests.

The ```sh blocks run in order in one bash (tests/docs/guide_shell.py) with `API`, `KEY` (scopes as
the guide's set-up block says) and the installation's `ENGAGE_HOME`; Lena Berg's order and
receipt are posted first, as an integrator would have. Between two blocks the pipeline runs once
(gold skipped: what the guide shows does not depend on it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import polars as pl
import pytest
from sqlalchemy import text

from pipelines.processing import process_pending
from schemas.examples import example_text
from schemas.tables import ORDER_CHANGES, ORDER_VERSIONS, RECEIPT_SUBMISSIONS
from storage.apikeys import Scope
from storage.db import session_scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.docs.guide_shell import (
    Check,
    Ran,
    ShellSession,
    answers,
    api_client,
    reader_folder,
    require_tools,
    run_in_order,
)
from tests.docs.markdown import DOCS, broken_links, code_blocks
from tests.support.orders import JSON, example
from tests.support.server import running_intake

GUIDE = DOCS / "gdpr.md"
ORDER = "WEB-2025-000481"
RECEIPT = "SE-WEB-2025-000481-1"
KEY_SCOPES = ("gdpr", "contacts:read")


class Walk:
    def __init__(self, shell: ShellSession, settings: EngageSettings) -> None:
        self.shell = shell
        self.settings = settings
        self.contact = ""

    def var(self, name: str) -> str:
        return self.shell.value(name)


def json_lines(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value)


def helpers(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def find_contact(ran: Ran, walk: Walk) -> None:
    walk.contact = walk.var("CONTACT")
    assert ran.output == walk.contact
    assert len(walk.contact) == 36


def request_extract(ran: Ran, walk: Walk) -> None:
    [accepted] = answers(ran.output)
    request_id = walk.var("EXTRACT")
    assert accepted.status == 202
    assert accepted.headers["location"] == f"/api/v3/gdpr/requests/{request_id}"
    assert json.loads(accepted.body) == {"requestId": request_id, "status": "Pending"}


def download_extract(ran: Ran, walk: Walk) -> None:
    request, summary = json_lines(ran.output)
    request_id = walk.var("EXTRACT")
    assert request == {
        "kind": "extract",
        "status": "Completed",
        "extractUrl": f"/api/v3/gdpr/requests/{request_id}/extract",
    }
    assert summary == {
        "email": "lena.berg@example.org",
        "orders": [{"orderId": ORDER, "versions": 1}],
        "receipts": [RECEIPT],
        "communications": 1,
        "loyalty": 1,
        "integrationLog": 1,
    }
    downloaded = json.loads((walk.shell.cwd / f"personal-data-{request_id}.json").read_text())
    assert [entry["code"] for entry in downloaded["integrationLog"]] == ["LineSumMismatch"]


def soft_delete(ran: Ran, walk: Walk) -> None:
    accepted = answers(ran.output)[0]
    request_id = walk.var("DELETION")
    assert accepted.status == 202
    assert accepted.headers["location"] == f"/api/v3/gdpr/requests/{request_id}"
    body = json.loads(accepted.body)
    assert (body["requestId"], body["status"]) == (request_id, "Pending")
    grace = parsed(body["eraseAfter"]) - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < grace <= timedelta(days=7)
    assert ran.output.splitlines()[-1] == "404"


def pending(ran: Ran, walk: Walk) -> None:
    [request] = json_lines(ran.output)
    assert (request["kind"], request["status"], request["reason"]) == (
        "erasure",
        "Pending",
        "request",
    )
    grace = parsed(request["eraseAfter"]) - parsed(request["requestedAt"])
    assert grace == timedelta(days=7)


def restore(ran: Ran, walk: Walk) -> None:
    contact, request = json_lines(ran.output)
    assert contact == {"contactId": walk.contact, "email": "lena.berg@example.org"}
    assert request["status"] == "Restored"
    assert request["restoredAt"] is not None


def purge(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""
    assert walk.var("ERASURE")


def erased(ran: Ran, walk: Walk) -> None:
    request = json.loads(ran.output)
    assert request["status"] == "Erased"
    assert request["erasedAt"] is not None
    assert request["runId"]
    assert request["database"] == {
        "contacts": 1,
        "order_view": 1,
        "receipt_view": 1,
        "jobs": 2,
        "communications": 1,
        "personal_data_extracts": 1,
    }
    # Gold is not built in this test; on a running installation its rows are counted too.
    assert request["lake"] == {
        "bronze/order_changes": 1,
        "silver/order_change_outcomes": 1,
        "silver/order_versions": 1,
        "silver/orders": 1,
        "silver/order_lines": 2,
        "bronze/receipt_submissions": 1,
        "silver/receipt_submission_outcomes": 1,
        "silver/receipts": 1,
        "silver/receipt_lines": 2,
        "silver/loyalty_ledger": 1,
    }
    assert "lena" not in ran.output.lower()
    assert walk.contact not in ran.output
    # And in the lake: the order's and receipt's rows are gone.
    lake = Lake(walk.settings.resolved_lake_uri)
    for spec, column, value in (
        (ORDER_CHANGES, "order_id", ORDER),
        (ORDER_VERSIONS, "order_id", ORDER),
        (RECEIPT_SUBMISSIONS, "unique_receipt_id", RECEIPT),
    ):
        assert lake.scan(spec).filter(pl.col(column) == value).collect().height == 0


def nothing_served(ran: Ran, walk: Walk) -> None:
    restore_line, download_line, request_line = ran.output.splitlines()
    assert restore_line == "restore 404"
    assert download_line == "extract download 404"
    extract = json.loads(request_line)
    assert extract == {"kind": "extract", "status": "Completed", "extractUrl": None}


def contact_hash(ran: Ran, walk: Walk) -> None:
    with api_client(walk.var("API").removesuffix("/api/v3"), walk.var("KEY")) as api:
        request = api.get(f"/gdpr/requests/{walk.var('ERASURE')}").json()
    assert ran.output == request["contactHash"]
    sql = code_blocks(GUIDE.read_text(), "sql")[0].code.replace("'<hash>'", ":hash")
    with session_scope(walk.settings.resolved_database_url) as session:
        rows = session.execute(text(sql), {"hash": ran.output}).mappings().all()
    assert [(row["kind"], row["status"]) for row in rows] == [
        ("extract", "Completed"),
        ("erasure", "Restored"),
        ("erasure", "Erased"),
    ]
    assert rows[-1]["request_id"] == walk.var("ERASURE")
    assert all(row["reason"] == "request" for row in rows)


WALK: list[tuple[str, Check]] = [
    ("poll() {", helpers),
    ("/contacts/id?email=", find_contact),
    ("/personal-data-extract", request_extract),
    ('-o "personal-data-$EXTRACT.json"', download_extract),
    ('-X DELETE "$API/contacts/$CONTACT"', soft_delete),
    ('"$API/gdpr/requests/$DELETION"', pending),
    ("/restore", restore),
    ("?purge=true", purge),
    ('poll "$ERASURE"', erased),
    ("extract download", nothing_served),
    ("hmac.new", contact_hash),
]


def populate(api: httpx.Client) -> None:
    """The web shop's store and articles, Lena Berg, her order (with its order confirmation) and
    her receipt, as the integrator guide's walk-through left them."""
    store = {"externalId": "Webshop-SE", "name": "Webshop Sweden", "countryCode": "SE"}
    assert api.post("/stores", json=[store]).status_code == 202
    articles = api.post(
        "/articles/import",
        content=example_text("articles.xml"),
        headers={"content-type": "application/xml"},
    )
    assert articles.status_code == 202, articles.text
    created = api.post("/contacts", json={"email": "lena.berg@example.org", "firstName": "Lena"})
    assert created.status_code == 201, created.text
    for path, name in (("/orders", "order-create.json"), ("/receipts", "receipt-purchase.json")):
        accepted = api.post(path, content=json.dumps(example(name)), headers=JSON)
        assert accepted.status_code == 202, accepted.text


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.mark.databases("sqlite")  # the guide's SQL is plain; the steps' subject is the API
def test_the_officers_steps_run_as_written(
    settings: EngageSettings, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    require_tools("curl", "jq", "python3")
    guide = GUIDE.read_text()
    assert f"--scopes {','.join(KEY_SCOPES)}" in guide, "the set-up block's scopes changed"
    key = make_key(settings, *(Scope(scope) for scope in KEY_SCOPES))

    def process() -> None:
        assert process_pending(settings, instance=instance, gold=False, log_level="ERROR")

    with running_intake(settings) as base_url:
        with api_client(base_url, make_key(settings, Scope.ADMIN)) as admin:
            populate(admin)
        process()
        env = {
            "API": f"{base_url}/api/v3",
            "KEY": key,
            "ENGAGE_HOME": str(settings.resolved_home),
            "ENGAGE_GDPR_HASH_KEY": "",  # the key file, as an installation without the variable
        }
        shell = ShellSession(reader_folder(tmp_path), env)
        try:
            run_in_order(code_blocks(guide, "sh"), WALK, shell, Walk(shell, settings), process)
        finally:
            shell.close()


def test_the_guide_links_resolve() -> None:
    assert broken_links(GUIDE) == []
