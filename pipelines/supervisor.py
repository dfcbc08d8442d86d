"""A tiny process supervisor for `engage-orders run` (stdlib only).

`engage-orders run` has to behave like one program: one Ctrl-C stops the intake, the Dagster
webserver and the daemon, nothing is left behind, and if one of them dies the others are stopped too
instead of leaving a half-working set-up that looks alive.

Each child gets a process group of its own. Ctrl-C in a terminal then reaches only the supervisor,
which stops every child exactly once and in a controlled way (a second signal to uvicorn would skip
its graceful shutdown), and grandchildren such as Dagster's code servers and run workers can be
found through the group and cleaned up if their parent leaves them behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import BinaryIO

POLL_SECONDS = 0.2
STOP_TIMEOUT_SECONDS = 20.0
"""How long a child may take to shut down gracefully before it is killed."""
STRAGGLER_TIMEOUT_SECONDS = 3.0
"""How long grandchildren left in a child's process group get after SIGTERM before SIGKILL."""
PROC = "/proc"


@dataclass(frozen=True)
class ChildSpec:
    """One long-running child: its name (prefixes its output) and command line."""

    name: str
    argv: Sequence[str]
    port: int | None = None
    """A TCP port on 127.0.0.1 that accepts connections once the child is ready."""


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    reader: threading.Thread


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on the port yet; checked up front for a clear error message."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class Supervisor:
    """Start children, forward their output, and stop them all together."""

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        env: Mapping[str, str],
        *,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
        output: BinaryIO | None = None,
    ) -> None:
        self._specs = list(specs)
        self._env = dict(env)
        self._stop_timeout = stop_timeout
        self._output = output or sys.stdout.buffer
        self._output_lock = threading.Lock()
        self._prefix_width = max(len(spec.name) for spec in self._specs)
        self._children: list[_Child] = []
        self._stop_requested = threading.Event()
        self._signals_received = 0

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        """Supervise until a signal (exit 0) or until a child dies (exit 1).

        `on_ready` is called once, when every child with a port accepts connections.
        """
        previous = self._install_signal_handlers()
        try:
            try:
                self._start_all()
            except OSError as error:
                self.say(f"could not start: {error}")
                return 1
            return self._watch(on_ready)
        finally:
            self._stop_all()
            self._restore_signal_handlers(previous)

    def say(self, message: str) -> None:
        """A line of the supervisor's own, in the same stream as the children's output."""
        self._write(f"{'run':<{self._prefix_width}} | {message}\n".encode())

    def _watch(self, on_ready: Callable[[], None] | None) -> int:
        announced = on_ready is None
        while not self._stop_requested.wait(POLL_SECONDS):
            dead = self._first_dead_child()
            if dead is not None:
                self.say(
                    f"{dead.spec.name} exited unexpectedly (code {dead.process.returncode}); "
                    "stopping the others"
                )
                return 1
            if not announced and self._all_ports_accept():
                announced = True
                assert on_ready is not None
                on_ready()
        self.say("stopping (press Ctrl-C again to kill)")
        return 0

    def _start_all(self) -> None:
        for spec in self._specs:
            self._children.append(self._start(spec))

    def _start(self, spec: ChildSpec) -> _Child:
        # The command lines are built by the CLI from fixed script names, never from input.
        process = subprocess.Popen(  # noqa: S603
            list(spec.argv),
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        reader = threading.Thread(
            target=self._forward, args=(spec.name, process), name=f"output-{spec.name}", daemon=True
        )
        reader.start()
        return _Child(spec, process, reader)

    def _forward(self, name: str, process: subprocess.Popen[bytes]) -> None:
        """Copy a child's output line by line with its name in front, like foreman does."""
        assert process.stdout is not None
        prefix = f"{name:<{self._prefix_width}} | ".encode()
        for line in iter(process.stdout.readline, b""):
            self._write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
        process.stdout.close()

    def _write(self, data: bytes) -> None:
        with self._output_lock, contextlib.suppress(OSError, ValueError):
            self._output.write(data)
            self._output.flush()

    def _first_dead_child(self) -> _Child | None:
        return next((child for child in self._children if child.process.poll() is not None), None)

    def _all_ports_accept(self) -> bool:
        return all(
            port_accepts("127.0.0.1", child.spec.port)
            for child in self._children
            if child.spec.port is not None
        )

    def _stop_all(self) -> None:
        """SIGTERM every child, wait, then kill what is left, including stray grandchildren."""
        for child in self._children:
            _signal_process(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for child in self._children:
            self._wait_or_kill(child, deadline)
        for child in self._children:
            _sweep_group(child.process.pid)
        for child in self._children:
            child.reader.join(timeout=1.0)

    def _wait_or_kill(self, child: _Child, deadline: float) -> None:
        while child.process.poll() is None:
            if time.monotonic() >= deadline or self._signals_received > 1:
                self.say(f"{child.spec.name} did not stop in time; killing it")
                _signal_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
                return
            time.sleep(0.05)

    def _install_signal_handlers(self) -> dict[int, object]:
        previous: dict[int, object] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: Mapping[int, object]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        # Only set flags here: the main loop does the work outside the handler.
        self._signals_received += 1
        self._stop_requested.set()


def _signal_process(process: subprocess.Popen[bytes], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def _signal_group(pgid: int, signum: int) -> bool:
    """Signal a whole process group; False when the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_group(pgid: int) -> None:
    """Stop processes a child left behind in its group (e.g. a code server), gently first."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + STRAGGLER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _group_has_live_members(pgid):
            return
        time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)


def _group_has_live_members(pgid: int) -> bool:
    """Whether the group still has a process that is not a zombie.

    Orphaned zombies stay in the group until init reaps them, which not every container init does,
    so `killpg(pgid, 0)` alone would wait for nothing. Without /proc, fall back to that.
    """
    if not os.path.isdir(PROC):
        return _signal_group(pgid, 0)
    members = (_state_and_group(entry) for entry in os.listdir(PROC) if entry.isdigit())
    return any(member is not None and member[1] == pgid and member[0] != "Z" for member in members)


def _state_and_group(pid: str) -> tuple[str, int] | None:
    """State letter and process group of a process; None if it has gone meanwhile."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; fields after it do not.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0], int(fields[2])
