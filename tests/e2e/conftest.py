"""End-to-end fixtures: the real intake over HTTP plus the real Dagster processing job."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import pytest

from pipelines.processing import process_pending
from storage.settings import EngageSettings


@pytest.fixture
def process(settings: EngageSettings) -> Callable[[], None]:
    """Run all pending processing once, as `engage-orders process` does; it must succeed."""
    instance = dg.DagsterInstance.ephemeral()

    def run() -> None:
        assert process_pending(settings, instance=instance)

    return run
