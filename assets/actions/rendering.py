"""Rendering an action's message (subject and body) from its template and the pinned order version.

The Jinja environment is `schemas.automations.template_environment()`, the one the automations
configuration is checked with when it is loaded, so a template that loaded compiles here too and
filters such as `money` exist in both. That environment is defensive because templates are
configuration and the values they see are personal data: sandboxed and immutable (no Python
internals, no changing the context, so the subject cannot alter what the body sees),
`ChainableUndefined` with null rendered empty (an order without delivery details still gets its
confirmation), no autoescaping (plain text), `trim_blocks`/`lstrip_blocks`. Compiled templates
are cached by source (`compile_template`).

This module adds the context (`message_context`) and safe errors: a `RenderError` names the part
(subject/body), the template line and the kind of failure, never the exception text (a
`ValueError` from `int` would quote the value), and it is raised without its cause so logs do not
show the original message either.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, NamedTuple, Protocol

import jinja2
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from schemas.automations import compile_template

_TEMPLATE_FILENAME = "<template>"
"""Jinja's file name for templates compiled from strings; marks their frames in a traceback."""

_CONTACT_FIELDS = (
    ("id", "id"),
    ("contactType", "contact_type"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("email", "email"),
    ("mobilePhone", "mobile_phone"),
    ("externalId", "external_id"),
    ("memberNumber", "member_number"),
    ("street", "street"),
    ("zipCode", "zip_code"),
    ("city", "city"),
    ("country", "country"),
    ("countryCode", "country_code"),
)
"""Contact fields a template may use (Engage name, model attribute). The social security number,
birthday and gender are deliberately absent: no order communication needs them, and what is not
in the context cannot leak through a template."""


class Template(NamedTuple):
    """An action's message template: Jinja sources of the subject and of the plain-text body."""

    subject: str
    body: str


class TemplateLike(Protocol):
    """Subject and body sources; `Template` and `schemas.automations.MessageTemplate` fit."""

    @property
    def subject(self) -> str: ...

    @property
    def body(self) -> str: ...


class RenderedMessage(NamedTuple):
    """A rendered message. The subject is one line (it becomes an e-mail header)."""

    subject: str
    body: str


class RenderError(Exception):
    """A template could not be compiled or rendered.

    The message names the part, the line and the kind of failure only; it never contains
    rendered or context values, so it is safe to store in `last_error` and to log.
    """

    def __init__(self, part: str, line: int | None, reason: str) -> None:
        self.part = part
        self.line = line
        self.reason = reason
        where = f" at line {line}" if line is not None else ""
        super().__init__(f"{part} template failed{where}: {reason}")


class ActionFields(Protocol):
    """What `message_context` reads from an action; `storage.models.OrderAction` fits."""

    @property
    def action(self) -> str: ...

    @property
    def action_id(self) -> str: ...

    @property
    def version_tag(self) -> str: ...

    @property
    def language(self) -> str | None: ...


def _compiled(part: str, source: str) -> jinja2.Template:
    try:
        return compile_template(source)
    except TemplateSyntaxError as exc:
        # Checked when the configuration loads; still possible for templates from elsewhere.
        # The message quotes the template (configuration), never data: safe to include.
        raise RenderError(part, exc.lineno, f"syntax error: {exc.message}") from None


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line of the innermost template frame Jinja put into the traceback."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _reason(exc: Exception) -> str:
    """A description of the failure that cannot contain a value from the context."""
    if isinstance(exc, SecurityError):
        return "sandbox violation (unsafe attribute, method or call)"
    if isinstance(exc, UndefinedError):
        return "operation on a missing value (guard it with the default filter)"
    return f"{type(exc).__name__} in an expression or filter"


def _render_part(part: str, source: str, context: Mapping[str, Any]) -> str:
    template = _compiled(part, source)
    try:
        return template.render(context)
    except Exception as exc:  # any failure inside a template is the template's
        raise RenderError(part, _template_line(exc.__traceback__), _reason(exc)) from None


def _one_line(text: str) -> str:
    """Collapse whitespace runs, newlines included: a subject is a header and must be one line."""
    return " ".join(text.split())


def _sources(template: TemplateLike | tuple[str, str]) -> tuple[str, str]:
    if isinstance(template, tuple) and not isinstance(template, Template):
        subject, body = template
        return subject, body
    return template.subject, template.body


def render(template: TemplateLike | tuple[str, str], context: Mapping[str, Any]) -> RenderedMessage:
    """Render subject and body with the same context; raise `RenderError` if a template fails.

    `template` is a `Template`, anything with `subject` and `body` (such as
    `schemas.automations.MessageTemplate`) or a `(subject, body)` pair.
    """
    subject_source, body_source = _sources(template)
    return RenderedMessage(
        subject=_one_line(_render_part("subject", subject_source, context)),
        body=_render_part("body", body_source, context),
    )


def _items(document: Mapping[str, Any], key: str) -> list[Any]:
    """`document[key]["items"]` as a list, or empty: Orders v3 wraps lists as `{"items": [...]}`.

    Exposed separately because `order.lineItems.items` in Jinja finds the dict method `items`,
    not the list, a trap for template authors.
    """
    container = document.get(key)
    items = container.get("items") if isinstance(container, Mapping) else None
    return list(items) if isinstance(items, list) else []


def contact_context(contact: Any) -> dict[str, Any]:
    """The template's `contact` from a contact row (`storage.models.Contact` or alike).

    Engage field names (`firstName`, `email`, ...), and only the fields in `_CONTACT_FIELDS`.
    """
    return {name: getattr(contact, attribute, None) for name, attribute in _CONTACT_FIELDS}


def message_context(
    action: ActionFields,
    document: Mapping[str, Any],
    contact: Mapping[str, Any],
    data: Mapping[str, Any] | None,
    *,
    language: str | None = None,
) -> dict[str, Any]:
    """The template context of one action.

    - `order`: the pinned Orders v3 document (the version the action names, not the current one)
    - `lines`, `fees`, `payments`: the order's `lineItems.items`, `fees.items`, `payments.items`
    - `contact`: the contact (`contact_context` builds it from a row)
    - `data`: the action's `data` object
    - `action`: `name`, `actionId`, `versionTag`, `language`

    `language` is the language of the template being rendered (`ChosenTemplate.language`), which
    may differ from the one requested (fallback); it is what `action.language` says, because the
    `money` filter formats amounts for it. Default: the action's requested language.
    """
    return {
        "order": document,
        "lines": _items(document, "lineItems"),
        "fees": _items(document, "fees"),
        "payments": _items(document, "payments"),
        "contact": dict(contact),
        "data": dict(data or {}),
        "action": {
            "name": action.action,
            "actionId": action.action_id,
            "versionTag": action.version_tag,
            "language": language if language is not None else action.language,
        },
    }
