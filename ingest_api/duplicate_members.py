"""Refusing JSON objects that name a member twice.

RFC 8259 leaves the meaning of `{"status": "Cancelled", "status": "InProgress"}` to the parser.
pydantic keeps the last value, other readers of the landed bytes may keep the first, so a body
with a repeated name could be validated as one order and processed as another. The intake
therefore refuses it, naming the repeated member by its JSON pointer.

The check runs after validation, on bodies that passed it, with the standard library's C parser:
pydantic's parser does not report repeated names. It costs about a third of what validation
does (docs/reliability.md). Locating the member walks the document again, only when there is one.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.problems import json_pointer


class _Repeated(Exception):
    """An object of the document names a member twice."""


class _Members(list[tuple[str, Any]]):
    """An object's members in document order, kept to find where the repeat is."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _Repeated
    return members


_CHECKING = json.JSONDecoder(object_pairs_hook=_unique_members)
_LOCATING = json.JSONDecoder(object_pairs_hook=_Members)


def repeated_member(body: bytes) -> str | None:
    """The JSON pointer of the first member whose name its object already has, or None.

    Meant for bodies that a strict JSON parser accepted: text it cannot read counts as clean,
    since the validator has judged it already.
    """
    try:
        text = body.decode("utf-8")
        _CHECKING.decode(text)
    except _Repeated:
        return json_pointer(_first_repeat(_LOCATING.decode(text), []) or [])
    except (ValueError, RecursionError):
        return None
    return None


def _first_repeat(node: Any, path: list[str | int]) -> list[str | int] | None:
    """Path of the first repeated name in document order, inner objects included."""
    if isinstance(node, _Members):
        seen: set[str] = set()
        for name, value in node:
            if name in seen:
                return [*path, name]
            seen.add(name)
            found = _first_repeat(value, [*path, name])
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found = _first_repeat(item, [*path, index])
            if found is not None:
                return found
    return None
