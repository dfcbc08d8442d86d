"""The intake as `engage-orders serve` builds it, beside the app tests build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter: freezing the collector is for a process that serves one app until
# it exits, which a pytest worker building hundreds of apps is not.
STARTED_APP_FREEZE_COUNT = """
import asyncio, gc, sys
from ingest_api.app import create_app, served_app

app = served_app() if sys.argv[1] == "served" else create_app()

async def started() -> int:
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()

print(asyncio.run(started()))
"""


@pytest.mark.parametrize(("factory", "frozen"), [("served", True), ("tests", False)])
def test_the_served_app_exempts_its_start_up_objects_from_collection(
    tmp_path: Path, factory: str, frozen: bool
) -> None:
    """Full collections walking the modules and routes took a third of the intake's time
    under load (docs/performance.md); the served app freezes them once it has started."""
    env = {**os.environ, "ENGAGE_HOME": str(tmp_path / "engage")}
    env.pop("ENGAGE_DATABASE_URL", None)
    answer = subprocess.run(
        [sys.executable, "-c", STARTED_APP_FREEZE_COUNT, factory],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen_objects = int(answer.stdout.strip().splitlines()[-1])
    assert (frozen_objects > 100_000) is frozen
