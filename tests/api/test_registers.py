"""Article and store register intake over HTTP: 202 and a job for a good call; a 4xx naming the
field or element and nothing landed for a bad one (JSON and the Engage article XML)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import polars as pl
import pytest

from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.tables import ARTICLE_SUBMISSIONS, STORE_SUBMISSIONS
from storage.apikeys import Scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.registers import (
    JSON,
    XML,
    accepted,
    article_xml,
    assert_no_articles_landed,
    assert_no_stores_landed,
    bronze_articles,
    full_article,
    import_articles,
    post_articles,
    post_stores,
    store,
)
from tests.support.server import client, running_intake

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE articles [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<articles><article><sku>&lol4;</sku></article></articles>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE articles [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<articles><article><sku>A</sku><description>&secret;</description></article></articles>"""


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def error_at(body: dict[str, Any], path: str) -> dict[str, Any]:
    """The one error of a problem document at `path`."""
    matching = [error for error in body["errors"] if error["path"] == path]
    assert len(matching) == 1, body["errors"]
    return matching[0]


def landed_articles(settings: EngageSettings) -> pl.DataFrame:
    return Lake(settings.resolved_lake_uri).scan(ARTICLE_SUBMISSIONS).collect()


# Articles as JSON


def test_articles_are_landed_with_a_queued_job_and_their_count(
    api: httpx.Client, settings: EngageSettings
) -> None:
    articles = [full_article(f"SKU-{n}", n) for n in range(3)]
    answer = post_articles(api, articles)
    assert answer["count"] == 3
    job = api.get(f"/articles/jobs/{answer['jobId']}")
    assert job.status_code == 200, job.text
    assert job.json()["status"] == "Queued"
    assert job.json()["count"] == 3
    landed = landed_articles(settings)
    assert sorted(landed["sku"]) == ["SKU-0", "SKU-1", "SKU-2"]
    assert set(landed["source"]) == {"json"}
    assert set(landed["job_id"]) == {answer["jobId"]}
    # The canonical JSON holds every field as sent.
    first = json.loads(landed.filter(pl.col("sku") == "SKU-1")["article"].item())
    assert first == full_article("SKU-1", 1)


def test_a_sku_sent_twice_in_one_call_lands_once_and_the_later_wins(
    api: httpx.Client, settings: EngageSettings
) -> None:
    answer = post_articles(
        api, [{"sku": "A", "name": "first"}, {"sku": "B"}, {"sku": "A", "name": "second"}]
    )
    assert answer["count"] == 2
    landed = landed_articles(settings).sort("batch_position")
    assert landed["sku"].to_list() == ["B", "A"]
    assert json.loads(landed["article"][1]) == {"sku": "A", "name": "second"}


def test_1000_articles_are_accepted_and_1001_are_400(
    api: httpx.Client, settings: EngageSettings
) -> None:
    too_many = [{"sku": f"SKU-{n}"} for n in range(1001)]
    body = problem(api.post("/articles", content=json.dumps(too_many), headers=JSON), 400)
    assert error_at(body, "")["code"] == "TooManyItems"
    assert_no_articles_landed(settings)
    assert post_articles(api, too_many[:1000])["count"] == 1000


