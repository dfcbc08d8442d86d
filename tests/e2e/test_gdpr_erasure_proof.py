"""Erasure leaves no trace: after a purge, no file under ENGAGE_HOME or DAGSTER_HOME holds any
identifier of the contact, as raw bytes or inside decompressed Parquet, while other contacts'
data is untouched and the pipeline keeps working (real intake, Dagster, Delta, databases)."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.processing import process_pending
from schemas.tables import ALL_TABLES
from storage.lake import Lake
from storage.settings import EngageSettings
from tests.support.contacts import create_contact, soft_delete
from tests.support.lake_files import lake_files
from tests.support.orders import JSON, change, order_body, post_order, succeeded_tag
from tests.support.receipts import post_receipt, receipt_body, succeeded


@dataclass(frozen=True)
class Probe:
    """A contact whose every identifier is unique to this test, so any hit is a leak."""

    contact_id: str
    email: str
    phone: str
    external_id: str
    first_name: str
    last_name: str
    street: str
    order_ids: tuple[str, str]
    receipt_id: str

    def identifiers(self) -> dict[str, str]:
        return {
            "e-mail": self.email,
            "phone": self.phone,
            "external id": self.external_id,
            "first name": self.first_name,
            "last name": self.last_name,
            "street": self.street,
            "contact id": self.contact_id,
            "order id 1": self.order_ids[0],
            "order id 2": self.order_ids[1],
            "receipt id": self.receipt_id,
        }


@pytest.fixture
def instance(settings: EngageSettings) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance stored on disk in ENGAGE_HOME/dagster, as DAGSTER_HOME is by default."""
    home = settings.resolved_home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as local:
        yield local


def run_pipeline(settings: EngageSettings, instance: dg.DagsterInstance) -> None:
    assert process_pending(settings, instance=instance)


def populate_probe(api: httpx.Client) -> Probe:
    token = uuid.uuid4().hex[:10]
    fields = {
        "email": f"probe.{token}@example.org",
        "mobilePhone": f"+46701{int(token, 16) % 1_000_000:06d}",
        "externalId": f"EXT-{token}",
        "firstName": f"Quilla{token}",
        "lastName": f"Ostrander{token}",
        "street": f"Probegatan {token}",
    }
    contact_id = create_contact(api, fields)
    return Probe(
        contact_id=contact_id,
        email=fields["email"],
        phone=fields["mobilePhone"],
        external_id=fields["externalId"],
        first_name=fields["firstName"],
        last_name=fields["lastName"],
        street=fields["street"],
        order_ids=(f"ERASE-{token}-1", f"ERASE-{token}-2"),
        receipt_id=f"RCPT-{token}",
    )


def post_probe_data(api: httpx.Client, probe: Probe) -> list[str]:
    """Orders (one with a second version), a receipt; returns the jobs to wait for."""
    by_email = {"matchKey": probe.email, "matchKeyType": "Email"}
    by_phone = {"matchKey": probe.phone, "matchKeyType": "MobilePhone"}
    first = order_body(probe.order_ids[0], contact=by_email)
    first["billingAddress"] = {
        **first["billingAddress"],
        "street": probe.street,
        "firstname": probe.first_name,
        "lastname": probe.last_name,
    }
    jobs = [
        post_order(api, first),
        post_order(api, order_body(probe.order_ids[1], contact=by_phone)),
    ]
    receipt = receipt_body(receipt_id=probe.receipt_id)
    receipt["contact"] = {"matchKey": probe.external_id, "matchKeyType": "ExternalId"}
    jobs.append(post_receipt(api, receipt))
    return jobs


def requested_extract(
    api: httpx.Client, probe: Probe, settings: EngageSettings, instance: dg.DagsterInstance
) -> dict[str, Any]:
    """The probe's personal data extract, requested over HTTP and built by the pipeline."""
    accepted = api.post(f"/contacts/{probe.contact_id}/personal-data-extract")
    assert accepted.status_code == 202, accepted.text
    run_pipeline(settings, instance)
    download = api.get(f"/gdpr/requests/{accepted.json()['requestId']}/extract")
    assert download.status_code == 200, download.text
    return download.json()


def lake_row_counts(settings: EngageSettings) -> Counter[str]:
    lake = Lake(settings.resolved_lake_uri)
    return Counter({spec.path: lake.scan(spec).select("*").collect().height for spec in ALL_TABLES})


