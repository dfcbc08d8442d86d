"""Running a guide's shell blocks as a reader would: in order, in one terminal.

A guide marks the blocks a reader runs as fenced ```sh blocks; examples that depend on the
reader's installation (creating an API key on the server, setting `API`) are ```bash blocks and
are not run: the test provides what they set. Every ```sh block is sourced in one bash process,
so the variables and functions one block sets are there for the next, as in a terminal.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.examples import EXAMPLES_DIR
from tests.docs.markdown import Block


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.fail(f"the guides' shell blocks need {', '.join(missing)} on PATH")


def reader_folder(parent: Path) -> Path:
    """A working folder for the shell, as a checkout looks to a reader: `schemas/examples` holds
    the example bodies. Files the blocks write stay here, out of the repository."""
    folder = parent / "reader"
    (folder / "schemas").mkdir(parents=True)
    (folder / "schemas" / "examples").symlink_to(EXAMPLES_DIR)
    return folder


@dataclass(frozen=True)
class Ran:
    status: int
    output: str
    seconds: float


class ShellSession:
    """One bash process; `run` sources a block in it and returns what it printed."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        self.cwd = cwd
        self._count = 0
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, code: str, timeout_s: float = 120) -> Ran:
        """Source `code` (with stdin from /dev/null, so that nothing in it reads the session's
        script), and collect its output up to a marker line."""
        self._count += 1
        script = self.cwd / f".block-{self._count}.sh"
        script.write_text(code)
        marker = f"__block_{self._count}_done__"
        self._send(f'source {script} < /dev/null; printf "\\n{marker} %s\\n" "$?"\n')
        started = time.monotonic()
        output: list[str] = []
        while True:
            remaining = started + timeout_s - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                self.close()
                pytest.fail(
                    f"shell block timed out after {timeout_s} s:\n{code}\n{''.join(output)}"
                )
            if line is None:
                pytest.fail(f"the shell ended during the block:\n{code}\n{''.join(output)}")
            if line.startswith(marker):
                status = int(line.split()[1])
                text = "".join(output).rstrip("\n")  # with the newline before the marker
                return Ran(status, text, time.monotonic() - started)
            output.append(line)

    def value(self, name: str) -> str:
        """The shell variable `name`, as a later block would see it."""
        return self.run(f'printf "%s" "${name}"').output

    def _send(self, text: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(text)
        self._process.stdin.flush()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=10)


Check = Callable[[Ran, Any], None]
"""What a guide says a block prints, checked on its output (and the walk's state)."""


def run_in_order(
    blocks: Sequence[Block],
    steps: Sequence[tuple[str, Check]],
    shell: ShellSession,
    walk: Any,
    between: Callable[[], None],
) -> None:
    """Run each block in `shell` and check it with its step; `between` runs after each block (the
    pipeline, which a running installation runs by itself). A step names a snippet of its block's
    code, so that an edited or reordered guide fails at the block that changed."""
    assert len(blocks) == len(steps), [block.line for block in blocks]
    for block, (snippet, check) in zip(blocks, steps, strict=True):
        assert snippet in block.code, f"line {block.line}: expected {snippet!r} in the block"
        ran = shell.run(block.code)
        assert ran.status == 0, f"line {block.line}:\n{ran.output}"
        check(ran, walk)
        between()


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as `curl -si` prints it."""

    status: int
    headers: dict[str, str]
    body: str


def answers(output: str) -> list[Answer]:
    """Every `curl -si` answer in `output`, in order: status line, headers, blank line, body
    (the JSON on the line after the headers)."""
    found = []
    lines = output.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        match = re.match(r"^HTTP/[\d.]+ (\d{3})", line)
        if not match:
            continue
        headers: dict[str, str] = {}
        cursor = index + 1
        while cursor < len(lines) and lines[cursor].strip():
            name, _, value = lines[cursor].partition(":")
            headers[name.strip().lower()] = value.strip()
            cursor += 1
        body = lines[cursor + 1] if cursor + 1 < len(lines) else ""
        found.append(Answer(int(match.group(1)), headers, body))
    return found


def api_client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{base_url}/api/v3", headers={"apikey": key}, timeout=30)
