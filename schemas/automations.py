"""Automations: which order actions exist, on which channels they go out, and their templates.

`automations.yaml` is configuration (SPEC 2.2), read once when a process starts: the intake needs
it to refuse an action no automation defines, the pipeline to queue embedded actions and to render
and deliver communications. Both load it with `load_automations`, so both agree on what is valid,
and a file with any problem is refused as a whole with every problem listed and located
(`automations.ConfirmOrder.templates.sv-SE.body: unexpected '}' (line 2)`): a typo found at
start-up beats an e-mail that fails to render at 3 a.m.

The file uses camelCase keys like the HTTP API:

```yaml
fallbackLanguage: en-GB            # optional, default en-GB
automations:
  ConfirmOrder:                    # the action name integrators send
    channels: [outbox]             # outbox | smtp | webhook; one or more, no duplicates
    fallbackLanguage: en-GB        # optional; default the top-level one
    templates:
      sv-SE: {subject: "Tack för din order {{ order.orderId }}", body: "..."}
      en-GB: {subject: "Thank you for your order {{ order.orderId }}", body: "..."}
```

Templates are Jinja2, rendered in a sandbox (`template_environment`) as plain text: a missing
field renders empty instead of failing, so a template may name fields an order does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
import yaml
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from schemas.common import LANGUAGE_TAG_PATTERN

CHANNELS: tuple[str, ...] = ("outbox", "smtp", "webhook")
"""Delivery channels: the operational database's outbox, e-mail over SMTP, an HTTP webhook."""
Channel = Literal["outbox", "smtp", "webhook"]

DEFAULT_FALLBACK_LANGUAGE = "en-GB"
DEFAULT_FILE = "automations.default.yaml"
"""The configuration shipped inside the `schemas` package, used when none is configured."""

ACTION_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"
"""Action names: 1-100 characters, letters, digits, `_`, `-` and `.`, as they appear in requests."""

_LANGUAGE_TAG = re.compile(LANGUAGE_TAG_PATTERN)
_ACTION_NAME = re.compile(ACTION_NAME_PATTERN)


class AutomationsError(ValueError):
    """The automations configuration is unusable; `problems` lists each one with its location."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid automations configuration ({source}):\n{listed}")


# --- templates -----------------------------------------------------------------------------------

_DOT_GROUPED = frozenset({"ca", "da", "de", "el", "es", "id", "is", "it", "nl", "pt", "ro", "tr"})
_SPACE_GROUPED = frozenset(
    {"bg", "cs", "et", "fi", "fr", "hu", "lt", "lv", "nb", "nn", "no", "pl", "ru", "sk", "sv", "uk"}
)
"""Languages writing 1 257,00 (space-grouped) or 1.257,00 (dot-grouped) rather than 1,257.00."""


def _is_missing(value: Any) -> bool:
    return value is None or isinstance(value, jinja2.Undefined)


@jinja2.pass_context
def _money(context: Context, value: Any, currency: Any = None) -> str:
    """`{{ line.totalPrice | money(order.currencyCode) }}` → `1 257,00 SEK` in Swedish,
    `1,257.00 SEK` in English: two decimals, the separators of `action.language` in the context
    (the language of the template being rendered). A missing amount renders empty, a non-number
    as it is."""
    if _is_missing(value) or isinstance(value, bool):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = _grouped(amount, _language_of(context))
    return text if _is_missing(currency) or currency == "" else f"{text} {currency}"


def _language_of(context: Context) -> str:
    action = context.get("action")
    language = action.get("language") if isinstance(action, Mapping) else None
    return language.split("-")[0].lower() if isinstance(language, str) else ""


def _grouped(amount: Decimal, primary_language: str) -> str:
    text = f"{amount:,.2f}"
    if primary_language in _SPACE_GROUPED:
        group = "\u00a0"
    elif primary_language in _DOT_GROUPED:
        group = "."
    else:
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", group)


def _blank_none(value: Any) -> Any:
    """`None` (JSON null) renders empty, like a missing field, rather than as the word None."""
    return "" if value is None else value


@cache
def template_environment() -> ImmutableSandboxedEnvironment:
    """The one Jinja2 environment templates are checked with at load and rendered with later:
    a template that loads must not fail to compile when it is rendered.

    Sandboxed (and immutable: a template cannot change the context it is given), because
    templates are configuration an operator edits, not code; plain text (no HTML escaping) with
    `ChainableUndefined` and null rendered empty, so `{{ order.delivery.trackingNumber }}`
    renders empty when the order has no delivery; `trim_blocks`/`lstrip_blocks` so `{% for %}`
    lines leave no blank lines behind. Extra filter: `money` (see `_money`).
    """
    environment = ImmutableSandboxedEnvironment(
        undefined=jinja2.ChainableUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_blank_none,
    )
    environment.filters["money"] = _money
    return environment


@lru_cache(maxsize=1024)
def compile_template(source: str) -> jinja2.Template:
    """A compiled template; raises `jinja2.TemplateSyntaxError` (also for an unknown filter)."""
    return template_environment().from_string(source)


def _template_source(source: str) -> str:
    try:
        compile_template(source)
    except jinja2.TemplateSyntaxError as error:
        raise PydanticCustomError(
            "template_syntax",
            "{problem} (line {line})",
            {"problem": (error.message or "invalid template").rstrip("."), "line": error.lineno},
        ) from None
    return source


def _one_line(source: str) -> str:
    source = source.strip()
    if "\n" in source or "\r" in source:
        raise PydanticCustomError("subject_lines", "a subject is one line")
    return source


TemplateSource = Annotated[str, AfterValidator(_template_source)]
SubjectSource = Annotated[str, AfterValidator(_one_line), AfterValidator(_template_source)]


# --- configuration models ------------------------------------------------------------------------


def _language_tag(value: str) -> str:
    if len(value) > 35 or not _LANGUAGE_TAG.fullmatch(value):
        raise PydanticCustomError(
            "language_tag", "'{value}' is not a BCP 47 language tag such as sv-SE", {"value": value}
        )
    return value


def _action_name(value: str) -> str:
    if not _ACTION_NAME.fullmatch(value):
        raise PydanticCustomError(
            "action_name",
            "'{value}' is not an action name: 1-100 letters, digits, '_', '-' or '.'",
            {"value": value},
        )
    return value


def _distinct_channels(channels: list[str]) -> list[str]:
    repeated = _duplicates(channels)
    if repeated:
        raise PydanticCustomError(
            "duplicate_channel", "{names} listed more than once", {"names": repeated}
        )
    return channels


def _distinct_languages(templates: dict[str, Any]) -> dict[str, Any]:
    repeated = _duplicates(tag.lower() for tag in templates)
    if repeated:
        raise PydanticCustomError(
            "duplicate_language",
            "templates for {names} given twice (language tags ignore case)",
            {"names": repeated},
        )
    return templates


ConfigLanguage = Annotated[str, AfterValidator(_language_tag)]
ActionName = Annotated[str, AfterValidator(_action_name)]


class _ConfigModel(BaseModel):
    """camelCase keys, no unknown keys (a misspelt key is an error, not silently ignored), no
    coercion (`subject: 12` is an error), immutable once loaded."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        extra="forbid",
        strict=True,
        frozen=True,
    )


