"""The `engage-orders run` supervisor with stand-in children: fast, no Dagster involved."""

from __future__ import annotations

import io
import os
import re
import sys
import time

from pipelines.supervisor import ChildSpec, Supervisor
from tests.support.processes import descendants, is_running

EXITS_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEPS = [
    sys.executable,
    "-c",
    "import os, time; print('pid', os.getpid(), flush=True); time.sleep(60)",
]
LEAVES_A_GRANDCHILD = [
    sys.executable,
    "-c",
    "import subprocess, sys, time; "
    "grandchild = subprocess.Popen(['sleep', '60']); "
    "print('pid', grandchild.pid, flush=True); time.sleep(60)",
]


def wait_for_pids(output: io.BytesIO, count: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = [int(pid) for pid in re.findall(rb"\| pid (\d+)", output.getvalue())]
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(output.getvalue().decode())


def test_a_dying_child_stops_the_others_and_fails() -> None:
    output = io.BytesIO()
    specs = [
        ChildSpec("sleeper", SLEEPS),
        ChildSpec("parent", LEAVES_A_GRANDCHILD),
        # Started last, after the others had time to print their pids.
        ChildSpec(
            "crasher", [sys.executable, "-c", "import sys, time; time.sleep(1.5); sys.exit(3)"]
        ),
    ]

    exit_code = Supervisor(specs, dict(os.environ), stop_timeout=5, output=output).run()

    assert exit_code == 1
    text = output.getvalue().decode()
    assert "crasher exited unexpectedly (code 3)" in text
    sleeper, grandchild = wait_for_pids(output, 2)
    assert not is_running(sleeper)
    assert not is_running(grandchild), "a grandchild left in the group must be swept"


def test_output_is_prefixed_with_the_child_name() -> None:
    output = io.BytesIO()
    specs = [ChildSpec("talker", [sys.executable, "-c", "print('hello'); print('bye', end='')"])]

    assert Supervisor(specs, dict(os.environ), output=output).run() == 1

    lines = output.getvalue().decode().splitlines()
    assert "talker | hello" in lines
    assert "talker | bye" in lines


def test_a_command_that_cannot_start_fails_cleanly() -> None:
    output = io.BytesIO()
    specs = [ChildSpec("sleeper", SLEEPS), ChildSpec("missing", ["/nonexistent/command"])]
    # Servers this test process started for earlier tests (storage emulators) keep running.
    before = set(descendants(os.getpid()))

    assert Supervisor(specs, dict(os.environ), output=output).run() == 1

    assert b"could not start" in output.getvalue()
    left = [pid for pid in descendants(os.getpid()) if pid not in before and is_running(pid)]
    assert left == []
