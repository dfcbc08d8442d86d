"""Helpers to build article and store registrations (JSON and Engage XML) and post them."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

import httpx

from schemas.tables import ARTICLE_SUBMISSIONS, STORE_SUBMISSIONS
from storage.db import session_scope
from storage.lake import Lake
from storage.models import Job
from storage.settings import EngageSettings

JSON = {"content-type": "application/json"}
XML = {"content-type": "application/xml"}


def full_article(sku: str, number: int = 1) -> dict[str, Any]:
    """An article with every field of the register set (JSON names)."""
    return {
        "sku": sku,
        "number": f"{7000 + number}",
        "name": f"Rain jacket {number} & hood",
        "mainCategory": "Jackets",
        "itemNumber": f"{7000 + number}-BLU",
        "awardsBonus": number % 2 == 1,
        "brand": "Nordvik",
        "color": "Blue",
        "productCategory": "Outerwear",
        "subCategory": "Rain",
        "ageGroup": "Adult",
        "description": "Waterproof <3-layer> shell,\nwith taped seams.",
        "season": "AW25",
        "size": "L",
        "gender": "Women",
        "gtin": f"735001{number:07d}",
        **{f"spare{n}": f"spare {n} of {sku}" for n in range(1, 11)},
        **{f"dateSpare{n}": f"2025-0{n}-01T08:30:00+02:00" for n in range(1, 6)},
    }


def store(external_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "externalId": external_id,
        "name": "Nordvik Drottninggatan",
        "type": "Store",
        "street": "Drottninggatan 1",
        "zipCode": "111 51",
        "city": "Stockholm",
        "region": "Stockholm",
        "country": "Sweden",
        "countryCode": "SE",
        "currency": "SEK",
        "chain": "Nordvik",
    }
    body.update(changes)
    return body


def article_xml(articles: list[dict[str, Any]]) -> bytes:
    """The Engage article XML of JSON articles: element names are the JSON names lower-cased."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<articles>\n']
    for article in articles:
        parts.append("  <article>")
        for name, value in article.items():
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            parts.append(f"<{name.lower()}>{escape(text)}</{name.lower()}>")
        parts.append("</article>\n")
    parts.append("</articles>\n")
    return "".join(parts).encode()


def accepted(response: httpx.Response, resource: str) -> dict[str, Any]:
    """The 202 body of a register call (fails the test with the body otherwise)."""
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v3/{resource}/jobs/{body['jobId']}"
    return body


def post_articles(api: httpx.Client, articles: list[dict[str, Any]]) -> dict[str, Any]:
    return accepted(api.post("/articles", content=json.dumps(articles), headers=JSON), "articles")


def import_articles(api: httpx.Client, xml: bytes) -> dict[str, Any]:
    return accepted(api.post("/articles/import", content=xml, headers=XML), "articles")


def post_stores(api: httpx.Client, stores: list[dict[str, Any]]) -> dict[str, Any]:
    return accepted(api.post("/stores", content=json.dumps(stores), headers=JSON), "stores")


def bronze_articles(settings: EngageSettings) -> int:
    return Lake(settings.resolved_lake_uri).table(ARTICLE_SUBMISSIONS).count()


def bronze_stores(settings: EngageSettings) -> int:
    return Lake(settings.resolved_lake_uri).table(STORE_SUBMISSIONS).count()


def register_jobs(settings: EngageSettings, resource: str) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return session.query(Job).filter(Job.resource == resource).count()


def assert_no_articles_landed(settings: EngageSettings) -> None:
    assert bronze_articles(settings) == 0
    assert register_jobs(settings, "articles") == 0


def assert_no_stores_landed(settings: EngageSettings) -> None:
    assert bronze_stores(settings) == 0
    assert register_jobs(settings, "stores") == 0
