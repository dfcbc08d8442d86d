"""The automations configuration: the shipped file, every kind of invalid file refused with the
problem and its location, and the choice of template for a requested language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.automations import (
    Automations,
    AutomationsError,
    compile_template,
    load_automations,
    parse_automations,
)
from schemas.examples import EXAMPLES_DIR as EXAMPLES

SHIPPED_ACTIONS = ["ConfirmOrder", "ConfirmShipment", "ConfirmReturn"]

VALID = """
fallbackLanguage: en-GB
automations:
  ConfirmOrder:
    channels: [outbox, webhook]
    templates:
      sv-SE: {subject: "Tack för order {{ order.orderId }}", body: "Hej {{ contact.firstName }}!"}
      en-GB: {subject: "Thanks for order {{ order.orderId }}", body: "Hello!"}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(AutomationsError) as raised:
        parse_automations(text, "automations.yaml")
    assert str(raised.value).startswith("Invalid automations configuration (automations.yaml):")
    return raised.value.problems


def one_automation(**fields: Any) -> str:
    """A file with one automation `A`, its settings given as Python values (dumped as JSON,
    which is YAML too)."""
    automation = {
        "channels": ["outbox"],
        "templates": {"en-GB": {"subject": "s", "body": "b"}},
        **fields,
    }
    return json.dumps({"automations": {"A": automation}})


def rendered(template: str, context: dict[str, Any]) -> str:
    return compile_template(template).render(context)


def example_order() -> dict[str, Any]:
    order = json.loads((EXAMPLES / "order-create.json").read_text())
    order.pop("action")
    return order


# --- the shipped configuration -------------------------------------------------------------------


def test_the_shipped_file_defines_the_three_confirmations_on_the_outbox() -> None:
    automations = load_automations(None)
    assert automations.names == SHIPPED_ACTIONS
    assert automations.fallback_language == "en-GB"
    for name in SHIPPED_ACTIONS:
        automation = automations.find(name)
        assert automation is not None
        assert automation.channels == ["outbox"]
        assert list(automation.templates) == ["sv-SE", "en-GB"]


@pytest.mark.parametrize("name", SHIPPED_ACTIONS)
@pytest.mark.parametrize(
    ("language", "greeting"), [("sv-SE", "Hej Lena!"), ("en-GB", "Hello Lena,")]
)
def test_the_shipped_templates_render_an_order(name: str, language: str, greeting: str) -> None:
    order = example_order()
    order["delivery"]["trackingNumber"] = "BB-123"
    order["lineItems"]["items"][1].update(
        type="Return", returnDetails={"type": "Normal", "reason": "Too small"}
    )
    template = load_automations(None).template_for(name, language).template
    context = {
        "order": order,
        "lines": order["lineItems"]["items"],
        "contact": {"firstName": "Lena", "lastName": None},
        "data": {"note": "See you soon"},
        "action": {"name": name, "language": language},
    }
    subject = rendered(template.subject, context)
    body = rendered(template.body, context)
    assert "WEB-2025-000481" in subject
    assert body.startswith(greeting)
    assert "See you soon" in body
    assert "None" not in body
    assert "\n\n\n" not in body


def test_the_shipped_templates_render_with_nothing_known() -> None:
    """A missing field renders empty: no template of the shipped file fails on a bare context."""
    for name in SHIPPED_ACTIONS:
        for template in load_automations(None).automations[name].templates.values():
            assert rendered(template.subject, {})
            assert rendered(template.body, {"contact": {"firstName": None}})


def test_order_confirmation_lists_lines_and_totals_in_the_templates_language() -> None:
    order = example_order()
    context = {"order": order, "lines": order["lineItems"]["items"], "contact": {}}
    automations = load_automations(None)
    swedish = automations.template_for("ConfirmOrder", "sv-SE").template.body
    english = automations.template_for("ConfirmOrder", "en-GB").template.body
    sv = rendered(swedish, {**context, "action": {"language": "sv-SE"}})
    en = rendered(english, {**context, "action": {"language": "en-GB"}})
    assert "- 1 st Rain jacket: 999,00 SEK\n- 2 st Wool socks: 258,00 SEK\n" in sv
    assert "Summa varor: 1\u00a0257,00 SEK" in sv
    assert "- 2 x Wool socks: 258.00 SEK\n" in en
    assert "Items total: 1,257.00 SEK" in en


def test_a_file_path_is_read(tmp_path: Path) -> None:
    path = tmp_path / "automations.yaml"
    path.write_text(VALID, encoding="utf-8")
    automations = load_automations(path)
    assert automations.names == ["ConfirmOrder"]
    assert automations.automations["ConfirmOrder"].channels == ["outbox", "webhook"]


