"""Rendering action messages: the context, forgiving missing fields, the sandbox, safe errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from assets.actions.rendering import (
    RenderedMessage,
    RenderError,
    Template,
    contact_context,
    message_context,
    render,
)
from schemas.automations import compile_template, load_automations, parse_automations
from schemas.examples import EXAMPLES_DIR as EXAMPLES


@dataclass(frozen=True)
class Action:
    action: str = "ConfirmOrder"
    action_id: str = "6f1c2b9e-1111-4c1e-9a1a-000000000001"
    version_tag: str = "v-3"
    language: str | None = "sv-SE"


@dataclass(frozen=True)
class ContactRow:
    id: str = "c-1"
    contact_type: str = "Member"
    first_name: str | None = "Åsa"
    last_name: str | None = None
    email: str | None = "asa.ostberg@example.org"
    mobile_phone: str | None = "+46701234567"
    social_security_number: str | None = "199001011234"


@pytest.fixture
def document() -> dict[str, Any]:
    body = json.loads((EXAMPLES / "order-create.json").read_text())
    body.pop("action")
    return body


@pytest.fixture
def context(document: dict[str, Any]) -> dict[str, Any]:
    return message_context(
        Action(), document, contact_context(ContactRow()), {"loyaltyLevel": "Guld"}
    )


def test_context_exposes_order_lines_contact_data_and_action(
    context: dict[str, Any], document: dict[str, Any]
) -> None:
    assert context["order"] is document
    assert [line["article"]["sku"] for line in context["lines"]] == [
        "7391-RAIN-BLU-L",
        "2210-SOCK-GRY-M",
    ]
    assert context["fees"][0]["amount"] == 49.0
    assert context["payments"][0]["type"] == "Card"
    assert context["contact"]["firstName"] == "Åsa"
    assert context["contact"]["email"] == "asa.ostberg@example.org"
    assert context["data"] == {"loyaltyLevel": "Guld"}
    assert context["action"] == {
        "name": "ConfirmOrder",
        "actionId": "6f1c2b9e-1111-4c1e-9a1a-000000000001",
        "versionTag": "v-3",
        "language": "sv-SE",
    }


def test_contact_context_leaves_out_sensitive_fields() -> None:
    contact = contact_context(ContactRow())
    assert "socialSecurityNumber" not in contact
    assert "199001011234" not in contact.values()


def test_context_of_an_order_without_lists() -> None:
    context = message_context(Action(language=None), {"orderId": "X-1"}, {}, None)
    assert context["lines"] == []
    assert context["fees"] == []
    assert context["data"] == {}


def test_renders_subject_and_body_with_swedish_characters(context: dict[str, Any]) -> None:
    template = Template(
        subject="Tack för din beställning {{ order.orderId }}, {{ contact.firstName }}!",
        body=(
            "Hej {{ contact.firstName }},\n"
            "{% for line in lines %}\n"
            "- {{ line.quantity }} st {{ line.article.name }}: "
            "{{ '%.2f'|format(line.totalPrice) }}\n"
            "{% endfor %}\n"
            "Summa: {{ order.lineItems.subTotal }} {{ order.currencyCode }}\n"
            "Nivå: {{ data.loyaltyLevel }} ({{ action.name }}, {{ action.language }})\n"
        ),
    )
    rendered = render(template, context)
    assert rendered == RenderedMessage(
        subject="Tack för din beställning WEB-2025-000481, Åsa!",
        body=(
            "Hej Åsa,\n"
            "- 1 st Rain jacket: 999.00\n"
            "- 2 st Wool socks: 258.00\n"
            "Summa: 1257.0 SEK\n"
            "Nivå: Guld (ConfirmOrder, sv-SE)\n"
        ),
    )


def test_missing_and_null_fields_render_empty(context: dict[str, Any]) -> None:
    template = (
        "[{{ contact.lastName }}][{{ order.nothing }}][{{ order.delivery.address.city }}]",
        "[{{ data.missing.deeper }}][{{ lines[7].article.name }}][{{ nothing }}]",
    )
    assert render(template, context) == RenderedMessage("[][][]", "[][][]")


def test_default_filter_fills_missing_fields(context: dict[str, Any]) -> None:
    rendered = render(("{{ contact.lastName | default('kund', true) }}", ""), context)
    assert rendered.subject == "kund"


def test_subject_is_one_line(context: dict[str, Any]) -> None:
    rendered = render(("Order\n{{ order.orderId }}\r\n  Bcc: x@example.org", ""), context)
    assert rendered.subject == "Order WEB-2025-000481 Bcc: x@example.org"


def test_python_internals_are_out_of_reach(context: dict[str, Any]) -> None:
    rendered = render(
        ("{{ order.__class__ }}{{ lines.__len__ }}", "{{ contact.__dict__ }}"), context
    )
    assert rendered == RenderedMessage("", "")
    escape = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(RenderError, match="body template failed at line 2: sandbox violation"):
        render(("ok", "Hej\n" + escape), context)


def test_templates_cannot_mutate_the_context(context: dict[str, Any]) -> None:
    with pytest.raises(RenderError, match="subject template failed at line 1: sandbox"):
        render(("{{ lines.append(1) }}{{ order.update({'orderId': 'X'}) }}", ""), context)
    assert len(context["lines"]) == 2
    assert context["order"]["orderId"] == "WEB-2025-000481"


def test_render_errors_carry_no_personal_values(context: dict[str, Any]) -> None:
    with pytest.raises(RenderError) as raised:
        render(("{{ contact.email | int(base='x') + contact.firstName }}", ""), context)
    message = str(raised.value)
    assert "asa.ostberg" not in message
    assert "Åsa" not in message
    assert raised.value.part == "subject"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_filter_on_a_missing_value_is_a_render_error(context: dict[str, Any]) -> None:
    with pytest.raises(RenderError, match="missing value"):
        render(("", "{{ order.nothing | int }}"), context)


def test_a_syntax_error_is_a_render_error(context: dict[str, Any]) -> None:
    with pytest.raises(RenderError, match="body template failed at line 2: syntax error"):
        render(Template("ok", "Hej\n{% for l in lines %}"), context)


def test_renders_configured_templates_with_the_money_filter(document: dict[str, Any]) -> None:
    body = "{{ order.lineItems.subTotal | money(order.currencyCode) }}"
    automations = parse_automations(
        "automations:\n"
        "  ConfirmOrder:\n"
        "    channels: [outbox]\n"
        "    templates:\n"
        f"      sv-SE: {{subject: 'Order {{{{ order.orderId }}}}', body: '{body}'}}\n"
        f"      en-GB: {{subject: 'Order {{{{ order.orderId }}}}', body: '{body}'}}\n"
    )
    for requested, expected in [("sv-SE", "1\u00a0257,00 SEK"), ("de-DE", "1,257.00 SEK")]:
        chosen = automations.template_for("ConfirmOrder", requested)
        context = message_context(
            Action(language=requested), document, {}, None, language=chosen.language
        )
        assert context["action"]["language"] == chosen.language
        assert render(chosen.template, context) == ("Order WEB-2025-000481", expected)


def test_plain_tuples_render_and_compiled_templates_are_cached(context: dict[str, Any]) -> None:
    source = "{{ order.orderId }} cached"
    first = render((source, source), context)
    hits = compile_template.cache_info().hits
    second = render((source, source), context)
    assert first == second == RenderedMessage("WEB-2025-000481 cached", "WEB-2025-000481 cached")
    assert compile_template.cache_info().hits == hits + 2


def test_the_shipped_automations_render_the_example_order(document: dict[str, Any]) -> None:
    automations = load_automations(None)
    assert automations.names
    for name, automation in automations.automations.items():
        for language in automation.templates:
            chosen = automation.template_for(language)
            context = message_context(
                Action(action=name, language=language),
                document,
                contact_context(ContactRow()),
                {},
                language=chosen.language,
            )
            rendered = render(chosen.template, context)
            assert "WEB-2025-000481" in rendered.subject + rendered.body, (name, language)
            assert "Åsa" in rendered.body, (name, language)