def rows_of_other(settings: EngageSettings, contact_id: str, order_id: str) -> Counter[str]:
    """Per table, the rows of the other contact (by contact id or its order's id)."""
    lake = Lake(settings.resolved_lake_uri)
    counts: Counter[str] = Counter()
    for spec in ALL_TABLES:
        conditions = [
            pl.col(column) == value
            for column, value in (("contact_id", contact_id), ("order_id", order_id))
            if column in spec.column_names
        ]
        if conditions:
            counts[spec.path] = (
                lake.scan(spec).filter(pl.any_horizontal(conditions)).collect().height
            )
    return counts


def stored_files(settings: EngageSettings) -> Iterator[tuple[str, bytes]]:
    """Every file the installation wrote: the test folder (ENGAGE_HOME, DAGSTER_HOME inside it,
    the SQLite database) and, when the lake is on object storage, every object of the lake."""
    home = settings.resolved_home.parent
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        yield str(path.relative_to(home)), path.read_bytes()
    lake = Lake(settings.resolved_lake_uri)
    if not lake.is_local:
        yield from ((f"{lake.root_uri}/{path}", data) for path, data in lake_files(lake))


def leaks(settings: EngageSettings, identifiers: dict[str, str]) -> list[str]:
    """Every (file, identifier) where the identifier appears in the file's bytes or, for Parquet,
    in its decompressed contents."""
    found = []
    for name, data in stored_files(settings):
        texts = [data.decode("utf-8", "replace").lower()]
        if name.endswith(".parquet"):
            rows = pq.read_table(io.BytesIO(data)).to_pylist()
            texts.append(json.dumps(rows, default=str).lower())
        for label, value in identifiers.items():
            if any(value.lower() in text for text in texts):
                found.append(f"{label} in {name}")
    return found


def test_purged_contact_leaves_no_trace(
    api: httpx.Client, settings: EngageSettings, instance: dg.DagsterInstance
) -> None:
    other = create_contact(api, {"email": "per.holm@example.org", "firstName": "Per"})
    other_jobs = [
        post_order(
            api, order_body("KEEP-1", contact={"matchKey": other, "matchKeyType": "ContactId"})
        )
    ]
    probe = populate_probe(api)
    jobs = post_probe_data(api, probe)
    run_pipeline(settings, instance)
    tag = succeeded_tag(api, jobs[0])
    succeeded_tag(api, jobs[1])
    succeeded(api, jobs[2])
    succeeded_tag(api, other_jobs[0])
    status_change = {"status": "Completed", "lastChangedAt": "2025-11-22T10:00:00+01:00"}
    second = change(api, probe.order_ids[0], "change-status", status_change)
    action = {"action": "ConfirmOrder", "versionTag": tag}
    response = api.post(
        f"/orders/{probe.order_ids[0]}/action", content=json.dumps(action), headers=JSON
    )
    assert response.status_code == 202, response.text
    run_pipeline(settings, instance)
    assert succeeded_tag(api, second) != tag
    assert (
        api.get("/communications", params={"contactId": probe.contact_id}).json()["totalCount"] == 1
    )
    extract = requested_extract(api, probe, settings, instance)
    assert extract["contact"]["email"] == probe.email
    orders = {order["orderId"]: order for order in extract["orders"]}
    assert set(orders) == set(probe.order_ids)
    assert len(orders[probe.order_ids[0]]["versions"]) == 2
    assert [receipt["uniqueReceiptId"] for receipt in extract["receipts"]] == [probe.receipt_id]
    assert len(extract["communications"]) == 1
    assert "per.holm@example.org" not in json.dumps(extract)
    # Everything is there before: the probe's identifiers are found (the scan can find them).
    assert leaks(settings, probe.identifiers())
    before = lake_row_counts(settings)
    others_before = rows_of_other(settings, other, "KEEP-1")
    assert others_before["silver/order_versions"] == 1

    request = soft_delete(api, probe.contact_id, purge=True)
    run_pipeline(settings, instance)

    status = api.get(f"/gdpr/requests/{request['requestId']}").json()
    assert status["status"] == "Erased"
    assert leaks(settings, probe.identifiers()) == []
    after = lake_row_counts(settings)
    assert rows_of_other(settings, other, "KEEP-1") == others_before
    removed = {path: before[path] - after[path] for path in before if before[path] != after[path]}
    assert removed.get("bronze/order_changes") == 3
    assert removed.get("silver/order_versions") == 3
    assert removed.get("bronze/receipt_submissions") == 1

    # The pipeline keeps working, and the other contact's data is all there.
    next_job = post_order(
        api, order_body("KEEP-2", contact={"matchKey": other, "matchKeyType": "ContactId"})
    )
    run_pipeline(settings, instance)
    succeeded_tag(api, next_job)
    assert api.get("/orders/KEEP-1").status_code == 200
    assert api.get("/orders", params={"contactId": other}).json()["totalCount"] == 2