def test_1000_articles_with_long_descriptions_fit_in_one_call(
    api: httpx.Client, settings: EngageSettings
) -> None:
    articles = [full_article(f"SKU-{n}", n) | {"description": "d" * 2000} for n in range(1000)]
    body = json.dumps(articles)
    assert len(body) > 2 * 1024 * 1024  # past the 1 MiB limit of the other JSON endpoints
    answer = accepted(api.post("/articles", content=body, headers=JSON), "articles")
    assert answer["count"] == 1000
    assert bronze_articles(settings) == 1000


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ([], "", "TooShort"),
        ({"sku": "A"}, "", "InvalidType"),
        ([{"name": "no sku"}], "/0/sku", "Required"),
        ([{"sku": "A", "colour": "Blue"}], "/0/colour", "UnknownField"),
        ([{"sku": "A", "awardsBonus": "yes"}], "/0/awardsBonus", "InvalidType"),
        ([{"sku": "A", "dateSpare1": "2025-09-01T00:00:00"}], "/0/dateSpare1", "OffsetRequired"),
        ([{"sku": "A", "number": 7391}], "/0/number", "InvalidType"),
        ([{"sku": "x" * 129}], "/0/sku", "TooLong"),
    ],
)
@REFUSED_BEFORE_STORAGE
def test_a_bad_article_is_400_at_its_json_pointer(
    api: httpx.Client, settings: EngageSettings, body: Any, path: str, code: str
) -> None:
    answer = problem(api.post("/articles", content=json.dumps(body), headers=JSON), 400)
    assert error_at(answer, path)["code"] == code
    assert_no_articles_landed(settings)


def test_a_bad_gtin_in_the_fourth_article_rejects_the_whole_call(
    api: httpx.Client, settings: EngageSettings
) -> None:
    articles = [full_article(f"SKU-{n}", n) for n in range(5)]
    articles[3]["gtin"] = "73500123X"
    answer = problem(api.post("/articles", content=json.dumps(articles), headers=JSON), 400)
    assert answer["errors"] == [
        {"path": "/3/gtin", "code": "InvalidGtin", "message": "A GTIN is 8, 12, 13 or 14 digits."}
    ]
    assert_no_articles_landed(settings)


def test_articles_must_be_sent_as_json(api: httpx.Client, settings: EngageSettings) -> None:
    problem(api.post("/articles", content=b"[]", headers={"content-type": "text/plain"}), 415)
    problem(api.post("/articles", content=article_xml([{"sku": "A"}]), headers=XML), 415)
    assert_no_articles_landed(settings)


# The Engage article XML


def test_the_example_article_file_is_imported(api: httpx.Client, settings: EngageSettings) -> None:
    answer = import_articles(api, (EXAMPLES / "articles.xml").read_bytes())
    assert answer["count"] == 2
    landed = landed_articles(settings).sort("batch_position")
    assert landed["sku"].to_list() == ["7391-RAIN-BLU-L", "2210-SOCK-GRY-M"]
    assert set(landed["source"]) == {"xml"}
    jacket = json.loads(landed["article"][0])
    assert jacket["awardsBonus"] is True
    assert jacket["mainCategory"] == "Jackets"
    assert jacket["dateSpare1"] == "2025-09-01T00:00:00+02:00"


def test_a_large_file_with_every_field_is_imported_in_one_job(
    api: httpx.Client, settings: EngageSettings
) -> None:
    articles = [full_article(f"{7000 + n}-RAIN-{n:05d}", n) for n in range(2500)]
    xml = article_xml(articles)
    assert len(xml) > 1024 * 1024  # over the JSON body limit: the import has its own
    answer = accepted(api.post("/articles/import", content=xml, headers=XML), "articles")
    assert answer["count"] == 2500
    landed = landed_articles(settings)
    assert landed.height == 2500
    assert set(landed["job_id"]) == {answer["jobId"]}
    sample = landed.filter(pl.col("sku") == articles[1234]["sku"])["article"].item()
    assert json.loads(sample) == articles[1234]
    assert api.get(f"/articles/jobs/{answer['jobId']}").json()["count"] == 2500


def test_text_xml_and_a_charset_are_accepted(api: httpx.Client) -> None:
    response = api.post(
        "/articles/import",
        content=article_xml([{"sku": "A"}]),
        headers={"content-type": "text/xml; charset=utf-8"},
    )
    assert accepted(response, "articles")["count"] == 1


