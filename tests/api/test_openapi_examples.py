"""The OpenAPI document as served at /openapi.json, held against the running API over HTTP.

Every operation is described (summary, description, tags) and has examples; every request example
is accepted by a fresh installation with a documented success status; every error example with a
documented request (`x-request`) is exactly what the API answers to that request; every example
fits its schema. The examples tell one story (ingest_api/api_docs/story.py), so they are posted in
the order the story needs: the contact first, the order before its changes, the action last.

One installation (SQLite, local lake) serves the whole module: it is the same for every test and
starting one costs most of a test's time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from ingest_api.api_docs import all_operations
from ingest_api.app import prepare_storage
from storage.apikeys import Scope
from storage.db import session_scope
from storage.order_view import OrderViewRow, publish
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.server import running_intake

Operation = tuple[str, str]
"""(METHOD, path template)."""

WRITE_ORDER: list[Operation] = [
    ("POST", "/api/v3/contacts"),
    ("PATCH", "/api/v3/contacts/{contactId}"),
    ("POST", "/api/v3/stores"),
    ("POST", "/api/v3/articles"),
    ("POST", "/api/v3/articles/import"),
    ("POST", "/api/v3/orders"),
    ("PUT", "/api/v3/orders/{orderId}"),
    ("POST", "/api/v3/orders/{orderId}/change-status"),
    ("POST", "/api/v3/orders/{orderId}/change-delivery"),
    ("POST", "/api/v3/orders/{orderId}/action"),
    ("POST", "/api/v3/receipts"),
    ("POST", "/api/v3/segments"),
    ("POST", "/api/v3/segments/preview"),
]
"""The operations with request examples, in the order of the story. The action comes after the
order it names has a processed version (seeded: processing is not under test here)."""
JSON_TYPES = ("application/json", "application/problem+json")


@dataclass
class Served:
    """The running intake, its document, and what posting the request examples produced."""

    base_url: str
    key: str
    settings: EngageSettings
    document: dict[str, Any]
    contact_id: str = ""
    answers: dict[tuple[Operation, str], httpx.Response] = field(default_factory=dict)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"apikey": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


def operations(document: dict[str, Any]) -> Iterator[tuple[Operation, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield (method.upper(), path), operation


def examples(media: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return media.get("examples", {})


def success_statuses(operation: dict[str, Any]) -> list[int]:
    return [int(status) for status in operation["responses"] if int(status) < 400]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A fresh installation without a rate limit (the tests send bursts), with every request
    example posted."""
    folder = tmp_path_factory.mktemp("openapi")
    settings = EngageSettings(
        home=folder / "engage",
        database_url=f"sqlite:///{folder / 'engage.db'}",
        rate_limit_per_s=0.0,
    )
    prepare_storage(settings)
    key = make_key(settings, Scope.ADMIN)
    with running_intake(settings) as base_url:
        document = httpx.get(f"{base_url}/openapi.json").json()
        intake = Served(base_url, key, settings, document)
        post_request_examples(intake)
        yield intake


def post_request_examples(served: Served) -> None:
    """Send every request example, in the story's order; keep the answers for the tests."""
    docs = dict(operations(served.document))
    with served.client(served.key) as http:
        for key in WRITE_ORDER:
            if key == ("POST", "/api/v3/orders/{orderId}/action"):
                seed_processed_order(served, docs)
            for name, request in request_examples(docs[key]):
                answer = send(http, served, key, docs[key], body=request)
                served.answers[(key, name)] = answer
                if key == ("POST", "/api/v3/contacts"):
                    served.contact_id = answer.json()["contactId"]


def request_examples(operation: dict[str, Any]) -> Iterator[tuple[str, tuple[str, Any]]]:
    """(example name, (media type, value)) of the operation's request body."""
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, media in list(content.items())[:1]:
        for name, example in examples(media).items():
            yield name, (media_type, example["value"])


