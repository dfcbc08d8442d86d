"""JSON schemas of the documented models, added to the OpenAPI document's `components`.

The models are rendered the way requests are validated ("validation" mode): a request body is
described by what the API accepts, and the response shapes of ingest_api/api_docs/shapes.py are
request models plus a few fields, so request and response share one schema per nested model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

REF_TEMPLATE = "#/components/schemas/{model}"


class _ApiJsonSchema(GenerateJsonSchema):
    """Decimals are JSON numbers: the API refuses numbers sent as strings (`NumberExpected`),
    which pydantic's default schema for a Decimal would allow."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        json_schema: JsonSchemaValue = {"type": "number"}
        self.update_with_validations(json_schema, schema, self.ValidationsMapping.numeric)
        return json_schema


def add_models(
    components: dict[str, Any], models: Iterable[type[BaseModel]]
) -> dict[type[BaseModel], dict[str, str]]:
    """Render `models` into `components` (the document's `components.schemas`); the `$ref` of
    each model. A name FastAPI already used for another schema is an error, not an overwrite."""
    models = list(dict.fromkeys(models))
    if not models:
        return {}
    refs, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template=REF_TEMPLATE,
        schema_generator=_ApiJsonSchema,
    )
    for name, schema in top.get("$defs", {}).items():
        _add(components, name, schema)
    return {model: refs[(model, "validation")] for model in models}


def _add(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    existing = components.setdefault(name, schema)
    if existing != schema:
        raise ValueError(f"Two different schemas are named {name!r} in the OpenAPI document.")
