"""A deadline for request bodies: a client that trickles its body (slow loris) gets a 408.

uvicorn bounds idle keep-alive connections, not a body that arrives one byte at a time, so without
this a handful of slow clients would each hold a connection and a request slot indefinitely. The
deadline runs from the request's start to the end of its body; reading what follows (waiting for
a disconnect) is not limited.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.errors import ProblemError, send_problem


class BodyTimeout(ProblemError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            "Request Timeout",
            f"The request body did not arrive within {seconds:g} s; nothing was stored.",
            headers={"Connection": "close"},
            code="RequestTimeout",
        )


class BodyTimeoutMiddleware:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False
        started = False

        async def receive_before_deadline() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self.seconds) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_before_deadline, note_start)
        except BodyTimeout as timeout:
            # Raised outside the app's own error handlers (by a middleware reading the body).
            if started:
                raise
            await send_problem(timeout, scope, receive, send)