def send(
    http: httpx.Client,
    served: Served,
    key: Operation,
    operation: dict[str, Any],
    body: tuple[str, Any] | None = None,
    replay: dict[str, Any] | None = None,
) -> httpx.Response:
    """Send `key` with the documented parameter examples, or what `replay` says instead."""
    replay = replay or {}
    method, path = key
    values = {**parameter_examples(served, operation), **replay.get("path", {})}
    url = path.format(**values)
    headers: dict[str, str] = {}
    content: str | None = None
    if "body" in replay:
        content, headers["content-type"] = replay["body"], replay["contentType"]
    elif body is not None:
        media_type, value = body
        content = value if isinstance(value, str) else json.dumps(value)
        headers["content-type"] = media_type
    return http.request(method, url, params=replay.get("query"), content=content, headers=headers)


def parameter_examples(served: Served, operation: dict[str, Any]) -> dict[str, str]:
    """Path parameters by their examples; the documented contact is the one posted."""
    documented_contact = created_contact_example(served.document)
    values = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = parameter["example"]
            values[parameter["name"]] = served.contact_id if value == documented_contact else value
    return values


def created_contact_example(document: dict[str, Any]) -> str:
    created = document["paths"]["/api/v3/contacts"]["post"]["responses"]["201"]
    [example] = examples(created["content"]["application/json"]).values()
    return example["value"]["contactId"]


