"""`engage-orders serve` in a process of its own, which a test can kill and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipelines.supervisor import port_accepts
from storage.settings import EngageSettings
from tests.support.server import free_port

COMMAND = Path(sys.executable).with_name("engage-orders")
START_TIMEOUT_S = 60.0


class ServedIntake:
    """The intake as operators run it, on one port across restarts, logging to `log_path`."""

    def __init__(
        self, settings: EngageSettings, log_path: Path, workers: int = 1, **env: str
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.pid: int | None = None
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.kills = 0
        self.up = threading.Event()
        """Set while the intake accepts connections: clients wait on it across restarts."""
        self._log_path = log_path
        self._env = {
            **os.environ,
            "ENGAGE_HOME": str(settings.resolved_home),
            "ENGAGE_LAKE_URI": settings.resolved_lake_uri,
            "ENGAGE_DATABASE_URL": settings.resolved_database_url,
            "ENGAGE_RATE_LIMIT_PER_S": str(settings.rate_limit_per_s),
            "ENGAGE_RATE_LIMIT_BURST": str(settings.rate_limit_burst),
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the intake and wait until it accepts connections."""
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(COMMAND), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self._process.pid
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_accepts("127.0.0.1", self.port) and self._workers_started()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the intake did not start; see {self._log_path}")
            time.sleep(0.05)
        self.up.set()

    def _workers_started(self) -> bool:
        """With several workers the parent accepts connections before they serve: wait for all
        of them, or the first would take every early connection."""
        if self.workers == 1:
            return True
        started = self._log_path.read_text(errors="replace").count("Application startup complete")
        return started >= self.workers * (self.kills + 1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, whatever the intake was doing."""
        assert self._process is not None
        self.up.clear()
        self._process.send_signal(signal.SIGKILL)
        self._process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
