"""`engage-orders demo`: post the script, process it, and say where to look."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import click

from pipelines.demo.posting import Tally, post_all, serving_intake
from pipelines.demo.script import DemoScript
from storage.settings import EngageSettings

KINDS = {
    "stores": "stores",
    "articles": "articles",
    "contacts": "contacts",
    "orders": "order writes",
    "receipts": "receipts",
}
GOLD_EXAMPLE = 'engage-orders sql "SELECT count(*) FROM fact_order"'


def run_demo(
    script: DemoScript, settings: EngageSettings, api_url: str | None, ui_url: str
) -> bool:
    """True when every request was accepted and every processing run succeeded."""
    from ingest_api.app import prepare_storage
    from pipelines.processing import process_pending
    from storage.apikeys import Scope, create_api_key
    from storage.db import session_scope

    prepare_storage(settings)
    with session_scope(settings.resolved_database_url) as session:
        _, key = create_api_key(session, "demo", frozenset({Scope.ADMIN.value}))
    requests = list(script.requests())
    click.echo(
        f"Posting {len(requests):,} requests: {script.contacts:,} contacts, the registers, "
        f"{script.orders:,} orders of the last {script.days} days and their receipts.",
        err=True,
    )
    started = time.monotonic()
    with _intake(settings, api_url) as url:
        tally = post_all(url, key, requests)
    click.echo(f"Posted in {time.monotonic() - started:.0f} s: {_summary(tally)}.", err=True)
    for refusal in tally.refused[:10]:
        click.echo(f"  refused: {refusal}", err=True)
    click.echo("Processing (the same Dagster jobs the sensors run)...", err=True)
    processed = process_pending(settings, log_level="WARNING")
    click.echo(_where_to_look(api_url or "http://127.0.0.1:8000", ui_url, key, script))
    if not processed:
        click.echo("A processing run failed: its logs are in the Dagster UI.", err=True)
    return processed and not tally.refused


@contextlib.contextmanager
def _intake(settings: EngageSettings, api_url: str | None) -> Iterator[str]:
    if api_url is not None:
        yield api_url.rstrip("/")
        return
    with serving_intake(settings) as url:
        yield url


def _summary(tally: Tally) -> str:
    sent = ", ".join(
        f"{tally.accepted[kind]:,} {label}" for kind, label in KINDS.items() if tally.accepted[kind]
    )
    return f"{sent}; {len(tally.refused)} refused"


def _where_to_look(api_url: str, ui_url: str, key: str, script: DemoScript) -> str:
    order = script.world.order_id(1)
    return f"""
Done. Where to look:
  Dagster UI    {ui_url}  (`engage-orders run` serves it): assets by layer, runs, checks
  API docs      {api_url}/docs
  An order      curl -H "apikey: {key}" {api_url}/api/v3/orders/{order}
  Its jobs      curl -H "apikey: {key}" "{api_url}/api/v3/orders/jobs?count=5"
  Gold tables   {GOLD_EXAMPLE}
  A segment     docs/segments.md: contacts with an ongoing order containing a jacket

The admin key above was made for this demo ("demo"); revoke it with
`engage-orders apikey revoke <id>` (`engage-orders apikey list` shows the id)."""


def as_of_default() -> datetime:
    """Midnight UTC today: the same seed gives the same data all day."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