def seed_processed_order(served: Served, docs: dict[Operation, dict[str, Any]]) -> None:
    """Publish the documented processed order as its current version, as processing would,
    with the versionTag the action example names."""
    read = docs[("GET", "/api/v3/orders/{orderId}")]["responses"]["200"]
    [order] = examples(read["content"]["application/json"]).values()
    document = {k: v for k, v in order["value"].items() if k not in ("versionTag", "contactId")}
    now = datetime.now(UTC)
    row = OrderViewRow(
        order_id=document["orderId"],
        contact_id=served.contact_id,
        version_tag=order["value"]["versionTag"],
        version_number=4,
        change_seq=1,
        status=document["status"],
        created_at=now,
        last_changed_at=now,
        processed_at=now,
        document=json.dumps(document),
        is_deleted=False,
    )
    with session_scope(served.settings.resolved_database_url) as session:
        publish(session, [row])


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for `schema` whose `#/components/...` references resolve in `document`."""
    return Draft202012Validator({**schema, "components": document["components"]})


def schema_errors(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    return [error.message[:300] for error in validator(document, schema).iter_errors(value)]


def test_every_operation_is_described_with_examples(served: Served) -> None:
    """Summary, a description that states the scope needed, declared tags, an example of the
    answer and of every request body; and no documentation of an operation that is gone."""
    tags = {tag["name"]: tag.get("description") for tag in served.document["tags"]}
    problems = []
    for key, operation in operations(served.document):
        problems += [f"{key}: {problem}" for problem in description_problems(operation, tags)]
    assert len(list(operations(served.document))) >= 47
    assert problems == []
    assert all(tags.values()), "every tag has a description"
    assert set(all_operations()) <= {key for key, _ in operations(served.document)}


def description_problems(operation: dict[str, Any], tags: dict[str, str | None]) -> list[str]:
    problems = []
    if not operation.get("summary"):
        problems.append("no summary")
    description = operation.get("description", "")
    prose, _, access = description.rpartition("\n\n")
    if len(prose) < 60:
        problems.append("no description worth the name")
    if not access.startswith(("**Scope:**", "No API key")):
        problems.append("the description does not say which key it needs")
    if not operation.get("tags") or not set(operation["tags"]) <= set(tags):
        problems.append("no declared tag")
    if not has_success_example(operation):
        problems.append("no example of its answer")
    content = operation.get("requestBody", {}).get("content", {})
    if any(not examples(media) for media in content.values()):
        problems.append("a request body without examples")
    return problems


def has_success_example(operation: dict[str, Any]) -> bool:
    """A 2xx/3xx answer with an example (or without a body, as 204); an operation that never
    succeeds (the immutable receipt methods) documents its refusal instead."""
    responses = operation["responses"]
    statuses = success_statuses(operation) or [405]
    return any(
        str(status) in responses
        and (
            "content" not in responses[str(status)]
            or any(examples(media) for media in responses[str(status)]["content"].values())
        )
        for status in statuses
    )


def test_every_example_fits_its_schema(served: Served) -> None:
    """Success examples fit their response schemas, error examples the problem document."""
    document = served.document
    failures = []
    for key, operation in operations(document):
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if media_type not in JSON_TYPES:
                    continue
                for name, example in examples(media).items():
                    errors = schema_errors(document, media["schema"], example["value"])
                    failures += [f"{key} {status} {name}: {error}" for error in errors]
    assert failures == []


def test_every_request_example_is_accepted(served: Served) -> None:
    """Each documented body, sent in the story's order, gets a documented success status and an
    answer that fits the documented schema."""
    docs = dict(operations(served.document))
    documented = {
        (key, name) for key, operation in docs.items() for name, _ in request_examples(operation)
    }
    assert set(served.answers) == documented, "WRITE_ORDER lists every operation with a body"
    failures = []
    for (key, name), answer in served.answers.items():
        operation = docs[key]
        if answer.status_code not in success_statuses(operation):
            failures.append(f"{key} {name}: {answer.status_code} {answer.text[:500]}")
            continue
        media = operation["responses"][str(answer.status_code)]["content"]["application/json"]
        errors = schema_errors(served.document, media["schema"], answer.json())
        failures += [f"{key} {name}: {error}" for error in errors]
    assert failures == []


def test_error_examples_are_what_the_api_answers(served: Served) -> None:
    """Every error example that names its request (`x-request`) is replayed: the answer is the
    documented problem document, field errors, codes and messages included. Every 400 example
    names its request."""
    failures = []
    replayed = 0
    with served.client(served.key) as http:
        for key, operation, status, name, example in error_examples(served.document):
            if "x-request" not in example:
                if status == 400:
                    failures.append(f"{key} 400 {name}: no x-request")
                continue
            answer = send(http, served, key, operation, replay=example["x-request"])
            replayed += 1
            if (answer.status_code, problem_of(answer)) != (status, example["value"]):
                failures.append(f"{key} {name}: {answer.status_code} {answer.text[:600]}")
    assert failures == []
    assert replayed >= 60


def error_examples(
    document: dict[str, Any],
) -> Iterator[tuple[Operation, dict[str, Any], int, str, dict[str, Any]]]:
    for key, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            for media in response.get("content", {}).values():
                for name, example in examples(media).items():
                    yield key, operation, int(status), name, example


def problem_of(answer: httpx.Response) -> Any:
    content_type = answer.headers.get("content-type", "")
    return answer.json() if content_type.startswith("application/problem+json") else answer.text


SHARED_ERRORS = {"MissingApiKey": 401, "InvalidApiKey": 401, "MissingScope": 403}


def caller_key(name: str, settings: EngageSettings) -> str | None:
    """The key of a caller who gets the shared error `name`."""
    if name == "MissingApiKey":
        return None
    if name == "InvalidApiKey":
        return "eo_revoked-or-never-issued"
    return make_key(settings)  # valid, without scopes


@pytest.mark.parametrize("name", list(SHARED_ERRORS))
def test_shared_error_examples_are_what_the_api_answers(served: Served, name: str) -> None:
    """No key, an unknown key and a key without scopes, on every operation that needs a key:
    each answers exactly its documented example (the 403 names the operation's scopes)."""
    status = SHARED_ERRORS[name]
    failures = []
    with served.client(caller_key(name, served.settings)) as http:
        for key, operation in operations(served.document):
            if "security" not in operation:
                continue
            media = operation["responses"][str(status)]["content"]["application/problem+json"]
            body = next((request for _, request in request_examples(operation)), None)
            answer = send(http, served, key, operation, body=body)
            expected = examples(media)[name]["value"]
            if (answer.status_code, problem_of(answer)) != (status, expected):
                failures.append(f"{key}: {answer.status_code} {answer.text[:300]}")
    assert failures == []


def test_swagger_ui_at_docs_shows_the_schema(served: Served) -> None:
    """What HTTP shows of the page; rendering it is a headless browser's test."""
    with served.client() as http:
        page = http.get("/docs")
        schema = http.get("/openapi.json")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in page.text.lower()
    assert "/openapi.json" in page.text
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "engage-orders"
