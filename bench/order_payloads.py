"""Order bodies for the HTTP figures: a realistic 10-line, ~3 KB Orders v3 create.

The shape is that of the Engage example (schemas/examples/order-create.json) with ten lines
instead of two, because the issue's intake target is stated for a ~3 KB, 10-line order: validation
cost grows with the lines, so a two-line body would flatter both the product and its floor. Built
here rather than derived from the example, so that the benchmarked body stays the same when the
documented examples change.

The JSON is compact (no spaces), like what integrators' HTTP clients send.
"""

from __future__ import annotations

import json
from typing import Any

ID_PLACEHOLDER = "[<id>]"
"""Where the load generator puts a unique id (the placeholder autocannon's `--idReplacement`
uses; bench/loadgen.py replaces it itself, see `autocannon`)."""

LINES = 10

_ARTICLES = (
    ("7391-RAIN-BLU-L", "Rain jacket", "Light rain jacket, blue, L", 999.0),
    ("2210-SOCK-GRY-M", "Wool socks", "Merino wool socks, grey, 39-42", 129.0),
    ("5120-KNIT-RED-M", "Knitted sweater", "Chunky knit sweater, red, M", 599.0),
    ("8812-BOOT-BRN-42", "Hiking boots", "Waterproof leather hiking boots, brown, 42", 1899.0),
    ("3307-CAP-BLK-OS", "Beanie", "Ribbed beanie, black, one size", 199.0),
    ("4410-GLOV-NAV-L", "Gloves", "Insulated gloves, navy, L", 349.0),
    ("6620-SCRF-GRN-OS", "Scarf", "Lambswool scarf, green, one size", 279.0),
    ("9901-PANT-KHA-32", "Chinos", "Organic cotton chinos, khaki, 32/32", 699.0),
    ("1150-SHRT-WHT-M", "Oxford shirt", "Oxford shirt, white, M", 499.0),
    ("7730-BELT-BRN-90", "Leather belt", "Full-grain leather belt, brown, 90 cm", 399.0),
)


def _line(index: int) -> dict[str, Any]:
    sku, name, description, price = _ARTICLES[index % len(_ARTICLES)]
    quantity = 1 + index % 3
    original = price + 100.0
    discount = 100.0 * quantity
    total = price * quantity
    line: dict[str, Any] = {
        "id": str(index + 1),
        "type": "Purchase",
        "quantity": quantity,
        "article": {"sku": sku, "name": name},
        "pricePerUnit": price,
        "totalPrice": total,
        "taxes": {"items": [{"percent": 25.0, "amount": round(total * 0.2, 2)}]},
    }
    if index % 4 == 0:
        # Every fourth line is on a campaign and carries what the example's first line does.
        line["externalStatus"] = "Reserved"
        line["article"]["description"] = description
        line["article"]["imageUri"] = f"https://shop.example.org/img/{sku[:4]}.jpg"
        line["discounts"] = {"items": [{"type": "Campaign", "amount": discount}]}
        line["originalPricePerUnit"] = original
        line["originalTotalPrice"] = original * quantity
    return line


def order_document(order_id: str, lines: int = LINES) -> dict[str, Any]:
    """A valid Orders v3 create body for `order_id` (business rules hold: subTotal matches)."""
    items = [_line(index) for index in range(lines)]
    sub_total = sum(item["totalPrice"] for item in items)
    return {
        "orderId": order_id,
        "contact": {"matchKey": "lena.berg@example.org", "matchKeyType": "Email"},
        "externalStoreId": "Webshop-SE",
        "status": "InProgress",
        "externalStatus": "Received",
        "references": [],
        "currencyCode": "SEK",
        "channel": "Ecom",
        "createdAt": "2025-11-20T09:41:07+01:00",
        "lastChangedAt": "2025-11-20T09:41:07+01:00",
        "lineItems": {"items": items, "subTotal": sub_total},
        "payments": {
            "items": [{"type": "Card", "description": "Visa", "amount": sub_total + 49.0}]
        },
        "fees": {"items": [{"type": "Shipping", "description": "Home delivery", "amount": 49.0}]},
        "delivery": {"method": "Budbee", "deliveryDate": "2025-11-23T18:00:00+01:00"},
        "billingAddress": {
            "title": "Ms",
            "firstname": "Lena",
            "lastname": "Berg",
            "street": "Sveavägen 12",
            "zipCode": "11157",
            "city": "Stockholm",
            "countryCode": "SE",
        },
        "extraData": {"campaign": "AW25"},
        "action": {"action": "ConfirmOrder", "language": "sv-SE", "data": {"loyaltyLevel": "Gold"}},
    }


def order_body(order_id: str, lines: int = LINES) -> str:
    """The compact JSON text of `order_document` (~3 KB for 10 lines)."""
    return json.dumps(order_document(order_id, lines), separators=(",", ":"), ensure_ascii=False)


def order_body_template(prefix: str = "BENCH-", lines: int = LINES) -> str:
    """An order body whose orderId is `prefix` followed by the id placeholder."""
    return order_body(f"{prefix}{ID_PLACEHOLDER}", lines)
