"""Load generation for the HTTP figures: servers in processes of their own, autocannon, and a
paced asyncio client.

Why each piece is the way it is:

- Servers under test run in a separate process (`served`), never in the benchmark's own, so the
  load generator and the server do not share a GIL; on this 2-core machine that is one core each.
- `autocannon` drives autocannon 8.0.0 (installed by `make bench-setup`) through its Node API
  rather than its command line. Its `--idReplacement` is broken in 8.0.0: the Content-Length is
  computed for a 27-character id but the ids it writes are 24-28 characters long, so a request
  with a short id never completes (the server waits for bytes that never come; upstream
  mcollina/autocannon#539, fixed by #540 after 8.0.0). A small Node script (`_AUTOCANNON_JS`)
  instead replaces the `[<id>]` placeholder itself in `setupRequest`, where autocannon then
  computes the right length; the same hook lets a run cycle through a list of paths (random
  existing orders for `get_order`), which the command line cannot do.
- `paced` is an open-model client: request i is due at `start + i / rate` whatever happened to
  earlier ones, and its latency is counted from when it was due, so a stalled server shows up as
  latency instead of silently lowering the offered load (coordinated omission). It returns every
  response, which figures such as `freshness` need (the job id of each 202, and when it came).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ingest_api.app import prepare_storage
from storage.apikeys import Scope, create_api_key
from storage.db import engine_for, session_scope
from storage.settings import EngageSettings

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AUTOCANNON_MODULE = PROJECT_ROOT / "bench" / "node_modules" / "autocannon"
STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
MAX_IDLE_S = 2.0
"""Idle keep-alive connections older than this are not reused (uvicorn closes them at 5 s)."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in 0..1) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# The product, set up in a scratch folder as an operator would.


def product_settings(work_dir: Path) -> EngageSettings:
    """Settings of a fresh embedded installation in `work_dir` (explicit, not from ENGAGE_*)."""
    home = work_dir / "engage"
    return EngageSettings(
        home=home, database_url=f"sqlite:///{home / 'engage.db'}", lake_uri=str(home / "lake")
    )


def product_env(settings: EngageSettings) -> dict[str, str]:
    """The environment that makes `engage-orders` use `settings`' storage."""
    return {
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
        "ENGAGE_LAKE_URI": settings.resolved_lake_uri,
        "DAGSTER_HOME": str(settings.resolved_home / "dagster"),
        # One key sends hundreds of requests a second here: the per-key limit would be the
        # figure. An integrator with such traffic gets a limit to match.
        "ENGAGE_RATE_LIMIT_PER_S": "0",
    }


def new_api_key(settings: EngageSettings, *scopes: Scope) -> str:
    """Migrate the database and create a key, as an operator would with `apikey create`."""
    prepare_storage(settings)
    with session_scope(settings.resolved_database_url) as session:
        _, key = create_api_key(session, "bench", frozenset(scope.value for scope in scopes))
    # This process only set up the database; it must not keep it open while the server runs.
    engine_for(settings.resolved_database_url).dispose()
    return key


