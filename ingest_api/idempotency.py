"""`Idempotency-Key` on the POSTs that land data (storage/idempotency.py says what it promises).

An ASGI middleware rather than a dependency: it has to see the whole request body (to tell a
retry from a different request) and the whole answer (to replay it), and to stay out of the way
of requests without the header, which cost one header lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.body import too_large
from ingest_api.errors import ProblemError, send_problem
from schemas.problems import FieldError
from storage.apikeys import hash_key
from storage.db import session_scope
from storage.idempotency import Claim, ClaimResult, claim, complete, purge_expired, release

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
LANDING_POSTS = re.compile(
    r"^/api/v3/(orders(/[^/]+/(change-status|change-delivery|action))?"
    r"|receipts|articles(/import)?|stores)$"
)
"""The POSTs whose 202 answer holds only a job id and its link: safe to keep for a day."""
PURGE_INTERVAL_S = 3600.0
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
"""1 to 255 visible ASCII characters (a UUID fits)."""


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, database_url: str, max_body_bytes: int) -> None:
        self.app = app
        self.database_url = database_url
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        api_key = headers.get("apikey") or headers.get("x-api-key")
        if key is None or not api_key or not LANDING_POSTS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if not VALID_KEY.match(key):
            await send_problem(
                _problem(400, "Bad Request", "InvalidIdempotencyKey", _INVALID),
                scope,
                receive,
                send,
            )
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await send_problem(too_large(self.max_body_bytes), scope, receive, send)
            return
        await self._answer_once(scope, receive, send, (hash_key(api_key), key), body)

    async def _answer_once(
        self, scope: Scope, receive: Receive, send: Send, keys: tuple[str, str], body: bytes
    ) -> None:
        digest, key = keys
        request_hash = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        receive = _replaying(body, receive=receive)
        try:
            taken = await run_in_threadpool(self._claim, digest, key, request_hash)
        except OperationalError:
            log.error("idempotency key lookup failed: the operational database is unavailable")
            down = _problem(503, "Service Unavailable", "DatabaseUnavailable", _DOWN, 10)
            await send_problem(down, scope, receive, send)
            return
        if taken.result is ClaimResult.REPLAY:
            await _replay(taken, scope, receive, send)
        elif taken.result is ClaimResult.MISMATCH:
            reused = _problem(422, "Unprocessable Content", "IdempotencyKeyReused", _REUSED)
            await send_problem(reused, scope, receive, send)
        elif taken.result is ClaimResult.IN_PROGRESS:
            in_use = _problem(409, "Conflict", "IdempotencyKeyInUse", _IN_USE, 1)
            await send_problem(in_use, scope, receive, send)
        else:
            await self._answer_and_remember(scope, receive, send, digest, key)

    async def _answer_and_remember(
        self, scope: Scope, receive: Receive, send: Send, digest: str, key: str
    ) -> None:
        async def settle(answer: _Recorder) -> None:
            # The answer goes out whatever happens here: if the key cannot be settled, it is
            # free again after ANSWER_TIMEOUT.
            try:
                if 200 <= answer.status < 300:
                    await run_in_threadpool(self._complete, digest, key, answer)
                else:
                    await run_in_threadpool(self._release, digest, key)
            except OperationalError:
                log.error("settling an idempotency key failed: the database is unavailable")

        answer = _Recorder(send, settle)
        try:
            await self.app(scope, receive, answer.send)
        finally:
            if not answer.settled:  # the app failed before answering in full
                with contextlib.suppress(OperationalError):
                    await run_in_threadpool(self._release, digest, key)

    def _claim(self, digest: str, key: str, request_hash: str) -> Claim:
        with session_scope(self.database_url) as session:
            taken = claim(session, digest, key, request_hash)
            if taken.record is not None:
                session.expunge(taken.record)
            return taken

    def _complete(self, digest: str, key: str, answer: _Recorder) -> None:
        with session_scope(self.database_url) as session:
            body = answer.body.decode()
            complete(session, digest, key, answer.status, body, answer.location)

    def _release(self, digest: str, key: str) -> None:
        with session_scope(self.database_url) as session:
            release(session, digest, key)


class _Recorder:
    """Passes the answer on, keeping its status, Location and body; `settle` runs before the
    answer's last part goes out, so a client that retries at once finds the key settled."""

    def __init__(self, send: Send, settle: Callable[[_Recorder], Awaitable[None]]) -> None:
        self._send = send
        self._settle = settle
        self.settled = False
        self.status = 500
        self.location: str | None = None
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.location = Headers(raw=message.get("headers", [])).get("location")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                await self._settle(self)
                self.settled = True
        await self._send(message)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read already, then what the client sends."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _replay(taken: Claim, scope: Scope, receive: Receive, send: Send) -> None:
    record = taken.record
    assert record is not None
    assert record.status_code is not None
    headers = [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")]
    if record.location:
        headers.append((b"location", record.location.encode()))
    body = (record.response_body or "").encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_INVALID = "The Idempotency-Key header must be 1 to 255 visible ASCII characters."
_REUSED = (
    "This Idempotency-Key was used in the last 24 hours for a request with another body; use a "
    "new key for a new request."
)
_IN_USE = "A request with this Idempotency-Key is being answered; retry shortly."
_DOWN = "The operational database is unavailable; nothing was stored. Retry later."


def _problem(
    status: int, title: str, code: str, detail: str, retry_after_s: int | None = None
) -> ProblemError:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
    errors = [FieldError(path="", code=code, message=f"Header Idempotency-Key: {detail}")]
    return ProblemError(status, title, detail, errors, headers, code)


async def purge_idempotency_keys(database_url: str) -> None:
    """Delete keys older than 24 hours, at start and then hourly, for as long as the intake runs
    (each intake process does; it is one indexed DELETE)."""
    while True:
        try:
            await run_in_threadpool(_purge, database_url)
        except Exception as error:  # a database hiccup must not stop the intake
            log.warning("purging idempotency keys failed: %s", type(error).__name__)
        await asyncio.sleep(PURGE_INTERVAL_S)


def _purge(database_url: str) -> None:
    with session_scope(database_url) as session:
        purge_expired(session)