class MessageTemplate(_ConfigModel):
    """The subject and body templates of one automation in one language."""

    subject: SubjectSource
    body: TemplateSource


@dataclass(frozen=True)
class ChosenTemplate:
    """The template picked for a requested language, and the language it is written in."""

    language: str
    template: MessageTemplate


class Automation(_ConfigModel):
    """One action: where its communication goes and what it says in each language."""

    channels: Annotated[list[Channel], Field(min_length=1), AfterValidator(_distinct_channels)]
    templates: Annotated[
        dict[ConfigLanguage, MessageTemplate],
        Field(min_length=1),
        AfterValidator(_distinct_languages),
    ]
    fallback_language: ConfigLanguage | None = Field(
        default=None, description="Language used when no template fits; default the top-level one."
    )

    @model_validator(mode="after")
    def _fallback_has_templates(self) -> Automation:
        if self.fallback_language is not None and self._exact(self.fallback_language) is None:
            raise PydanticCustomError(
                "fallback_template",
                "no templates for the fallback language {language}; add them or set "
                "fallbackLanguage to one of {languages}",
                {"language": self.fallback_language, "languages": ", ".join(self.templates)},
            )
        return self

    def template_for(self, language: str | None) -> ChosenTemplate:
        """The template for `language`: the exact tag (ignoring case), else the closest by
        truncation (`sv-Latn-FI` → `sv-Latn` → `sv`), else another region of the same language
        (`sv-SE` for `sv-FI`, the first listed), else the fallback language's."""
        if language:
            chosen = self._exact(language) or self._same_language(language)
            if chosen is not None:
                return chosen
        fallback = self.fallback_language or next(iter(self.templates))
        chosen = self._exact(fallback)
        assert chosen is not None  # checked when loaded
        return chosen

    def _exact(self, language: str) -> ChosenTemplate | None:
        wanted = language.lower()
        for tag, template in self.templates.items():
            if tag.lower() == wanted:
                return ChosenTemplate(tag, template)
        return None

    def _same_language(self, language: str) -> ChosenTemplate | None:
        subtags = language.split("-")
        for end in range(len(subtags) - 1, 0, -1):
            chosen = self._exact("-".join(subtags[:end]))
            if chosen is not None:
                return chosen
        primary = subtags[0].lower()
        for tag, template in self.templates.items():
            if tag.split("-")[0].lower() == primary:
                return ChosenTemplate(tag, template)
        return None


