"""Example payloads in the Engage Orders v3 format, one file per body.

The single source of truth for examples: the OpenAPI document at `/docs` shows them
(ingest_api/api_docs), the tests post them, README's `curl` lines send them. They tell one story
(Lena Berg's rain-jacket order, from creation through shipping to her receipts), so each example
applies to what the earlier ones created: the change-status example changes the order of the create
example, the receipts are of that order. The people are invented, at example.org.

They are package data: an installed wheel serves the same examples as a checkout.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parent
"""The folder of the example files, for code that wants a path (a file to send as-is)."""


@cache
def example_text(name: str) -> str:
    """The example file `name` (e.g. `order-create.json`) as written."""
    return (EXAMPLES_DIR / name).read_text(encoding="utf-8")


def example_json(name: str) -> Any:
    """A fresh parse of the JSON example `name`: callers may change it freely."""
    return json.loads(example_text(name))
