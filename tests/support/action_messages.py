"""Outgoing action messages for channel tests, with personal data that must never leak."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from assets.actions.channels import DeliveryResult, OutgoingMessage
from schemas.examples import EXAMPLES_DIR as EXAMPLES

ACTION_ID = "0b6e3f4a-5c1d-4e8f-9a2b-3c4d5e6f7a8b"
RECIPIENT = "asa.ostberg@example.org"
SUBJECT = "Tack för din beställning WEB-2025-000481, Åsa"
BODY = "Hej Åsa,\n\nvi har tagit emot din beställning: 1 st Regnjacka, 2 st Ullsockor.\nÅäö!\n"


def example_order() -> dict[str, Any]:
    document = json.loads((EXAMPLES / "order-create.json").read_text())
    document.pop("action", None)
    return document


def outgoing_message(**changes: Any) -> OutgoingMessage:
    """A ConfirmOrder message to Åsa; `changes` replace fields (e.g. `recipient=None`)."""
    message = OutgoingMessage(
        action_id=ACTION_ID,
        action="ConfirmOrder",
        order_id="WEB-2025-000481",
        version_tag="v-2",
        contact_id="7d3c1e2a-0000-4000-8000-000000000042",
        recipient=RECIPIENT,
        subject=SUBJECT,
        body=BODY,
        language="sv-SE",
        data={"loyaltyLevel": "Guld"},
        order=example_order(),
    )
    return replace(message, **changes)


def assert_no_personal_data(result: DeliveryResult) -> None:
    """The error text of a result names no address, no name and nothing of the message."""
    error = result.error or ""
    for personal in ("asa", "ostberg", "Åsa", "example.org", "Regnjacka", "WEB-2025-000481"):
        assert personal.lower() not in error.lower(), error
