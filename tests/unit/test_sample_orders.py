"""The seeded sample-order generator (schemas/sample_orders.py) that the demo and the benchmarks
share: deterministic per seed, valid for the product's request models, and its Python (demo) and
polars (benchmark) paths produce the same orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from assets.orders.changes import LandedChange, apply_changes
from assets.orders.documents import order_document
from schemas.articles import ArticleBatch
from schemas.contacts import NewContact
from schemas.order_tables import ORDER_CHANGES
from schemas.orders import (
    ChangeDelivery,
    ChangeStatus,
    Order,
    change_status_rule_errors,
    order_rule_errors,
)
from schemas.sample_orders import ChangeMix, SampleWorld, mix, mix_expr
from schemas.stores import StoreBatch

STATUSES = ("InProgress", "Completed", "Cancelled")
MODELS: dict[str, type[Order | ChangeStatus | ChangeDelivery]] = {
    "create": Order,
    "replace": Order,
    "change_status": ChangeStatus,
    "change_delivery": ChangeDelivery,
}
LANDED_FROM = datetime(2026, 3, 1, tzinfo=UTC)


def world(seed: int = 7) -> SampleWorld:
    return SampleWorld(seed=seed, articles=300, contacts=200)


def compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def assert_valid(change_type: str, body: str) -> None:
    """Parses with the intake's model and breaks none of the intake's business rules."""
    payload = MODELS[change_type].model_validate_json(body)
    if isinstance(payload, Order):
        assert order_rule_errors(payload, STATUSES) == []
    elif isinstance(payload, ChangeStatus):
        assert change_status_rule_errors(payload, STATUSES) == []


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = [(c.at, c.change_type, c.order_id, c.body) for c in world(7).lifecycles(60)]
    again = [(c.at, c.change_type, c.order_id, c.body) for c in world(7).lifecycles(60)]
    other = [(c.at, c.change_type, c.order_id, c.body) for c in world(8).lifecycles(60)]
    assert first == again
    assert first != other
    rows = world(7).change_rows(500, existing_orders=100, landed_from=LANDED_FROM)
    assert rows.equals(world(7).change_rows(500, existing_orders=100, landed_from=LANDED_FROM))
    assert not rows.equals(world(8).change_rows(500, existing_orders=100, landed_from=LANDED_FROM))
    assert world(7).catalogue == world(7).catalogue


def test_the_polars_hash_is_the_python_hash() -> None:
    indices = [0, 1, 2, 10**6, 2**40 + 3]
    computed = pl.select(mix_expr(42, 3, pl.lit(pl.Series(indices, dtype=pl.Int64)))).to_series()
    assert computed.to_list() == [mix(42, 3, index) for index in indices]


def test_lifecycle_bodies_validate_and_cover_every_kind_of_write() -> None:
    changes = list(world().lifecycles(200))
    for change in changes:
        assert_valid(change.change_type, json.dumps(change.body))
        assert change.method in ("POST", "PUT")
        assert change.path.startswith("/orders")
    assert [change.at for change in changes] == sorted(change.at for change in changes)
    kinds = {change.change_type for change in changes}
    assert kinds == {"create", "replace", "change_status", "change_delivery"}
    returns = [
        line
        for change in changes
        if change.change_type == "replace"
        for line in change.body["lineItems"]["items"]
        if line["type"] == "Return"
    ]
    assert returns
    assert all("returnDetails" in line for line in returns)
    keys = {
        change.body["contact"]["matchKeyType"] for change in changes if "contact" in change.body
    }
    assert keys == {"Email"}


def test_applying_a_lifecycle_with_the_pipeline_gives_the_finished_order() -> None:
    """The pipeline's own change logic turns each order's writes into `final_document`."""
    sample = world()
    for index in range(40):
        landed = [
            LandedChange(
                job_id=f"job-{index}-{step}",
                order_id=change.order_id,
                change_type=change.change_type,
                change_seq=step,
                landed_at=change.at,
                if_match=None,
                payload=MODELS[change.change_type].model_validate_json(json.dumps(change.body)),
            )
            for step, change in enumerate(sample.lifecycle_changes(index))
        ]
        applied = apply_changes(landed, {}, {}, lambda document: None)
        assert all(outcome.succeeded for outcome in applied.outcomes)
        assert applied.versions[-1].state.document == sample.final_document(index)


def test_the_bulk_path_builds_the_same_orders_as_the_python_path() -> None:
    sample = world()
    creates = sample.change_rows(400, existing_orders=0, landed_from=LANDED_FROM)
    assert set(creates["change_type"]) == {"create"}
    for row in creates.head(120).iter_rows(named=True):
        assert row["body"] == sample.create_body_json(row["order_index"])
    orders, lines = sample.order_frames(sample.final_state_spec(0, 150))
    for row in orders.iter_rows(named=True):
        assert row["document"] == compact(sample.final_document(row["order_index"]))
        # Canonical: what the pipeline would store for this body, byte for byte.
        assert row["document"] == compact(order_document(Order.model_validate_json(row["body"])))
    assert lines.height == orders["line_count"].sum()


def test_bronze_rows_have_the_table_columns_and_valid_bodies() -> None:
    sample = world()
    rows = sample.change_rows(
        3000, existing_orders=500, landed_from=LANDED_FROM, mix=ChangeMix(), batch_rows=1000
    )
    assert rows.columns == [*ORDER_CHANGES.column_names, "order_index"]
    assert rows["job_id"].n_unique() == rows.height
    assert rows["batch_position"].max() == 999
    assert rows["landed_at"].n_unique() == 3
    for row in rows.iter_rows(named=True):
        assert_valid(row["change_type"], row["body"])
        # Creates make new orders; everything else changes an order of the state.
        assert (row["order_index"] >= 500) == (row["change_type"] == "create")
        if row["change_type"] in ("create", "replace"):
            assert json.loads(row["body"])["contact"]["matchKey"] == row["contact_match_key"]
        else:
            assert row["contact_match_key"] is None
    created = rows.filter(pl.col("change_type") == "create")["order_index"]
    assert created.to_list() == list(range(500, 500 + created.len()))
    shares = rows["change_type"].value_counts(normalize=True)
    share = dict(zip(shares["change_type"], shares["proportion"], strict=True))
    assert share["create"] == pytest.approx(0.40, abs=0.05)
    assert share["change_status"] == pytest.approx(0.40, abs=0.05)


def test_slices_of_a_long_sequence_are_the_sequence() -> None:
    sample = world()
    whole = sample.change_rows(5000, existing_orders=400, landed_from=LANDED_FROM)
    sliced = pl.concat(
        sample.iter_change_rows(5000, existing_orders=400, landed_from=LANDED_FROM, slice_rows=2000)
    )
    assert sliced.equals(whole)


def test_register_entries_and_contacts_validate() -> None:
    sample = world()
    for batch in sample.article_register_entries(batch=100):
        assert len(ArticleBatch.model_validate_json(json.dumps(batch)).root) == len(batch)
    assert StoreBatch.model_validate_json(json.dumps(sample.store_register_entries())).root
    emails = set()
    for body in sample.contact_bodies():
        contact = NewContact.model_validate_json(json.dumps(body))
        emails.add(contact.email)
    assert len(emails) == sample.contacts
    pool = sample.pool.frame()
    assert pool["email"].to_list() == [contact.email for contact in sample.pool]
