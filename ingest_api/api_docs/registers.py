"""Examples of the register operations: articles (JSON and the Engage XML) and stores."""

from __future__ import annotations

from typing import Any

from ingest_api.api_docs import story
from ingest_api.api_docs.answers import accepted
from ingest_api.api_docs.model import Answer, Body, Example, OperationDoc, Operations, Replay
from ingest_api.api_docs.model import json_body as dumps
from ingest_api.api_docs.problems import not_found, problem, register_problem
from schemas.article_xml import ELEMENTS, ITEM, ROOT
from schemas.articles import ArticleBatch
from schemas.examples import example_json, example_text
from schemas.stores import StoreBatch

ARTICLES = "/api/v3/articles"
STORES = "/api/v3/stores"
XML_MEDIA_TYPES = ("application/xml", "text/xml")


def xml_schema() -> dict[str, Any]:
    """The Engage article XML as an OpenAPI XML object: `<articles>` of `<article>` elements,
    each holding the fields as lower-case elements of text (only `<sku>` required)."""
    fields = {name: {"type": "string"} for name in ELEMENTS}
    fields["awardsbonus"] = {"type": "string", "description": "1, 0, true or false."}
    article = {
        "type": "object",
        "xml": {"name": ITEM},
        "required": ["sku"],
        "properties": fields,
    }
    return {
        "type": "object",
        "xml": {"name": ROOT},
        "properties": {"article": {"type": "array", "items": article}},
    }


def _register_articles() -> OperationDoc:
    request = Example(
        "The jacket and the socks of Lena's order",
        example_json("articles.json"),
        "Upserted by SKU: a registration replaces the whole article.",
    )
    bad_body = [{"sku": "7391-RAIN-BLU-L", "gtin": "7350-0123-4567"}, {"name": "Merino beanie"}]
    bad = Example(
        "An invalid GTIN and an article without SKU",
        register_problem(
            "articles",
            ("/0/gtin", "InvalidGtin", "A GTIN is 8, 12, 13 or 14 digits."),
            ("/1/sku", "Required", "Field required"),
        ),
        "Errors point into the array: `/1/sku` is the second article's SKU. Nothing lands.",
        Replay(body=dumps(bad_body)),
    )
    not_json = Example(
        "XML sent here",
        problem(
            415,
            "Unsupported Media Type",
            "UnsupportedMediaType",
            "Send the body as JSON with 'Content-Type: application/json'.",
        ),
        "The XML document goes to `POST /articles/import`.",
        Replay(body=example_text("articles.xml"), content_type="application/xml"),
    )
    return OperationDoc(
        {
            202: accepted(f"{ARTICLES}/jobs", story.ARTICLE_JOB_ID, count=2),
            400: Answer({"FormatError": bad}),
            415: Answer({"UnsupportedMediaType": not_json}),
        },
        Body(ArticleBatch, {"articles": request}, limit="import_max_body_bytes"),
    )


def _import_articles() -> OperationDoc:
    request = Example("Two articles in the Engage XML", example_text("articles.xml"))
    invalid = example_text("articles.xml").replace(
        "<brand>Ullmark</brand>", "<brand>Ullmark</brand><awardsbonus>yes</awardsbonus>"
    )
    bad = Example(
        "A value the format does not allow",
        register_problem(
            "articles in the XML document",
            ("/articles/article[2]/awardsbonus", "InvalidBoolean", "Must be 1, 0, true or false."),
        ),
        "Errors name the element by an XPath-like location, 1-based.",
        Replay(body=invalid, content_type="application/xml"),
    )
    not_xml = Example(
        "JSON sent here",
        problem(
            415,
            "Unsupported Media Type",
            "UnsupportedMediaType",
            "Send the article XML with 'Content-Type: application/xml' (or text/xml).",
        ),
        "JSON articles go to `POST /articles`.",
        Replay(body=dumps(example_json("articles.json"))),
    )
    return OperationDoc(
        {
            202: accepted(f"{ARTICLES}/jobs", story.ARTICLE_JOB_ID, count=2),
            400: Answer({"FormatError": bad}),
            415: Answer({"UnsupportedMediaType": not_xml}),
        },
        Body(xml_schema(), {"articles": request}, XML_MEDIA_TYPES, "import_max_body_bytes"),
    )


def _job(job_id: str, count: int) -> OperationDoc:
    state = {
        "jobId": job_id,
        "status": "Succeeded",
        "createdAt": story.REGISTERS_LANDED_AT,
        "count": count,
    }
    queued = {**state, "status": "Queued"}
    unknown = not_found(
        "JobNotFound", "No such job.", Replay(path={"jobId": story.UNKNOWN_ID}), "Unknown job"
    )
    examples = {
        "Succeeded": Example("In the register", state),
        "Queued": Example("Landed, not processed yet", queued),
    }
    return OperationDoc(
        {200: Answer(examples), 404: Answer({"NotFound": unknown})},
        parameters={"jobId": job_id},
    )


def _register_stores() -> OperationDoc:
    request = Example(
        "The web shop and two stores",
        example_json("stores.json"),
        "Upserted by `externalId`, the `storeExternalId` of receipts and orders.",
    )
    bad_store = [
        {
            "externalId": "SE-GBG-007",
            "name": "Nordvik Avenyn",
            "countryCode": "Sweden",
            "currency": "sek",
        }
    ]
    bad = Example(
        "Country and currency not as ISO codes",
        register_problem(
            "stores",
            ("/0/countryCode", "InvalidFormat", "String should match pattern '^[A-Za-z]{2}$'"),
            ("/0/currency", "InvalidFormat", "String should match pattern '^[A-Z]{3}$'"),
        ),
        "`countryCode` is ISO 3166-1 alpha-2, `currency` ISO 4217 in upper case.",
        Replay(body=dumps(bad_store)),
    )
    return OperationDoc(
        {
            202: accepted(f"{STORES}/jobs", story.STORE_JOB_ID, count=3),
            400: Answer({"FormatError": bad}),
        },
        Body(StoreBatch, {"stores": request}),
    )


def operations() -> Operations:
    return {
        ("POST", ARTICLES): _register_articles(),
        ("POST", f"{ARTICLES}/import"): _import_articles(),
        ("GET", f"{ARTICLES}/jobs/{{jobId}}"): _job(story.ARTICLE_JOB_ID, 2),
        ("POST", STORES): _register_stores(),
        ("GET", f"{STORES}/jobs/{{jobId}}"): _job(story.STORE_JOB_ID, 3),
    }
