"""Segment API against a real intake, a real database (SQLite, PostgreSQL) and gold Delta tables
written for the test; memberships are materialised by the real asset."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import dagster as dg
import httpx
import pytest

from assets.segments.memberships import segment_memberships
from pipelines.resources import resources_from_settings
from schemas.gold_tables import FACT_ORDER
from storage.apikeys import Scope
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.conftest import make_key
from tests.support.contacts import soft_delete
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.gold import ONGOING_JACKETS, example_gold
from tests.support.server import client

ONGOING: dict[str, Any] = {"name": "ongoing", "criteria": {"order": {"ongoing": True}}}
NO_ONGOING_ORDER: dict[str, Any] = {"criteria": {"not": {"order": {"ongoing": True}}}}


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [(error["path"], error["code"]) for error in response.json()["errors"]]


def save(api: httpx.Client, definition: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api.post("/segments", json=definition)
    assert response.status_code == status, response.text
    return response.json()


def materialize(settings: EngageSettings) -> None:
    result = dg.materialize(
        [segment_memberships],
        resources=resources_from_settings(settings),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success


@pytest.fixture
def contact_ids(api: httpx.Client) -> list[str]:
    """Five real contacts, sorted, so that key n of `example_gold` is the n-th smallest id."""
    ids = []
    for number in range(5):
        response = api.post("/contacts", json={"email": f"segment{number}@example.org"})
        assert response.status_code == 201
        ids.append(response.json()["contactId"])
    return sorted(ids)


@pytest.fixture
def gold(settings: EngageSettings, contact_ids: list[str]) -> list[str]:
    """The example gold tables for those contacts; returns their ids by contact key - 1."""
    example_gold(contact_ids).write(Lake(settings.resolved_lake_uri))
    return contact_ids


# --- save, read, list, delete -------------------------------------------------------------------


def test_a_new_segment_is_created_and_reads_back_as_written(api: httpx.Client) -> None:
    response = api.post("/segments", json=ONGOING_JACKETS)

    assert response.status_code == 201
    assert response.headers["location"] == "/api/v3/segments/ongoing-jackets"
    body = response.json()
    assert body["name"] == "ongoing-jackets"
    assert body["description"] == ONGOING_JACKETS["description"]
    assert body["criteria"] == ONGOING_JACKETS["criteria"]
    assert len(body["revision"]) == 16
    assert datetime.fromisoformat(body["createdAt"]).utcoffset() is not None
    assert body["createdAt"] == body["updatedAt"]
    assert body["materializedAt"] is None
    assert body["memberCount"] is None
    assert body["current"] is False
    assert api.get("/segments/ongoing-jackets").json() == body


def test_saving_an_existing_name_replaces_it(api: httpx.Client) -> None:
    first = save(api, ONGOING_JACKETS)
    changed = {**ONGOING_JACKETS, "criteria": {"order": {"ongoing": False}}}

    second = save(api, changed, status=200)

    assert second["criteria"] == {"order": {"ongoing": False}}
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] > first["updatedAt"]
    assert second["revision"] != first["revision"]
    assert api.get("/segments/ongoing-jackets").json()["criteria"] == changed["criteria"]


def test_the_revision_follows_the_criteria_not_their_spelling_or_the_description(
    api: httpx.Client,
) -> None:
    first = save(api, ONGOING_JACKETS)
    respelled = copy.deepcopy(ONGOING_JACKETS)
    respelled["description"] = "Reworded"
    order = respelled["criteria"]["all"][0]["order"]
    order["line"] = {"article": {"mainCategory": ["Jackets"]}, "type": ["Purchase"]}

    second = save(api, respelled, status=200)

    assert second["criteria"]["all"][0]["order"]["line"]["article"] == {"mainCategory": ["Jackets"]}
    assert second["description"] == "Reworded"
    assert second["revision"] == first["revision"]


def test_segments_are_listed_by_name_and_paged(api: httpx.Client) -> None:
    for name in ("b-segment", "a-segment", "c-segment"):
        save(api, {**ONGOING, "name": name})

    first = api.get("/segments", params={"count": 2}).json()
    second = api.get("/segments", params={"offset": 2, "count": 2}).json()

    assert [item["name"] for item in first["items"]] == ["a-segment", "b-segment"]
    assert first["totalCount"] == 3
    assert first["links"] == [
        {"href": "/api/v3/segments?offset=2&count=2", "method": "GET", "rel": "next"}
    ]
    assert [item["name"] for item in second["items"]] == ["c-segment"]


def test_a_deleted_segment_is_gone(api: httpx.Client) -> None:
    save(api, ONGOING)

    assert api.delete("/segments/ongoing").status_code == 204

    for response in (
        api.get("/segments/ongoing"),
        api.delete("/segments/ongoing"),
        api.get("/segments/ongoing/members"),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == "urn:engage-orders:problem:SegmentNotFound"
    assert api.get("/segments").json()["items"] == []


@pytest.mark.parametrize("name", ["unknown", "not a name", "x" * 101])
def test_an_unknown_segment_is_404(api: httpx.Client, name: str) -> None:
    assert api.get(f"/segments/{name}").status_code == 404
    assert api.delete(f"/segments/{name}").status_code == 404


# --- bad definitions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            {"name": "x", "criteria": {"order": {"colour": "red"}}},
            [("/criteria/order/colour", "UnknownField")],
        ),
        (
            {"name": "x", "criteria": {"order": {"ongoing": "yes"}}},
            [("/criteria/order/ongoing", "InvalidType")],
        ),
        (
            {"name": "x", "criteria": {"order": {"value": {"min": "5"}}}},
            [("/criteria/order/value/min", "InvalidType")],
        ),
        (
            {"name": "x", "criteria": {"receipt": {"since": "30 days"}}},
            [("/criteria/receipt/since", "InvalidTimeBound")],
        ),
        (
            {"name": "x", "criteria": {"order": {"createdAt": "P3X"}}},
            [("/criteria/order/createdAt", "InvalidDuration")],
        ),
        (
            {"name": "x", "criteria": {"order": {"createdAt": {"from": "2026-01-01T00:00:00"}}}},
            [("/criteria/order/createdAt/from", "OffsetRequired")],
        ),
        (
            {
                "name": "x",
                "criteria": {"all": [{"order": {}}, {"not": {"receipt": {"since": "P30"}}}]},
            },
            [("/criteria/all/1/not/receipt/since", "InvalidDuration")],
        ),
        ({"name": "x", "criteria": {"orders": {}}}, [("/criteria", "InvalidCriterion")]),
        (
            {"name": "x", "criteria": {"order": {}, "receipt": {}}},
            [("/criteria", "InvalidCriterion")],
        ),
        ({"name": "x", "criteria": {"all": []}}, [("/criteria/all", "TooShort")]),
        (
            {"name": "x", "criteria": {"contact": {"orderCount": {"min": 5, "max": 1}}}},
            [("/criteria/contact/orderCount", "InvalidRange")],
        ),
        (
            {"name": "x", "criteria": {"order": {"line": {"article": {"colour": "red"}}}}},
            [("/criteria/order/line/article/colour", "UnknownArticleAttribute")],
        ),
        (
            {"name": "x", "criteria": {"order": {"count": {"min": 0}}}},
            [("/criteria/order/count/min", "OutOfRange")],
        ),
        ({"criteria": {"order": {}}}, [("/name", "Required")]),
        ({"name": "bad name!", "criteria": {"order": {}}}, [("/name", "InvalidFormat")]),
        (
            {"name": "x", "description": 5, "criteria": {"order": {}}, "owner": "me"},
            [("/description", "InvalidType"), ("/owner", "UnknownField")],
        ),
        (
            {"name": "x", "description": "a\x00b", "criteria": {}},
            [("/criteria", "InvalidCriterion")],
        ),
        (
            {"name": "x", "description": "a\x00b", "criteria": {"order": {}}},
            [("/description", "InvalidCharacter")],
        ),
        ([], [("", "InvalidType")]),
        (
            {"name": "x", "criteria": {"all": [{"any": [{"order": {}}] * 100}] * 2}},
            [("/criteria", "TooManyCriteria")],
        ),
    ],
)
@REFUSED_BEFORE_STORAGE
def test_a_bad_definition_is_400_naming_each_problem_and_nothing_is_saved(
    api: httpx.Client, definition: Any, expected: list[tuple[str, str]]
) -> None:
    response = api.post("/segments", json=definition)

    assert response.status_code == 400
    assert errors(response) == expected
    assert api.get("/segments").json()["totalCount"] == 0


def test_preview_validates_the_same_way(api: httpx.Client) -> None:
    response = api.post("/segments/preview", json={"criteria": {"order": {"colour": "red"}}})

    assert response.status_code == 400
    assert errors(response) == [("/criteria/order/colour", "UnknownField")]


@pytest.mark.parametrize("path", ["/segments", "/segments/preview"])
def test_malformed_json_and_other_media_types_are_refused(api: httpx.Client, path: str) -> None:
    malformed = api.post(path, content=b'{"name": ', headers={"content-type": "application/json"})
    as_text = api.post(path, content=b"{}", headers={"content-type": "text/plain"})

    assert malformed.status_code == 400
    assert errors(malformed)[0][1] == "MalformedJson"
    assert as_text.status_code == 415


def test_deeply_nested_criteria_are_a_400_or_work_but_never_a_server_error(
    api: httpx.Client,
) -> None:
    for depth in (50, 5000):
        body = '{"criteria": ' + '{"not": ' * depth + '{"order": {}}' + "}" * depth + "}"
        for path in ("/segments/preview", "/segments"):
            response = api.post(
                path,
                content=body.replace("{", '{"name": "deep", ', 1) if path == "/segments" else body,
                headers={"content-type": "application/json"},
            )
            assert response.status_code in (200, 201, 400), (depth, path, response.text)


# --- scopes -------------------------------------------------------------------------------------


def test_a_missing_key_is_401(intake_url: str) -> None:
    with client(intake_url, None) as anonymous:
        assert anonymous.get("/segments").status_code == 401
        assert anonymous.post("/segments", json=ONGOING).status_code == 401


def test_reading_needs_segments_read_and_writing_segments_write(
    intake_url: str, settings: EngageSettings, api: httpx.Client
) -> None:
    save(api, ONGOING)
    contacts_key = make_key(settings, Scope.CONTACTS_READ, Scope.CONTACTS_WRITE)
    reader_key = make_key(settings, Scope.SEGMENTS_READ)
    writer_key = make_key(settings, Scope.SEGMENTS_WRITE)

    with client(intake_url, contacts_key) as other:
        assert other.get("/segments").status_code == 403
        assert other.get("/segments/ongoing/members").status_code == 403
        assert other.post("/segments/preview", json=ONGOING).status_code == 403
    with client(intake_url, reader_key) as reader:
        assert reader.get("/segments").status_code == 200
        assert reader.get("/segments/ongoing").status_code == 200
        assert reader.get("/segments/ongoing/members").status_code == 200
        assert reader.post("/segments/preview", json=ONGOING).status_code == 200
        forbidden = reader.post("/segments", json=ONGOING)
        assert forbidden.status_code == 403
        assert forbidden.json()["type"] == "urn:engage-orders:problem:MissingScope"
        assert reader.delete("/segments/ongoing").status_code == 403
    with client(intake_url, writer_key) as writer:
        assert writer.post("/segments", json=ONGOING).status_code == 200
        assert writer.get("/segments/ongoing").status_code == 200
        assert writer.delete("/segments/ongoing").status_code == 204


# --- preview ------------------------------------------------------------------------------------


def test_preview_is_zero_before_the_gold_tables_are_built(
    api: httpx.Client, settings: EngageSettings
) -> None:
    response = api.post("/segments/preview", json=ONGOING_JACKETS)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "sample": []}
    assert not Lake(settings.resolved_lake_uri).exists(FACT_ORDER), "a read creates no tables"


@pytest.mark.parametrize(
    ("criteria", "members"),
    [
        (ONGOING_JACKETS["criteria"], [1]),
        (NO_ONGOING_ORDER["criteria"], [3, 5]),
        (
            {
                "all": [
                    {"receipt": {"since": "P90D", "article": {"brand": "Acme"}}},
                    {"not": {"order": {"ongoing": True}}},
                ]
            },
            [],
        ),
        ({"receipt": {"since": "P365D", "article": {"brand": "Acme"}}}, [2, 4]),
        ({"any": [{"order": {"ongoing": False}}, {"receipt": {"since": "P30D"}}]}, [2, 3]),
        ({"contact": {}}, [1, 2, 3, 4, 5]),
    ],
)
def test_preview_counts_and_samples_the_current_gold_tables(
    api: httpx.Client, gold: list[str], criteria: dict[str, Any], members: list[int]
) -> None:
    response = api.post("/segments/preview", json={"criteria": criteria})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(members)
    assert sorted(body["sample"]) == sorted(gold[key - 1] for key in members)


def test_a_soft_deleted_contact_never_appears_in_preview_or_members(
    api: httpx.Client, settings: EngageSettings, gold: list[str]
) -> None:
    save(api, ONGOING)
    materialize(settings)
    assert gold[0] in api.get("/segments/ongoing/members").text

    soft_delete(api, gold[0])

    preview = api.post("/segments/preview", json=ONGOING).json()
    assert preview["count"] == 2
    assert sorted(preview["sample"]) == sorted([gold[1], gold[3]])
    members = api.get("/segments/ongoing/members").json()
    assert [item["contactId"] for item in members["items"]] == sorted([gold[1], gold[3]])
    assert members["totalCount"] == 2
    assert api.get("/segments/ongoing").json()["memberCount"] == 2


# --- members ------------------------------------------------------------------------------------


def test_members_are_empty_until_materialised(api: httpx.Client, gold: list[str]) -> None:
    save(api, ONGOING)

    body = api.get("/segments/ongoing/members").json()

    assert body == {
        "items": [],
        "totalCount": 0,
        "offset": 0,
        "count": 10,
        "links": [],
        "revision": None,
        "materializedAt": None,
        "current": False,
    }


def test_members_are_paged_by_contact_id_and_say_whether_they_are_current(
    api: httpx.Client, settings: EngageSettings, gold: list[str]
) -> None:
    saved = save(api, ONGOING)
    materialize(settings)
    expected = sorted([gold[0], gold[1], gold[3]])

    first = api.get("/segments/ongoing/members", params={"count": 2}).json()
    second = api.get("/segments/ongoing/members", params={"offset": 2, "count": 2}).json()

    assert [item["contactId"] for item in first["items"]] == expected[:2]
    assert [item["contactId"] for item in second["items"]] == expected[2:]
    assert first["totalCount"] == second["totalCount"] == 3
    assert first["links"] == [
        {
            "href": "/api/v3/segments/ongoing/members?offset=2&count=2",
            "method": "GET",
            "rel": "next",
        }
    ]
    assert first["revision"] == saved["revision"]
    assert first["current"] is True
    materialized_at = datetime.fromisoformat(first["materializedAt"])
    assert materialized_at.utcoffset() is not None
    listed = api.get("/segments").json()["items"][0]
    assert listed["memberCount"] == 3
    assert listed["current"] is True
    assert datetime.fromisoformat(listed["materializedAt"]) == materialized_at

    changed = save(api, {**ONGOING, "criteria": {"order": {"ongoing": False}}}, status=200)
    stale = api.get("/segments/ongoing/members").json()
    assert stale["current"] is False
    assert stale["revision"] == saved["revision"] != changed["revision"]
    assert stale["totalCount"] == 3
    assert changed["current"] is False

    materialize(settings)
    fresh = api.get("/segments/ongoing/members").json()
    assert fresh["current"] is True
    assert [item["contactId"] for item in fresh["items"]] == [gold[2]]


def test_an_empty_materialised_segment_has_zero_members_not_none(
    api: httpx.Client, settings: EngageSettings, gold: list[str]
) -> None:
    save(api, {"name": "nobody", "criteria": {"contact": {"countryCode": "NO"}}})
    materialize(settings)

    segment = api.get("/segments/nobody").json()
    members = api.get("/segments/nobody/members").json()

    assert segment["memberCount"] == 0
    assert segment["current"] is True
    assert members["totalCount"] == 0
    assert members["materializedAt"] is not None
