"""What the OpenAPI document says about an operation beyond what FastAPI derives from its route.

Most write handlers read the raw body themselves (ingest_api/body.py says why), so FastAPI sees no
request body; many reads answer with stored documents, so it sees no response model. An
`OperationDoc` fills in both, with examples, and is kept apart from the routes so that examples
are data, reviewed in one place per resource, and checked against the running API by
tests/api/test_openapi_examples.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

JSON = "application/json"


@dataclass(frozen=True)
class Replay:
    """The request an error example is the answer to. It is served with the example (as the
    `x-request` extension), so anyone, and the tests, can send it and compare."""

    path: Mapping[str, str] = field(default_factory=dict)
    """Path parameters; those not given take their documented example."""
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    """The body exactly as sent (see `json_body`)."""
    content_type: str = JSON

    def document(self) -> dict[str, Any]:
        replay: dict[str, Any] = {}
        if self.path:
            replay["path"] = dict(self.path)
        if self.query:
            replay["query"] = dict(self.query)
        if self.body is not None:
            replay |= {"contentType": self.content_type, "body": self.body}
        return replay


def json_body(value: Any) -> str:
    """A JSON body as a client would send it."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Example:
    """One OpenAPI example: `value` is the JSON value, or the text of a non-JSON body."""

    summary: str
    value: Any
    description: str | None = None
    replay: Replay | None = None

    def document(self) -> dict[str, Any]:
        example: dict[str, Any] = {"summary": self.summary, "value": self.value}
        if self.description:
            example["description"] = self.description
        if self.replay is not None:
            example["x-request"] = self.replay.document()
        return example


Schema = type[BaseModel] | dict[str, Any]
"""A pydantic model (rendered into `components`) or a literal JSON schema."""


@dataclass(frozen=True)
class Body:
    """A request body the handler reads itself."""

    schema: Schema
    examples: Mapping[str, Example]
    media_types: tuple[str, ...] = (JSON,)
    limit: str = "max_body_bytes"
    """The setting that caps the body's size (the 413 example states its default)."""


@dataclass(frozen=True)
class Answer:
    """One documented response: its examples and, where the route cannot declare it, its schema.

    Error answers are problem documents: their schema and media type are set for every error
    status already (ingest_api/openapi.py), so they carry examples only.
    """

    examples: Mapping[str, Example] = field(default_factory=dict)
    schema: Schema | None = None
    description: str | None = None
    media_type: str = JSON


@dataclass(frozen=True)
class OperationDoc:
    """Everything added to one operation. An operation that lists no success answer never
    succeeds (the immutable receipt methods): FastAPI's default `200` is removed from it."""

    responses: Mapping[int, Answer]
    body: Body | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Parameter name → example value (path and query parameters)."""


Operations = dict[tuple[str, str], OperationDoc]
"""(METHOD, path template) → its documentation, e.g. `("POST", "/api/v3/orders")`."""
