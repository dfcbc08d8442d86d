"""docs/integrator-guide.md: its curl walk-through runs as written against a real intake and prints
what the text says, and its error catalogue names every code the code base can answer or record.

The walk-through's ```sh blocks run in order in one bash (tests/docs/guide_shell.py), with `API`
and `KEY` set as its ```bash set-up block tells the reader to. Between two blocks the pipeline
runs once, as a running installation does by itself within seconds; gold is skipped, since
nothing in the walk-through reads it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import BaseModel, ValidationError

from pipelines.processing import process_pending
from schemas.actions import ActionRequest
from schemas.articles import ArticleBatch
from schemas.automations import CHANNELS
from schemas.contacts import ContactPatch, NewContact
from schemas.examples import example_json
from schemas.orders import ChangeDelivery, ChangeStatus, Order
from schemas.problems import _CODES, field_errors_from_validation
from schemas.receipts import Receipt
from schemas.segment_definitions import SegmentCriteria, SegmentDefinition
from schemas.stores import StoreBatch
from storage.apikeys import Scope
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.docs.guide_shell import (
    Answer,
    Check,
    Ran,
    ShellSession,
    answers,
    reader_folder,
    require_tools,
    run_in_order,
)
from tests.docs.markdown import DOCS, REPOSITORY, broken_links, code_blocks, section
from tests.support.server import running_intake

GUIDE = DOCS / "integrator-guide.md"
ORDER = "WEB-2025-000481"
KEY_SCOPES = (
    "orders:write",
    "orders:read",
    "receipts:write",
    "contacts:write",
    "contacts:read",
    "articles:write",
)
"""The scopes the guide's set-up block asks the operator for: enough for the whole walk."""


@dataclass
class Walk:
    """What the checks need besides a block's output: the shell's variables, the contact."""

    shell: ShellSession
    contact: str = ""

    def var(self, name: str) -> str:
        return self.shell.value(name)


def only(found: list[Answer], count: int) -> list[Answer]:
    assert len(found) == count, found
    return found


def json_lines(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines() if line.startswith(("{", "["))]


# Each ```sh block of the walk-through, in order: a snippet of its code and what the guide says
# it prints (run_in_order).


def helpers(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def stores(ran: Ran, walk: Walk) -> None:
    [answer] = only(answers(ran.output), 1)
    assert answer.status == 202
    assert json.loads(answer.body)["count"] == 1


def articles(ran: Ran, walk: Walk) -> None:
    xml, posted = only(answers(ran.output), 2)
    assert (xml.status, json.loads(xml.body)["count"]) == (202, 2)
    assert (posted.status, json.loads(posted.body)["count"]) == (202, 1)
    assert xml.headers["location"] == f"/api/v3/articles/jobs/{walk.var('ARTICLES_JOB')}"


def articles_job(ran: Ran, walk: Walk) -> None:
    [answer] = answers(ran.output)
    assert answer.status == 200
    assert json.loads(answer.body)["status"] == "Succeeded"


def contact(ran: Ran, walk: Walk) -> None:
    [created] = answers(ran.output)
    assert created.status == 201
    walk.contact = walk.var("CONTACT")
    assert created.headers["location"] == f"/api/v3/contacts/{walk.contact}"
    assert json_lines(ran.output)[-1] == {"contactId": walk.contact}


def create_order(ran: Ran, walk: Walk) -> None:
    [accepted] = answers(ran.output)
    job = walk.var("JOB")
    assert accepted.status == 202
    assert accepted.headers["location"] == f"/api/v3/orders/jobs/{job}"
    links = [{"href": f"/api/v3/orders/jobs/{job}", "method": "GET", "rel": "status"}]
    assert json.loads(accepted.body) == {"jobId": job, "links": links}
    queued = json_lines(ran.output)[-1]
    assert (queued["status"], queued["orderId"]) == ("Queued", ORDER)


def first_version(ran: Ran, walk: Walk) -> None:
    [found] = answers(ran.output)
    assert found.status == 302
    assert found.headers["location"] == f"/api/v3/orders/{ORDER}"
    body = json.loads(found.body)
    assert body["status"] == "Succeeded"
    assert body["versionTag"] == walk.var("TAG") != ""


def read_order(ran: Ran, walk: Walk) -> None:
    [order] = answers(ran.output)
    tag = walk.var("TAG")
    assert order.status == 200
    assert order.headers["etag"] == f'"{tag}"'
    body = json.loads(order.body)
    assert (body["versionTag"], body["contactId"]) == (tag, walk.contact)


def replace(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""
    assert walk.var("JOB")


def replaced(ran: Ran, walk: Walk) -> None:
    old, new = walk.var("OLD_TAG"), walk.var("TAG")
    assert ran.output == f"versionTag {old} -> {new}"
    assert old != new != "null"


def stale_replace(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def conflict(ran: Ran, walk: Walk) -> None:
    [failed] = answers(ran.output)
    assert failed.status == 422
    problem = json.loads(failed.body)
    assert problem["type"] == "urn:engage-orders:problem:JobFailed"
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [("", "VersionConflict")]


def change_status(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def status_changed(ran: Ran, walk: Walk) -> None:
    [succeeded] = json_lines(ran.output)
    assert succeeded["status"] == "Succeeded"


def delivery_changed(ran: Ran, walk: Walk) -> None:
    [order] = json_lines(ran.output)
    assert order["externalStatus"] == "Shipped"
    assert order["delivery"]["trackingNumber"] == "BB123456789SE"
    assert order["versionTag"] == walk.var("TAG")


def actions(ran: Ran, walk: Walk) -> None:
    triggered, stale = only(answers(ran.output), 2)
    assert triggered.status == 202
    action_id = json.loads(triggered.body)["actionId"]
    assert triggered.headers["location"] == f"/api/v3/communications?actionId={action_id}"
    assert stale.status == 404
    assert json.loads(stale.body)["type"] == "urn:engage-orders:problem:OrderNotFound"


def communications(ran: Ran, walk: Walk) -> None:
    sent = [(c["action"], c["language"], c["status"]) for c in json_lines(ran.output)]
    assert sent == [
        ("ConfirmOrder", "en-GB", "Sent"),
        ("ConfirmShipment", "sv-SE", "Sent"),
        ("ConfirmOrder", "sv-SE", "Sent"),
    ]


def post_receipts(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def receipt_jobs(ran: Ran, walk: Walk) -> None:
    purchase, returned, again = json_lines(ran.output)
    assert [job["status"] for job in (purchase, returned, again)] == ["Succeeded"] * 3
    assert [job["duplicate"] for job in (purchase, returned, again)] == [False, False, True]
    assert [w["code"] for w in purchase["warnings"]] == ["LineSumMismatch"]
    assert "1306.0" in purchase["warnings"][0]["message"]
    assert "1257.0" in purchase["warnings"][0]["message"]
    assert "warnings" not in returned
    assert "warnings" not in again


def receipts_and_loyalty(ran: Ran, walk: Walk) -> None:
    *receipts, loyalty = json_lines(ran.output)
    assert receipts == [
        {"uniqueReceiptId": "SE-WEB-2025-000481-R1", "totalGrossPrice": -129},
        {"uniqueReceiptId": "SE-WEB-2025-000481-1", "totalGrossPrice": 1306},
    ]
    assert loyalty == {"balance": 109 - 11, "bonusChecksIssued": 0}


def integration_log(ran: Ran, walk: Walk) -> None:
    assert json_lines(ran.output) == [
        {"type": "Receipts", "severity": "Warning", "code": "LineSumMismatch", "orderId": None},
        {"type": "Orders", "severity": "Error", "code": "VersionConflict", "orderId": ORDER},
    ]


def failed_jobs(ran: Ran, walk: Walk) -> None:
    [failed] = json_lines(ran.output)
    assert (failed["status"], failed["orderId"]) == ("Failed", ORDER)
    assert [error["code"] for error in failed["errors"]] == ["VersionConflict"]


def delete(ran: Ran, walk: Walk) -> None:
    assert ran.output == ""


def deleted(ran: Ran, walk: Walk) -> None:
    job_line, order_line = ran.output.splitlines()
    assert job_line.startswith("HTTP/1.1 302")
    assert order_line.startswith("HTTP/1.1 404")


def idempotent_retry(ran: Ran, walk: Walk) -> None:
    lines = ran.output.replace("\r", "").splitlines()
    first, second = json_lines(ran.output)
    assert lines == [
        "HTTP/1.1 202 Accepted",
        json.dumps(first, separators=(",", ":")),
        "HTTP/1.1 202 Accepted",
        "idempotent-replayed: true",
        json.dumps(second, separators=(",", ":")),
    ]
    assert first == second


def format_error(ran: Ran, walk: Walk) -> None:
    problem = json.loads(ran.output)
    assert problem == json.loads(code_blocks(GUIDE.read_text(), "json")[0].code)


WALK: list[tuple[str, Check]] = [
    ("poll() {", helpers),
    ('"$API/stores"', stores),
    ("articles/import", articles),
    ('poll "articles/jobs/$ARTICLES_JOB"', articles_job),
    ('"$API/contacts"', contact),
    ('-X POST "$API/orders"', create_order),
    ('TAG=$(poll "orders/jobs/$JOB"', first_version),
    ('curl -si "$API/orders/WEB-2025-000481"', read_order),
    ('If-Match: \\"$TAG\\"', replace),
    ("OLD_TAG=$TAG", replaced),
    ('If-Match: \\"$OLD_TAG\\"', stale_replace),
    ('poll "orders/jobs/$JOB"', conflict),
    ("change-status", change_status),
    ("change-delivery", status_changed),
    ("{externalStatus, delivery, versionTag}", delivery_changed),
    ("/action", actions),
    ("/communications?orderId=", communications),
    ("receipt-return.json", post_receipts),
    ('poll "receipts/jobs/$job"', receipt_jobs),
    ("/loyalty", receipts_and_loyalty),
    ("/integration-log", integration_log),
    ("/orders/jobs?status=Failed", failed_jobs),
    ("-X DELETE", delete),
    ("head -n 1", deleted),
    ("Idempotency-Key: $REQUEST_KEY", idempotent_retry),
    ('2025-11-20T09:41:07"', format_error),
]


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.mark.databases("sqlite")  # the guide's subject is the HTTP API, not the database
def test_the_walk_through_runs_as_written(
    settings: EngageSettings, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    require_tools("curl", "jq")
    guide = GUIDE.read_text()
    assert f"--scopes {','.join(KEY_SCOPES)}" in guide, "the set-up block's scopes changed"
    key = make_key(settings, *(Scope(scope) for scope in KEY_SCOPES))

    def process() -> None:
        assert process_pending(settings, instance=instance, gold=False, log_level="ERROR")

    with running_intake(settings) as base_url:
        shell = ShellSession(reader_folder(tmp_path), {"API": f"{base_url}/api/v3", "KEY": key})
        try:
            run_in_order(code_blocks(guide, "sh"), WALK, shell, Walk(shell), process)
        finally:
            shell.close()


# The error catalogue: every code the code base can put in a problem's `type`, an `errors[].code`,
# a job's errors or the integration log, collected from the source itself.

SOURCE_PACKAGES = ("ingest_api", "schemas", "storage", "assets", "pipelines")
NOT_API = {Path("schemas/automations.py")}
"""Codes that never reach an integrator: the automations file is checked when the intake starts,
and its errors go to the operator's console."""
URN = "urn:engage-orders:problem:"
POSITIONAL = {"PydanticCustomError": 0, "ProcessingWarning": 0, "_query_error": 1, "_problem": 2}
"""Calls whose positional argument is a code (and its position)."""
CODE_KEYWORDS = {"code", "custom_error_type"}
CHECK_NAMES = Path("schemas/frames.py")
"""The pandera models: their check names are the codes a failed check reports."""
DYNAMIC = {
    "_CODES.get(item['type'], _pascal(item['type']))": set(_CODES.values()),
    "check if check in WARNING_CODES else 'InvalidValue'": {"InvalidValue"},
    "f'{communication.channel.capitalize()}DeliveryFailed'": {
        f"{channel.capitalize()}DeliveryFailed" for channel in CHANNELS
    },
    # Pass-throughs of codes given by their callers, which the collection sees there.
    "code": set(),
    "entry.code": set(),
}
"""Every code computed at run time, by its expression in the source, and the codes it yields. A new
expression fails the test until it is added here with the codes it can give."""


def _source_codes() -> tuple[dict[str, set[str]], set[str]]:
    """Codes found in the source (code -> files), and the dynamic expressions met."""
    found: dict[str, set[str]] = {}
    dynamic: set[str] = set()
    for package in SOURCE_PACKAGES:
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            relative = path.relative_to(REPOSITORY)
            if relative not in NOT_API:
                for code in _codes_in(ast.parse(path.read_text()), relative, dynamic):
                    found.setdefault(code, set()).add(str(relative))
    return found, dynamic


def _codes_in(tree: ast.Module, path: Path, dynamic: set[str]) -> Iterator[str]:
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        code = _problem_type_code(node)
        if code:
            yield code
        if not isinstance(node, ast.Call):
            continue
        values = [
            keyword.value
            for keyword in node.keywords
            if keyword.arg in CODE_KEYWORDS or (keyword.arg == "name" and path == CHECK_NAMES)
        ]
        function = node.func
        name = getattr(function, "id", None) or getattr(function, "attr", None)
        if name in POSITIONAL and len(node.args) > POSITIONAL[name]:
            values.append(node.args[POSITIONAL[name]])
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.value
            elif isinstance(value, ast.Name) and value.id in constants:
                yield constants[value.id]
            else:
                expression = ast.unparse(value)
                dynamic.add(expression)
                yield from DYNAMIC.get(expression, ())


def _problem_type_code(node: ast.AST) -> str | None:
    """The code of a problem `type` written out (`urn:engage-orders:problem:JobFailed`); the bare
    prefix is the f-string that builds every other type from its `code=`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.removeprefix(URN) if node.value.startswith(URN) else None
    return None


WRONG_VALUES: list[Any] = [
    *("x", "", "a" * 5000, "2025-13-45", "2025-11-20T09:41:07", "abc\u0000", "\u0007"),
    *("P", "-P30D", "1980-02-30", "2999-01-01"),
    *(1.23456, 12345678901234567.5, 10**30, -1, 0, True, None, [], {}, [1], {"a": 1}),
]
"""Values put in every place of a valid body, to find the codes pydantic's own checks give."""


def _valid_bodies() -> list[tuple[type[BaseModel], Any]]:
    contact = {
        "contactType": "Member",
        "firstName": "Lena",
        "email": "lena.berg@example.org",
        "mobilePhone": "+46701234567",
        "countryCode": "SE",
        "birthDay": "1985-04-12",
    }
    article = {"sku": "A-1", "name": "Cap", "awardsBonus": True, "gtin": "7350012345678"}
    criteria = {
        "all": [
            {"order": {"ongoing": True, "line": {"article": {"maincategory": "Jackets"}}}},
            {"not": {"receipt": {"since": "P30D"}}},
            {"contact": {"frequency": {"min": 1, "max": 3}}},
        ]
    }
    return [
        (Order, example_json("order-create.json")),
        (ChangeStatus, example_json("order-change-status.json")),
        (ChangeDelivery, example_json("order-change-delivery.json")),
        (ActionRequest, example_json("order-action.json")),
        (Receipt, example_json("receipt-purchase.json")),
        (NewContact, contact),
        (ContactPatch, contact),
        (ArticleBatch, [article]),
        (StoreBatch, [{"externalId": "Webshop-SE", "countryCode": "SE", "currency": "SEK"}]),
        (SegmentDefinition, {"name": "jackets", "criteria": criteria}),
        (SegmentCriteria, {"criteria": criteria}),
    ]


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from _places(child, (*path, key))


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copy


def _model_codes() -> set[str]:
    """The codes the request models answer for wrong values in every place of a valid body."""
    codes: set[str] = set()
    for model, body in _valid_bodies():
        assert _errors(model, json.dumps(body).encode()) == set(), model.__name__
        codes |= _errors(model, b"{not json")
        for path in _places(body):
            for value in WRONG_VALUES:
                codes |= _errors(model, json.dumps(_with(body, path, value)).encode())
    return codes


def _errors(model: type[BaseModel], body: bytes) -> set[str]:
    try:
        model.model_validate_json(body)
    except ValidationError as error:
        return {item.code for item in field_errors_from_validation(error)}
    return set()


def catalogued_codes(guide: str) -> set[str]:
    """The codes in the first column of the error catalogue's tables."""
    codes: set[str] = set()
    for line in section(guide, "## Error catalogue").splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            codes.update(re.findall(r"`([A-Za-z]+)`", first))
    return codes


def test_the_error_catalogue_names_every_code() -> None:
    found, dynamic = _source_codes()
    assert dynamic <= set(DYNAMIC), (
        f"new computed codes, add them to DYNAMIC: {dynamic - set(DYNAMIC)}"
    )
    codes = set(found) | _model_codes()
    catalogued = catalogued_codes(GUIDE.read_text())
    missing = {code: sorted(found.get(code, {"(request models)"})) for code in codes - catalogued}
    assert not missing, f"codes the error catalogue of {GUIDE.name} lacks: {missing}"
    assert catalogued <= codes, f"catalogued, but no code gives them: {catalogued - codes}"
    # The collection does find codes in all the places codes come from.
    assert {"FormatError", "VersionConflict", "LineSumMismatch", "ActionDiscarded"} <= codes
    assert {"SmtpDeliveryFailed", "DateParsing", "IdempotencyKeyReused", "JobFailed"} <= codes


def test_the_guide_links_resolve_and_show_the_api_docs() -> None:
    assert broken_links(GUIDE) == []
    assert re.search(r"!\[[^\]]+\]\(img/api-docs\.png\)", GUIDE.read_text())