class Automations(_ConfigModel):
    """The whole `automations.yaml`."""

    fallback_language: ConfigLanguage = DEFAULT_FALLBACK_LANGUAGE
    automations: dict[ActionName, Automation] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _inherit_fallback(cls, data: Any) -> Any:
        """Give each automation without a `fallbackLanguage` the top-level one, so an automation
        lacking templates in it is reported where the templates are missing."""
        if not isinstance(data, dict) or not isinstance(data.get("automations"), dict):
            return data
        inherited = data.get("fallbackLanguage", DEFAULT_FALLBACK_LANGUAGE)
        if not isinstance(inherited, str) or not _LANGUAGE_TAG.fullmatch(inherited):
            return data  # reported at the top level; nothing sensible to inherit
        automations = {
            name: {"fallbackLanguage": inherited, **automation}
            if isinstance(automation, dict)
            else automation
            for name, automation in data["automations"].items()
        }
        return {**data, "automations": automations}

    @property
    def names(self) -> list[str]:
        return list(self.automations)

    def find(self, action: str) -> Automation | None:
        """The automation of an action name, matched exactly (names are case-sensitive)."""
        return self.automations.get(action)

    def template_for(self, action: str, language: str | None) -> ChosenTemplate:
        """The template of `action` for `language` (see `Automation.template_for`); KeyError if
        no automation defines the action."""
        return self.automations[action].template_for(language)

    def require_channels(self, configured: Mapping[str, bool], source: str) -> None:
        """Fail, naming each automation, when one uses a channel whose settings are missing
        (`configured`: channel → whether its settings are given): better at start than as a
        failed message per action later."""
        problems = [
            f"automations.{name}.channels: {channel} is not configured "
            f"(set ENGAGE_{channel.upper()}_{'HOST' if channel == 'smtp' else 'URL'})"
            for name, automation in self.automations.items()
            for channel in automation.channels
            if not configured.get(channel, True)
        ]
        if problems:
            raise AutomationsError(source, problems)


def _duplicates(values: Iterable[str]) -> str:
    """The values that occur more than once, comma-separated ('' if none)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return ", ".join(repeated)


# --- loading -------------------------------------------------------------------------------------


def load_automations(path: Path | None = None) -> Automations:
    """The automations in `path`, or the configuration shipped with the product when None.

    Raises `AutomationsError` naming every problem: an unreadable file, invalid YAML (with its
    line), and each invalid setting or template by its location.
    """
    if path is None:
        source = f"the default {DEFAULT_FILE}"
        return parse_automations(files("schemas").joinpath(DEFAULT_FILE).read_text("utf-8"), source)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise AutomationsError(str(path), [f"cannot read the file: {reason}"]) from None
    return parse_automations(text, str(path))


def parse_automations(text: str, source: str = "automations.yaml") -> Automations:
    """Validate the YAML text of an automations file; `source` names it in errors."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        raise AutomationsError(source, [_yaml_problem(error)]) from None
    except yaml.YAMLError as error:
        raise AutomationsError(source, [f"not valid YAML: {error}"]) from None
    if data is None:
        raise AutomationsError(source, ["the file is empty; it needs at least `automations:`"])
    if not isinstance(data, dict):
        raise AutomationsError(source, ["the file must hold a mapping with `automations:`"])
    try:
        return Automations.model_validate(data)
    except ValidationError as error:
        raise AutomationsError(source, _problems(error)) from None


def _problems(error: ValidationError) -> list[str]:
    return [
        f"{_location(item['loc']) or '(top level)'}: {_message(item)}"
        for item in error.errors(include_url=False, include_input=False)
    ]


def _location(loc: Sequence[int | str]) -> str:
    # Dict keys show as an extra "[key]" step; a failing model validator as "function-after[...]".
    parts = [str(part) for part in loc if part != "[key]" and "[" not in str(part)]
    return ".".join(parts)


_MESSAGES: dict[str, Callable[[Any], str]] = {
    "extra_forbidden": lambda _item: "unknown setting",
    "missing": lambda _item: "required",
    "literal_error": lambda _item: f"unknown channel; known: {', '.join(CHANNELS)}",
    "too_short": lambda _item: "must not be empty",
    "dict_type": lambda _item: "must be a mapping",
    "model_type": lambda _item: "must be a mapping",
    "list_type": lambda _item: "must be a list",
    "string_type": lambda _item: "must be text",
}


def _message(item: Any) -> str:
    message = _MESSAGES.get(item["type"])
    return message(item) if message is not None else str(item["msg"])


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}not valid YAML: {error.problem or error.context}"


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader with two traps removed: a key given twice in one mapping is an error
    (a second `ConfirmOrder:` would otherwise silently replace the first), and only `true` and
    `false` are booleans, as in YAML 1.2 (YAML 1.1 reads `no:`, the Norwegian templates, as
    false, and `on`/`yes`/`off` too)."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"the key {key!r} is given twice",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)