# --- invalid files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            one_automation(
                templates={"sv-SE": {"subject": "s", "body": "Hej\n{{ order.orderId }"}}
            ),
            "automations.A.templates.sv-SE.body: unexpected '}' (line 2)",
        ),
        (
            one_automation(templates={"en-GB": {"subject": "{% if x %}s", "body": "b"}}),
            "automations.A.templates.en-GB.subject: Unexpected end of template. Jinja was looking "
            "for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs "
            "to be closed is 'if' (line 1)",
        ),
        (
            one_automation(templates={"en-GB": {"subject": "s", "body": "{{ x | shout }}"}}),
            "automations.A.templates.en-GB.body: No filter named 'shout' (line 1)",
        ),
        (
            one_automation(templates={"en-GB": {"subject": "line one\nline two", "body": "b"}}),
            "automations.A.templates.en-GB.subject: a subject is one line",
        ),
        (
            one_automation(channels=["outbox", "fax"]),
            "automations.A.channels.1: unknown channel; known: outbox, smtp, webhook",
        ),
        (one_automation(channels=[]), "automations.A.channels: must not be empty"),
        (
            one_automation(channels=["smtp", "outbox", "smtp"]),
            "automations.A.channels: smtp listed more than once",
        ),
        (one_automation(channels="outbox"), "automations.A.channels: must be a list"),
        (
            one_automation(templates={"sv_SE": {"subject": "s", "body": "b"}}),
            "automations.A.templates.sv_SE: 'sv_SE' is not a BCP 47 language tag such as sv-SE",
        ),
        (
            one_automation(
                templates={
                    "en-GB": {"subject": "s", "body": "b"},
                    "EN-gb": {"subject": "s", "body": "b"},
                }
            ),
            "automations.A.templates: templates for en-gb given twice (language tags ignore case)",
        ),
        (one_automation(templates={}), "automations.A.templates: must not be empty"),
        (
            one_automation(templates={"sv-SE": {"subject": "s", "body": "b"}}),
            "automations.A: no templates for the fallback language en-GB; add them or set "
            "fallbackLanguage to one of sv-SE",
        ),
        (
            one_automation(fallbackLanguage="de-DE"),
            "automations.A: no templates for the fallback language de-DE; add them or set "
            "fallbackLanguage to one of en-GB",
        ),
        (
            one_automation(templates={"en-GB": {"subject": 12, "body": "b"}}),
            "automations.A.templates.en-GB.subject: must be text",
        ),
        (
            one_automation(templates={"en-GB": {"subject": "s"}}),
            "automations.A.templates.en-GB.body: required",
        ),
        (
            one_automation(templates={"en-GB": {"subject": "s", "body": "b", "html": "<p>"}}),
            "automations.A.templates.en-GB.html: unknown setting",
        ),
        (one_automation(recipients=["x"]), "automations.A.recipients: unknown setting"),
        (
            one_automation().replace('"A"', '"Confirm order"'),
            "automations.Confirm order: 'Confirm order' is not an action name: 1-100 letters, "
            "digits, '_', '-' or '.'",
        ),
        (json.dumps({"automations": {"A": "outbox"}}), "automations.A: must be a mapping"),
        (
            json.dumps({"fallbackLanguage": "English", "automations": {}}),
            "fallbackLanguage: 'English' is not a BCP 47 language tag such as sv-SE",
        ),
        (json.dumps({"automation": {}}), "automation: unknown setting"),
        ("", "the file is empty; it needs at least `automations:`"),
        ("- ConfirmOrder", "the file must hold a mapping with `automations:`"),
        (
            "automations:\n  A:\n    channels: [outbox\n",
            "line 4, column 1: not valid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "automations:\n  A: {}\n  A: {}\n",
            "line 3, column 3: not valid YAML: the key 'A' is given twice",
        ),
    ],
)
def test_an_invalid_file_is_refused_with_the_problem_and_its_location(
    text: str, problem: str
) -> None:
    assert problems(text) == [problem]


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    text = """
automations:
  ConfirmOrder:
    channels: [outbox, fax]
    templates:
      sv-SE: {subject: "Tack", body: "Hej {{ contact.firstName }"}
  ConfirmShipment:
    channels: []
    templates:
      en-GB: {subject: "Sent", body: "{% for line in lines %}"}
"""
    assert problems(text) == [
        "automations.ConfirmOrder.channels.1: unknown channel; known: outbox, smtp, webhook",
        "automations.ConfirmOrder.templates.sv-SE.body: unexpected '}' (line 1)",
        "automations.ConfirmShipment.channels: must not be empty",
        "automations.ConfirmShipment.templates.en-GB.body: Unexpected end of template. Jinja was "
        "looking for the following tags: 'endfor' or 'else'. The innermost block that needs to "
        "be closed is 'for' (line 1)",
    ]