def floor_server_command(factory: str, port: int) -> list[str]:
    """uvicorn serving a floor app (`module:create_app` factory) with this interpreter, so the
    floor runs in the same environment as the benchmark, without access log."""
    return [
        sys.executable,
        *("-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)),
        *("--no-access-log", "--log-level", "warning"),
    ]


def console_script(name: str) -> str:
    """A console script installed beside this interpreter (e.g. `engage-orders`)."""
    return str(Path(sys.executable).with_name(name))


@contextlib.contextmanager
def served(
    argv: Sequence[str],
    *,
    port: int,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/",
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until the block ends; yield once `GET ready_path` gets any answer.

    Its output goes to `log_path` (a pipe nobody reads would fill up and stall the server). It
    runs in a session of its own, and is stopped with SIGTERM (what `engage-orders run` expects to
    stop its children gracefully), then SIGKILL if it does not exit in time.
    """
    merged_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            list(argv),
            cwd=PROJECT_ROOT,
            env=merged_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_answering(process, f"http://127.0.0.1:{port}{ready_path}", startup_timeout_s)
        yield process
    except BaseException:
        _stop(process)
        tail = log_path.read_text(errors="replace")[-3000:]
        print(f"[bench] server {argv[0]} output (tail):\n{tail}", flush=True)
        raise
    else:
        _stop(process)


@contextlib.contextmanager
def served_intake(settings: EngageSettings, log_path: Path) -> Iterator[int]:
    """`engage-orders serve` on `settings`' storage until the block ends; yields its port."""
    port = free_port()
    command = [console_script("engage-orders"), "serve", "--port", str(port)]
    with served(command, port=port, log_path=log_path, env=product_env(settings)):
        yield port


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout_s:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The Node side of `autocannon`: reads its settings from the JSON file named by its last argument
# and prints autocannon's result object (what `autocannon --json` prints) on stdout.
_AUTOCANNON_JS = r"""
const fs = require('fs')
const autocannon = require(process.env.AUTOCANNON_MODULE)
const cfg = JSON.parse(fs.readFileSync(process.argv[process.argv.length - 1], 'utf8'))
const paths = cfg.paths
const template = cfg.body
const parts = template === null ? null : template.split('[<id>]')
let counter = 0
let next = 0
const request = {
  method: cfg.method,
  headers: cfg.headers,
  setupRequest: (req) => {
    if (paths) req.path = paths[next++ % paths.length]
    if (parts !== null && parts.length > 1) req.body = parts.join(cfg.idPrefix + (counter++))
    return req
  }
}
if (template !== null) request.body = template
const options = {
  url: cfg.url,
  connections: cfg.connections,
  duration: cfg.duration,
  timeout: cfg.timeout,
  requests: [request]
}
if (cfg.overallRate) options.overallRate = cfg.overallRate
// autocannon's own histogram keeps whole milliseconds (truncated); sub-millisecond answers need
// the response times themselves, so they are kept here (2xx only, like its histogram).
const times = []
const instance = autocannon(options, (error, result) => {
  if (error) { console.error(error); process.exit(1) }
  times.sort((a, b) => a - b)
  const rank = (q) => times.length ? times[Math.max(1, Math.ceil(q * times.length)) - 1] : null
  result.exactLatency = { count: times.length, p50: rank(0.5), p99: rank(0.99), max: rank(1) }
  process.stdout.write(JSON.stringify(result))
})
instance.on('response', (client, status, bytes, ms) => {
  if (status >= 200 && status < 300) times.push(ms)
})
"""


@dataclass(frozen=True)
class AutocannonResult:
    """What a figure needs from one autocannon run (latencies of 2xx answers, in ms)."""

    requests_per_s: float
    """Average of autocannon's per-second samples of completed responses."""
    total: int
    ok_2xx: int
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    timeouts: int
    raw: dict[str, Any]


def autocannon(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    connections: int = 64,
    duration_s: float = 10,
    rate: float | None = None,
    paths: Sequence[str] | None = None,
    id_prefix: str = "",
    timeout_s: float = 10,
) -> AutocannonResult:
    """Run autocannon against `url` and return its figures.

    `body` may hold `[<id>]` placeholders: each request gets them replaced by `id_prefix` and a
    counter shared by all connections of the run, so ids are unique within a run and `id_prefix`
    keeps runs apart.
    `rate` makes it a constant-rate run (autocannon's `overallRate`, latencies corrected for
    coordinated omission). `paths` replaces the URL's path request by request, cycling.
    """
    config = {
        "url": url,
        "method": method,
        "body": body,
        "headers": dict(headers or {}),
        "connections": connections,
        "duration": duration_s,
        "timeout": timeout_s,
        "overallRate": rate,
        "paths": list(paths) if paths is not None else None,
        "idPrefix": id_prefix,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
        config_path = handle.name
    try:
        completed = subprocess.run(
            ["node", "-e", _AUTOCANNON_JS, "--", config_path],
            env={**os.environ, "AUTOCANNON_MODULE": str(AUTOCANNON_MODULE)},
            capture_output=True,
            text=True,
            check=False,
            timeout=duration_s + 120,
        )
    finally:
        os.unlink(config_path)
    if completed.returncode != 0:
        raise RuntimeError(
            f"autocannon failed ({completed.returncode}): {completed.stderr[-2000:]}"
        )
    raw: dict[str, Any] = json.loads(completed.stdout)
    return AutocannonResult(
        requests_per_s=float(raw["requests"]["average"]),
        total=int(raw["requests"]["total"]),
        ok_2xx=int(raw["2xx"]),
        p50_ms=_ms(raw["exactLatency"]["p50"]),
        p99_ms=_ms(raw["exactLatency"]["p99"]),
        non_2xx=int(raw["non2xx"]),
        errors=int(raw["errors"]),
        timeouts=int(raw["timeouts"]),
        raw=raw,
    )


def _ms(value: float | None) -> float:
    return math.nan if value is None else round(float(value), 3)


@dataclass
class Sample:
    """One request of a paced run; times are `time.perf_counter()` seconds."""

    index: int
    due: float
    done: float
    status: int
    """HTTP status, or 0 when the request failed without an answer."""
    body: bytes
    error: str | None = None

    @property
    def latency_s(self) -> float:
        """From when the request was due (not when it was sent) to its answer."""
        return self.done - self.due


class HttpPool:
    """Keep-alive HTTP/1.1 connections to one loopback server, for the paced client.

    Not httpx: measured on this machine against the `get_order` floor at 200 req/s, an
    `httpx.AsyncClient` added ~1.5 ms to the median answer and stalls of 80-150 ms to the tail,
    which would be charged to the server under test. This client does only what the figures need
    (one host, a Content-Length or chunked answer) in a few hundred microseconds.
    """

    def __init__(
        self,
        port: int,
        *,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 16,
        timeout_s: float = 30,
    ) -> None:
        self.port = port
        self.timeout_s = timeout_s
        fixed = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        """Idle connections with the time each was last used; the most recent is reused first."""

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of one exchange; raises OSError, TimeoutError or ValueError."""
        async with self._slots:
            reader, writer = await self._connection()
            try:
                status, content, keep = await asyncio.wait_for(
                    self._exchange(reader, writer, method, path, body), self.timeout_s
                )
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer, time.monotonic()))
            else:
                writer.close()
            return status, content

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # A connection idle for a while may be being closed by the server right now (uvicorn
        # drops idle keep-alive connections after 5 s): reusing it would fail the request.
        while self._idle:
            reader, writer, last_used = self._idle.pop()
            if time.monotonic() - last_used < MAX_IDLE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        body: bytes | None,
    ) -> tuple[int, bytes, bool]:
        length = "" if body is None else f"Content-Length: {len(body)}\r\n"
        writer.write(
            f"{method} {path} HTTP/1.1\r\n{self._head}{length}\r\n".encode() + (body or b"")
        )
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            raise ConnectionResetError("connection closed before the answer") from error
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                fields[name.strip().lower()] = value.strip()
        keep = fields.get("connection", "").lower() != "close"
        if "content-length" in fields:
            content = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            content = await _read_chunked(reader)
        else:
            content, keep = await reader.read(), False
        return status, content, keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def answer_kind(sample: Sample) -> str:
    """How to count an unexpected answer: its status and problem code, or the client error."""
    if sample.status == 0:
        return (sample.error or "error").split("(", 1)[0]
    try:
        code = json.loads(sample.body).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"{sample.status} {code}" if code else str(sample.status)


def describe(counts: Mapping[str, int]) -> str:
    """`{"503 LandingFailed": 12}` as "503 LandingFailed x12" (empty when there are none)."""
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))


RequestFor = Callable[[int], tuple[str, str, bytes | None]]
"""Request i as (method, path, body)."""


async def paced(
    pool: HttpPool,
    request_for: RequestFor,
    *,
    rate: float,
    count: int,
    on_sample: Callable[[Sample], Awaitable[None] | None] | None = None,
) -> list[Sample]:
    """Send `count` requests at `rate` per second (open model) and return them in index order.

    Requests are started on schedule even while earlier ones are outstanding (up to the pool's
    connection limit; beyond it they queue, and the wait counts as latency).
    """
    samples: list[Sample | None] = [None] * count
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()

    async def one(index: int, due: float) -> None:
        method, path, content = request_for(index)
        try:
            status, body = await pool.request(method, path, content)
            sample = Sample(index, due, time.perf_counter(), status, body)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            sample = Sample(index, due, time.perf_counter(), 0, b"", repr(error))
        samples[index] = sample
        if on_sample is not None:
            outcome = on_sample(sample)
            if outcome is not None:
                await outcome

    sent = 0
    while sent < count:
        now = time.perf_counter()
        due = start + sent / rate
        if due > now:
            await asyncio.sleep(due - now)
            continue
        # Start everything that is due (the event loop may have woken late).
        while sent < count and start + sent / rate <= now:
            task = asyncio.create_task(one(sent, start + sent / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
    if tasks:
        await asyncio.gather(*tasks)
    return [sample for sample in samples if sample is not None]


def run_async(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on uvloop when it is installed (less client overhead per request)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(_call(coroutine_factory))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_call(coroutine_factory))


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