def test_malformed_xml_is_400_naming_the_element(
    api: httpx.Client, settings: EngageSettings
) -> None:
    xml = b"<articles><article><sku>A</sku></article><article><sku>B</sku><name>x</article>"
    answer = problem(api.post("/articles/import", content=xml, headers=XML), 400)
    error = error_at(answer, "/articles/article[2]/name")
    assert error["code"] == "MalformedXml"
    assert "line 1" in error["message"]
    assert_no_articles_landed(settings)


def test_a_bad_value_in_the_second_article_is_400_naming_its_element(
    api: httpx.Client, settings: EngageSettings
) -> None:
    xml = article_xml([{"sku": "A"}, {"sku": "B"}]).replace(
        b"<sku>B</sku>", b"<sku>B</sku><awardsbonus>maybe</awardsbonus>"
    )
    answer = problem(api.post("/articles/import", content=xml, headers=XML), 400)
    assert answer["errors"] == [
        {
            "path": "/articles/article[2]/awardsbonus",
            "code": "InvalidBoolean",
            "message": "Must be 1, 0, true or false.",
        }
    ]
    assert_no_articles_landed(settings)


@pytest.mark.parametrize(
    ("xml", "path", "code"),
    [
        (b"<articles><article><sku>A</sku><colour>Blue</colour></article></articles>",
         "/articles/article[1]/colour", "UnknownElement"),
        (b"<articles><article><sku>A</sku></article><store/></articles>",
         "/articles/store", "UnknownElement"),
        (b"<products><article><sku>A</sku></article></products>", "/products", "UnknownElement"),
        (b"<articles><article><sku>A</sku><sku>B</sku></article></articles>",
         "/articles/article[1]/sku", "DuplicateElement"),
        (b"<articles><article><name>no sku</name></article></articles>",
         "/articles/article[1]/sku", "Required"),
        (b"<articles><article><sku>A</sku><datespare2>2025-01-01</datespare2></article></articles>",
         "/articles/article[1]/datespare2", "InvalidDateTime"),
        (b"<articles><article><sku>A</sku><gtin>123</gtin></article></articles>",
         "/articles/article[1]/gtin", "InvalidGtin"),
        (b"<articles/>", "/articles", "NoArticles"),
        (b"", "/", "MalformedXml"),
    ],
)  # fmt: skip
@REFUSED_BEFORE_STORAGE
def test_a_bad_document_is_400_naming_the_element(
    api: httpx.Client, settings: EngageSettings, xml: bytes, path: str, code: str
) -> None:
    answer = problem(api.post("/articles/import", content=xml, headers=XML), 400)
    assert error_at(answer, path)["code"] == code
    assert_no_articles_landed(settings)


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "external"])
def test_entity_attacks_are_refused_and_nothing_lands(
    api: httpx.Client, settings: EngageSettings, xml: bytes
) -> None:
    answer = problem(api.post("/articles/import", content=xml, headers=XML), 400)
    assert [error["code"] for error in answer["errors"]] == ["DtdNotAllowed"]
    assert "root" not in answer["errors"][0]["message"]  # nothing of /etc/passwd comes back
    assert_no_articles_landed(settings)


def test_the_import_needs_an_xml_content_type(api: httpx.Client, settings: EngageSettings) -> None:
    xml = article_xml([{"sku": "A"}])
    for headers in ({"content-type": "application/json"}, {"content-type": "text/plain"}, {}):
        answer = problem(api.post("/articles/import", content=xml, headers=headers), 415)
        assert answer["type"].endswith("UnsupportedMediaType")
    assert_no_articles_landed(settings)


def test_an_import_over_its_body_limit_is_413(settings: EngageSettings) -> None:
    small = settings.model_copy(update={"import_max_body_bytes": 2048})
    key = make_key(settings, Scope.ARTICLES_WRITE)
    xml = article_xml([full_article(f"SKU-{n}", n) for n in range(10)])
    with running_intake(small) as base_url, client(base_url, key) as http:
        problem(http.post("/articles/import", content=xml, headers=XML), 413)
        assert accepted(
            http.post("/articles/import", content=article_xml([{"sku": "A"}]), headers=XML),
            "articles",
        )
    assert bronze_articles(settings) == 1