def test_an_unreadable_file_is_refused_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(AutomationsError) as raised:
        load_automations(missing)
    assert raised.value.problems == ["cannot read the file: No such file or directory"]
    assert str(missing) in str(raised.value)


def test_a_norwegian_template_is_not_read_as_false() -> None:
    """YAML 1.1 reads a bare `no` as false; the loader keeps it a language tag."""
    automations = parse_automations(
        "automations:\n  A:\n    channels: [outbox]\n    fallbackLanguage: no\n"
        "    templates:\n      no: {subject: Takk, body: Hei}\n"
    )
    assert automations.automations["A"].template_for("nb-NO").language == "no"


# --- choosing a template -------------------------------------------------------------------------

LANGUAGES = """
fallbackLanguage: en-GB
automations:
  A:
    channels: [outbox]
    templates:
      en-GB: {subject: en-GB, body: b}
      sv-SE: {subject: sv-SE, body: b}
      sv-FI: {subject: sv-FI, body: b}
      pt: {subject: pt, body: b}
      pt-BR: {subject: pt-BR, body: b}
  B:
    channels: [smtp]
    fallbackLanguage: sv-SE
    templates:
      en-GB: {subject: en-GB, body: b}
      sv-SE: {subject: sv-SE, body: b}
"""


@pytest.fixture
def languages() -> Automations:
    return parse_automations(LANGUAGES)


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        ("sv-FI", "sv-FI"),  # exact
        ("SV-fi", "sv-FI"),  # tags ignore case
        ("sv-AX", "sv-SE"),  # same language, first region listed
        ("sv", "sv-SE"),
        ("pt-PT", "pt"),  # the bare language before another region
        ("pt-Latn-BR", "pt"),  # truncated: pt-Latn, then pt
        ("de-DE", "en-GB"),  # no German: the fallback language
        (None, "en-GB"),
    ],
)
def test_the_template_is_chosen_by_tag_then_language_then_fallback(
    languages: Automations, requested: str | None, chosen: str
) -> None:
    picked = languages.template_for("A", requested)
    assert picked.language == chosen
    assert picked.template.subject == chosen


def test_an_automation_may_have_a_fallback_of_its_own(languages: Automations) -> None:
    assert languages.automations["A"].fallback_language == "en-GB"  # inherited
    assert languages.automations["B"].fallback_language == "sv-SE"
    assert languages.template_for("B", "de-DE").language == "sv-SE"
    assert languages.template_for("B", "en-US").language == "en-GB"


def test_action_names_are_matched_exactly(languages: Automations) -> None:
    assert languages.find("A") is not None
    assert languages.find("a") is None
    assert languages.find("C") is None


# --- the template environment --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv-SE", "1\u00a0234\u00a0567,50 SEK"),
        ("de-DE", "1.234.567,50 SEK"),
        ("en-GB", "1,234,567.50 SEK"),
        (None, "1,234,567.50 SEK"),
    ],
)
def test_money_uses_the_separators_of_the_language(language: str | None, expected: str) -> None:
    context = {"amount": 1234567.5, "action": {"language": language}}
    assert rendered("{{ amount | money('SEK') }}", context) == expected


def test_missing_values_render_empty() -> None:
    context = {"order": {"delivery": None}, "contact": {"firstName": None}}
    template = "[{{ order.delivery.trackingNumber }}|{{ contact.firstName }}|{{ x | money }}]"
    assert rendered(template, context) == "[||]"


def test_templates_run_in_a_sandbox() -> None:
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        rendered("{{ lines.append(1) }}", {"lines": []})
    assert rendered("{{ ''.__class__.__mro__ }}", {}) == ""


def test_an_automation_on_a_channel_without_settings_is_refused_at_start() -> None:
    automations = parse_automations(
        "automations:\n"
        "  ConfirmOrder:\n    channels: [outbox, smtp]\n"
        "    templates: {en-GB: {subject: 'S', body: 'B'}}\n"
        "  Notify:\n    channels: [webhook]\n"
        "    templates: {en-GB: {subject: 'S', body: 'B'}}\n"
    )
    with pytest.raises(AutomationsError) as refused:
        automations.require_channels({"smtp": False, "webhook": False}, "automations.yaml")
    assert refused.value.problems == [
        "automations.ConfirmOrder.channels: smtp is not configured (set ENGAGE_SMTP_HOST)",
        "automations.Notify.channels: webhook is not configured (set ENGAGE_WEBHOOK_URL)",
    ]
    automations.require_channels({"smtp": True, "webhook": True}, "automations.yaml")
