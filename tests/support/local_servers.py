"""Third-party servers the tests start as processes of their own (storage emulators)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.supervisor import port_accepts
from tests.support.server import free_port

START_TIMEOUT_S = 60.0


@contextmanager
def local_server(name: str, command: Callable[[int], list[str]], cwd: Path) -> Iterator[str]:
    """Start `command(port)` on a free port of 127.0.0.1, wait until it accepts connections,
    yield its URL, and stop it afterwards."""
    port = free_port()
    server = subprocess.Popen(
        command(port), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_accepts("127.0.0.1", port):
            assert server.poll() is None, f"{name} exited at start"
            assert time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