# Stores


def test_stores_are_landed_with_a_queued_job(api: httpx.Client, settings: EngageSettings) -> None:
    answer = post_stores(api, [store("S-1"), store("S-2", type="Ecom", countryCode="no")])
    assert answer["count"] == 2
    job = api.get(f"/stores/jobs/{answer['jobId']}").json()
    assert (job["status"], job["count"]) == ("Queued", 2)
    landed = Lake(settings.resolved_lake_uri).scan(STORE_SUBMISSIONS).collect().sort("external_id")
    assert landed["external_id"].to_list() == ["S-1", "S-2"]
    assert json.loads(landed["store"][1])["countryCode"] == "NO"


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ([store("S-1", currency="sek")], "/0/currency", "InvalidFormat"),
        ([store("S-1"), store("S-2", countryCode="SWE")], "/1/countryCode", "InvalidFormat"),
        ([{"name": "no id"}], "/0/externalId", "Required"),
        ([store("S-1", openingHours="9-18")], "/0/openingHours", "UnknownField"),
        ([store("S-1", externalId="  ")], "/0/externalId", "TooShort"),
        ([], "", "TooShort"),
        ([store(f"S-{n}") for n in range(1001)], "", "TooManyItems"),
    ],
)
@REFUSED_BEFORE_STORAGE
def test_a_bad_store_is_400_and_nothing_lands(
    api: httpx.Client, settings: EngageSettings, body: Any, path: str, code: str
) -> None:
    answer = problem(api.post("/stores", content=json.dumps(body), headers=JSON), 400)
    assert error_at(answer, path)["code"] == code
    assert_no_stores_landed(settings)


# Keys, scopes and jobs


def test_register_calls_need_a_key(intake_url: str, settings: EngageSettings) -> None:
    with client(intake_url, None) as anonymous:
        problem(anonymous.post("/articles", content=b'[{"sku":"A"}]', headers=JSON), 401)
        problem(anonymous.post("/articles/import", content=b"<articles/>", headers=XML), 401)
        problem(anonymous.post("/stores", content=b'[{"externalId":"S"}]', headers=JSON), 401)
    assert_no_articles_landed(settings)
    assert_no_stores_landed(settings)


def test_registers_need_the_articles_write_scope(intake_url: str, settings: EngageSettings) -> None:
    orders_only = make_key(settings, Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    with client(intake_url, orders_only) as http:
        problem(http.post("/articles", content=b'[{"sku":"A"}]', headers=JSON), 403)
        problem(http.post("/stores", content=b'[{"externalId":"S"}]', headers=JSON), 403)
    assert_no_articles_landed(settings)
    assert_no_stores_landed(settings)
    articles_writer = make_key(settings, Scope.ARTICLES_WRITE)
    with client(intake_url, articles_writer) as http:
        job_id = post_articles(http, [{"sku": "A"}])["jobId"]
        assert http.get(f"/articles/jobs/{job_id}").status_code == 200
        post_stores(http, [store("S-1")])  # there is no stores scope: articles:write covers it
        problem(http.post("/orders", content=b"{}", headers=JSON), 403)


def test_unknown_jobs_and_jobs_of_another_resource_are_404(api: httpx.Client) -> None:
    problem(api.get("/articles/jobs/00000000-0000-0000-0000-000000000000"), 404)
    store_job = post_stores(api, [store("S-1")])["jobId"]
    problem(api.get(f"/articles/jobs/{store_job}"), 404)
    article_job = post_articles(api, [{"sku": "A"}])["jobId"]
    problem(api.get(f"/stores/jobs/{article_job}"), 404)
    problem(api.get(f"/orders/jobs/{article_job}"), 404)
