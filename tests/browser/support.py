"""The product as a user runs it (`engage-orders run`, then `engage-orders demo`), and Debian's
Chromium driven by Playwright to look at what it serves.

Chromium is Debian's `chromium` package (`make test` installs it; the CHROMIUM variable names
another binary), driven through the driver that ships in Playwright's wheel: nothing downloads a
browser. The flags keep Chromium from calling home, which a machine without internet access
answers with refused connections.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.support.processes import descendants, is_running, own_installation_env
from tests.support.server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "docs" / "img"
"""Where the docs' screenshots live: a passing run refreshes them."""

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root on CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}

STARTUP_TIMEOUT_S = 180
"""The Dagster webserver alone can take a minute to start on a slow machine."""
DEMO_TIMEOUT_S = 300
STOP_TIMEOUT_S = 60


@dataclass
class RunningProduct:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    api_url: str
    ui_url: str
    log_path: Path
    seen_pids: set[int] = field(default_factory=set)

    def log(self, tail: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@contextlib.contextmanager
def running_product(tmp_path: Path) -> Iterator[RunningProduct]:
    """`engage-orders run` on free ports, as from a terminal; stopped with Ctrl-C at the end."""
    env = own_installation_env(tmp_path)
    for attempt in range(1, 4):
        product = _start(tmp_path, env)
        try:
            ready = _wait_until_ready(product)
        except BaseException:  # pytest's failure too: leave nothing running
            _stop(product)
            raise
        if ready:
            break
        # Another process took a port between our pick and `run`'s own check: pick again.
        _stop(product)
        if attempt == 3:
            pytest.fail(f"`engage-orders run` found its ports taken three times:\n{product.log()}")
    try:
        yield product
    finally:
        _stop(product)


def _start(tmp_path: Path, env: dict[str, str]) -> RunningProduct:
    api_port, ui_port = free_port(), free_port()
    log_path = tmp_path / f"run-{api_port}.log"
    command = [
        *(_script("engage-orders"), "run"),
        *("--api-port", str(api_port), "--ui-port", str(ui_port)),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningProduct(
        process, env, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}", log_path
    )


def _wait_until_ready(product: RunningProduct) -> bool:
    """True once the intake is ready and the Dagster webserver answers; False if `run` refused
    its ports; fails the test on any other early exit or when it takes too long."""
    pending = [f"{product.api_url}/readyz", f"{product.ui_url}/server_info"]
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while pending and time.monotonic() < deadline:
        if product.process.poll() is not None:
            if "already in use" in product.log():
                return False
            pytest.fail(f"`engage-orders run` exited early:\n{product.log()}")
        try:
            if httpx.get(pending[0], timeout=5).status_code == 200:
                pending.pop(0)
                continue
        except httpx.TransportError:
            pass
        product.seen_pids.update(descendants(product.process.pid))
        time.sleep(0.5)  # polling a server that is starting, not waiting for a page
    if pending:
        pytest.fail(
            f"{pending[0]} did not answer within {STARTUP_TIMEOUT_S} s "
            f"of `engage-orders run`:\n{product.log()}"
        )
    product.seen_pids.update(descendants(product.process.pid))
    return True


def _stop(product: RunningProduct) -> None:
    """Ctrl-C, as a user stops it; whatever is left after STOP_TIMEOUT_S is killed."""
    product.seen_pids.update(descendants(product.process.pid))
    if product.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(product.process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            product.process.wait(timeout=STOP_TIMEOUT_S)
    for pid in {product.process.pid, *product.seen_pids}:
        if is_running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    product.process.wait(timeout=10)


def run_demo(product: RunningProduct, *options: str) -> subprocess.CompletedProcess[str]:
    """`engage-orders demo OPTIONS` against the running intake, on the product's installation."""
    finished = subprocess.run(
        [
            _script("engage-orders"),
            "demo",
            f"--api-url={product.api_url}",
            f"--ui-url={product.ui_url}",
            *options,
        ],
        cwd=PROJECT_ROOT,
        env=product.env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert finished.returncode == 0, (
        f"`engage-orders demo` failed ({finished.returncode}):\n{finished.stderr[-4000:]}\n"
        f"--- engage-orders run:\n{product.log()}"
    )
    assert f"Dagster UI    {product.ui_url}" in finished.stdout, finished.stdout
    return finished


@contextlib.contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """A page of headless Debian Chromium with a fresh, empty profile, 1440x900."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium package")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
            locale="en-US",
            timezone_id="UTC",
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


class Screen:
    """Checks of what a page shows, waiting for it (never sleeping): a failure names what is
    missing and keeps a screenshot of the page as it was."""

    def __init__(self, page: Page, failures: Path, product: RunningProduct) -> None:
        self.page = page
        self.failures = failures
        self.product = product

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Fail naming `what` if a check or an action inside does not succeed in time."""
        try:
            yield
        except (AssertionError, PlaywrightError) as error:
            self.failures.mkdir(parents=True, exist_ok=True)
            shot = self.failures / f"failure-{time.monotonic_ns()}.png"
            with contextlib.suppress(PlaywrightError):
                self.page.screenshot(path=str(shot), full_page=True)
            message = (
                f"{what}: not rendered on {self.page.url}\nscreenshot: {shot}\n{error}\n"
                f"--- engage-orders run (end of its log):\n{self.product.log(3000)}"
            )
            raise pytest.fail.Exception(message, pytrace=False) from None

    def shows(self, locator: Locator, what: str, timeout_s: float = 60) -> None:
        with self.step(what):
            expect(locator).to_be_visible(timeout=timeout_s * 1000)

    def save(self, name: str) -> Path:
        """A screenshot of the viewport into docs/img/, for the docs."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover highlight or tooltip in the picture
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path))
        return path
