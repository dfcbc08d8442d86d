"""Write the documentation of ingest_api/api_docs into the schema FastAPI generated.

What every `/api/v3` operation shares is derived from the routes rather than written per operation:
the scope it needs (from its `require_scope` dependency), the errors of authentication, rate
limiting and outages, and the `Idempotency-Key` header of the POSTs that honour it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import BaseRoute

from ingest_api.api_docs import all_operations
from ingest_api.api_docs import problems as generic
from ingest_api.api_docs.components import add_models
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Schema
from ingest_api.deps import LANDING_DEPENDENCIES, REQUIRED_SCOPES
from ingest_api.idempotency import LANDING_POSTS, VALID_KEY
from schemas.problems import PROBLEM_MEDIA_TYPE
from storage.apikeys import Scope

API_KEY_SCHEME = "apikey"
SECURITY_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "apikey",
    "description": "Your API key (`x-api-key` is accepted too). Keys carry scopes; `admin` "
    "holds them all.",
}
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": VALID_KEY.pattern},
    "description": "Optional. Retrying with the same key and body within 24 hours answers the "
    "first answer again (header `Idempotent-Replayed: true`) without landing twice; the same "
    "key with another body is refused (422 `IdempotencyKeyReused`).",
    "example": "0c6f5a0e-3b1d-4f7a-9c2e-8d5b4a3f2e10",
}
Refs = Mapping[type[BaseModel], dict[str, str]]
"""Each documented model → its `$ref` in `components`."""
HEADERS = {
    "Location": "Where to follow up: the job to poll, or the created resource.",
    "Retry-After": "Seconds to wait before retrying.",
}
LOCATION_STATUSES = (201, 202, 302)
RETRY_STATUSES = (429, 503)


def document_operations(schema: dict[str, Any], routes: list[BaseRoute]) -> None:
    """Add descriptions of access, request bodies, examples and shared errors to `schema`."""
    docs = all_operations()
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[API_KEY_SCHEME] = SECURITY_SCHEME
    refs = add_models(components.setdefault("schemas", {}), _models(docs.values()))
    dependencies = {key: list(_calls(dependant)) for key, dependant in _dependants(routes)}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            key = (method.upper(), path)
            calls = dependencies.get(key, [])
            doc = docs.get(key, OperationDoc({}))
            _document(operation, key, doc, calls, refs)


def _document(
    operation: dict[str, Any],
    key: tuple[str, str],
    doc: OperationDoc,
    calls: list[Any],
    refs: Refs,
) -> None:
    scopes = _scopes(calls)
    _describe_access(operation, scopes)
    if doc.body is not None:
        operation["requestBody"] = _request_body(doc.body, refs)
    _add_parameters(operation, key, doc.parameters)
    responses = operation.setdefault("responses", {})
    for status, answer in doc.responses.items():
        _set_response(responses, status, answer, refs)
    if scopes:
        lands = any(call in LANDING_DEPENDENCIES for call in calls)
        _add_shared_errors(responses, scopes, doc.body, lands)
    if not any(status < 400 for status in doc.responses):
        responses.pop("200", None)
    _document_headers(responses)


def _dependants(routes: list[BaseRoute]) -> Iterator[tuple[tuple[str, str], Dependant]]:
    """Each operation's dependencies, as FastAPI resolves them for the routers' prefixes."""
    for route in iter_route_contexts(routes):
        if isinstance(route.original_route, APIRoute):
            for method in route.methods or ():
                yield (method, route.path_format), route.dependant


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _scopes(calls: list[Any]) -> tuple[Scope, ...]:
    return next((REQUIRED_SCOPES[call] for call in calls if call in REQUIRED_SCOPES), ())


def _describe_access(operation: dict[str, Any], scopes: tuple[Scope, ...]) -> None:
    """State the scope the operation needs; Swagger UI sends the key once it is authorised."""
    if scopes:
        needed = " or ".join(f"`{scope.value}`" for scope in scopes)
        access = f"**Scope:** {needed} (or `admin`)."
        operation["security"] = [{API_KEY_SCHEME: []}]
    else:
        access = "No API key needed."
    description = operation.get("description", "").strip()
    operation["description"] = f"{description}\n\n{access}" if description else access


def _models(docs: Iterable[OperationDoc]) -> Iterator[type[BaseModel]]:
    for doc in docs:
        schemas = [doc.body.schema if doc.body else None]
        schemas += [answer.schema for answer in doc.responses.values()]
        yield from (schema for schema in schemas if isinstance(schema, type))


def _schema(schema: Schema, refs: Refs) -> dict[str, Any]:
    return dict(refs[schema]) if isinstance(schema, type) else schema


def _examples(examples: Mapping[str, Example]) -> dict[str, Any]:
    return {name: example.document() for name, example in examples.items()}


def _request_body(body: Body, refs: Refs) -> dict[str, Any]:
    media = {"schema": _schema(body.schema, refs), "examples": _examples(body.examples)}
    return {"required": True, "content": dict.fromkeys(body.media_types, media)}


def _add_parameters(
    operation: dict[str, Any], key: tuple[str, str], examples: Mapping[str, Any]
) -> None:
    parameters = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter["name"] in examples:
            parameter["example"] = examples[parameter["name"]]
    method, path = key
    if method == "POST" and LANDING_POSTS.match(path):
        parameters.append(IDEMPOTENCY_KEY)
    if not parameters:
        operation.pop("parameters")


def _set_response(
    responses: dict[str, Any],
    status: int,
    answer: Answer,
    refs: Refs,
) -> None:
    response = responses.setdefault(str(status), {})
    response["description"] = answer.description or response.get("description") or _phrase(status)
    if answer.schema is not None:
        content = {"schema": _schema(answer.schema, refs)}
        response["content"] = {answer.media_type: content}
    elif status >= 400:
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
    elif answer.examples:
        response.setdefault("content", {}).setdefault(answer.media_type, {})
    for media in response.get("content", {}).values():
        if answer.examples:
            media["examples"] = _examples(answer.examples)


def _add_shared_errors(
    responses: dict[str, Any], scopes: tuple[Scope, ...], body: Body | None, lands: bool
) -> None:
    """The errors every `/api/v3` operation may answer, unless documented by the operation."""
    shared = {
        401: generic.unauthorized(),
        403: generic.forbidden(scopes),
        429: generic.too_many_requests(),
        503: generic.unavailable(lands=lands),
    }
    if body is not None:
        shared[413] = generic.body_too_large(generic.settings_default(body.limit))
        shared[415] = generic.not_json_body()
    for status, examples in shared.items():
        if not _has_examples(responses.get(str(status), {})):
            _set_response(responses, status, Answer(examples), {})


def _has_examples(response: dict[str, Any]) -> bool:
    return any("examples" in media for media in response.get("content", {}).values())


def _document_headers(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        code = int(status)
        name = "Location" if code in LOCATION_STATUSES else None
        name = "Retry-After" if code in RETRY_STATUSES else name
        if name is not None:
            header = {"description": HEADERS[name], "schema": {"type": "string"}}
            response.setdefault("headers", {})[name] = header


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase
