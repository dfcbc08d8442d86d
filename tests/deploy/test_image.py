"""The image, short of Docker (no Docker engine runs here): the build context the Dockerfile
copies, installed by its own `uv sync` into a fresh environment, then run the way deploy/ runs
it. The migration job, the intake Deployment's command with its probes, and the code location
as Dagster's Helm chart starts it: a package, module or data file the Dockerfile leaves out
fails here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pipelines.supervisor import port_accepts
from tests.support.databases import fresh_database
from tests.support.deploy_files import (
    HELM_VALUES,
    PROJECT_ROOT,
    build_context_copies,
    container,
    kubernetes_objects,
    uv_sync_arguments,
    yaml_file,
)
from tests.support.installations import PRODUCTION
from tests.support.orders import JSON, order_body
from tests.support.server import free_port

START_TIMEOUT_S = 120.0
BOOTSTRAP_KEY = "image-test-bootstrap-key-0123456789abcdef"


def uv() -> str:
    """The uv `make venv` uses: on PATH, or the pinned one it installs into .tools/."""
    found = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: run `make venv` first"
    return found


def install_like_the_image(app: Path) -> Path:
    """Copy the build context's COPY sources to `app` and run the image's `uv sync` there."""
    app.mkdir()
    for source in build_context_copies():
        origin = PROJECT_ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, app / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, app / source)
    environment = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(app / ".venv"),
        "UV_PYTHON": sys._base_executable,
        "UV_PYTHON_DOWNLOADS": "never",
    }
    environment.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [uv(), "sync", *uv_sync_arguments()],
        cwd=app,
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return app / ".venv" / "bin"


def container_environment(
    config: dict[str, str], binaries: Path, home: Path, database_url: str
) -> dict[str, str]:
    """What a pod of deploy/ gets: the ConfigMap, the Secret's names with test values, the
    image's PATH and ENGAGE_HOME; the lake in a folder instead of the bucket."""
    return {
        **config,
        "PATH": f"{binaries}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "ENGAGE_HOME": str(home),
        "ENGAGE_LAKE_URI": str(home / "lake"),
        "ENGAGE_DATABASE_URL": database_url,
        "ENGAGE_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY,
        "ENGAGE_GDPR_HASH_KEY": "image-test-gdpr-hash-key",
    }


@contextmanager
def started(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)


def wait_for(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not check():
        assert time.monotonic() < deadline, f"{what} did not start: {log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """Production's database when the suite has a PostgreSQL server: one install is enough."""
    with fresh_database(PRODUCTION.database, tmp_path) as url:
        yield url


def test_the_image_migrates_serves_the_intake_and_the_code_location(
    tmp_path: Path, database_url: str
) -> None:
    binaries = install_like_the_image(tmp_path / "app")
    app = tmp_path / "app"
    home = tmp_path / "home"
    home.mkdir()
    objects = kubernetes_objects()
    config = objects[("ConfigMap", "engage-config")]["data"]
    env = container_environment(config, binaries, home, database_url)

    # The migration Job.
    migrate = container(objects[("Job", "engage-migrate")])["command"]
    migrated = subprocess.run(migrate, cwd=app, env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("Operational database migrated from an empty database")

    # The intake Deployment's command, on a free port of this machine instead of 0.0.0.0:8000.
    intake = container(objects[("Deployment", "engage-intake")])
    port = free_port()
    command = [
        {"0.0.0.0": "127.0.0.1", "8000": str(port)}.get(word, word) for word in intake["command"]
    ]
    log = tmp_path / "intake.log"
    with started(command, app, env, log):
        wait_for(lambda: port_accepts("127.0.0.1", port), "the intake", log)
        base = f"http://127.0.0.1:{port}"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            path = intake[probe]["httpGet"]["path"]
            assert httpx.get(f"{base}{path}").status_code == 200, path
        answer = httpx.post(
            f"{base}/api/v3/orders",
            content=json.dumps(order_body("IMAGE-1")),
            headers={"apikey": BOOTSTRAP_KEY, **JSON},
        )
        assert answer.status_code == 202, answer.text

    # The code location, as the Helm chart starts it (`dagster api grpc -h 0.0.0.0 -p 3030`).
    [location] = yaml_file(HELM_VALUES)["dagster-user-deployments"]["deployments"]
    port = free_port()
    grpc = ["dagster", "api", "grpc", "-h", "127.0.0.1", "-p", str(port)]
    log = tmp_path / "code-location.log"
    with started([*grpc, *location["dagsterApiGrpcArgs"]], app, env, log):
        health = ["dagster", "api", "grpc-health-check", "-p", str(port)]
        wait_for(
            lambda: subprocess.run(health, cwd=app, env=env, capture_output=True).returncode == 0,
            "the code location",
            log,
        )
    assert "Error" not in log.read_text()
