"""End-to-end fixtures: the real intake over HTTP plus the real Dagster processing job, on both
installations (tests.support.installations). A test that needs one kind of lake says so with
`@pytest.mark.lake("local")` or `@pytest.mark.lake("s3")`, and why in its docstring; tests that
also run on Azure Blob Storage say `@pytest.mark.lake("local", "s3", "azure")`. Tests whose
subject is not the lake are marked `LAKE_INCIDENTAL` (both databases, the lake on local disk),
refusals before storage `REFUSED_BEFORE_THE_LAKE`; the marker nearest the test applies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.processing import process_pending
from storage.settings import EngageSettings
from tests.support.azure_storage import azure_container, azurite_server
from tests.support.databases import fresh_database
from tests.support.installations import Installation, installations_marked
from tests.support.object_storage import (
    S3Endpoint,
    moto_server,
    s3_bucket,
    s3_lake_with_every_table,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "installation" in metafunc.fixturenames:
        marker = next(
            (
                mark
                for mark in metafunc.definition.iter_markers()
                if mark.name in ("lake", "installations")
            ),
            None,
        )
        metafunc.parametrize("installation", installations_marked(marker), ids=str)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """One S3 endpoint per test process, started when a test first needs it."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_lake_template(s3_server: str) -> Iterator[S3Endpoint]:
    """Every table, created once per test process; each test's bucket starts as a copy."""
    with s3_lake_with_every_table(s3_server) as template:
        yield template


@pytest.fixture
def database_url(installation: Installation, tmp_path: Path) -> Iterator[str]:
    with fresh_database(installation.database, tmp_path) as url:
        yield url


@pytest.fixture
def s3(
    installation: Installation, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[S3Endpoint | None]:
    """The test's own bucket when its installation keeps the lake on S3, with every table in it
    (as production's lake is after its first day)."""
    if installation.lake != "s3":
        yield None
        return
    template = request.getfixturevalue("s3_lake_template")
    with s3_bucket(template.url, monkeypatch, copy_of=template) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """One Azure Blob Storage emulator per test process, started when a test first needs it."""
    with azurite_server() as url:
        yield url


@pytest.fixture
def lake_uri(
    installation: Installation,
    s3: S3Endpoint | None,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str | None]:
    if installation.lake == "local":
        yield None
        return
    if s3 is not None:
        yield s3.lake_uri()
    else:
        with azure_container(request.getfixturevalue("azurite"), monkeypatch) as uri:
            yield uri
    # Everything went to object storage: no lake folder appeared on local disk.
    assert not list(tmp_path.rglob("_delta_log")), "a Delta table was written to local disk"


@pytest.fixture(scope="session")
def process_instance() -> dg.DagsterInstance:
    """The Dagster instance `process` runs in, kept by a test process for all its tests: making
    one costs 0.4 s, and no test reads its run history (tests that do make their own)."""
    return dg.DagsterInstance.ephemeral()


@pytest.fixture
def process(
    settings: EngageSettings, process_instance: dg.DagsterInstance, request: pytest.FixtureRequest
) -> Callable[[], None]:
    """Run all pending processing once, as `engage-orders process` does; it must succeed.

    Under `@pytest.mark.without_gold`, as `engage-orders process --skip-gold` does: the gold
    build is most of a run's time, and such a test reads nothing gold holds."""
    gold = request.node.get_closest_marker("without_gold") is None

    def run() -> None:
        assert process_pending(settings, instance=process_instance, gold=gold)

    return run
