"""The intake served by uvicorn in a background thread of the calling process.

For the demo, which posts through the HTTP API without a separate `serve`, and for the tests. The
port is the operating system's choice (port 0), read back once uvicorn listens: picking a free
port first and binding it later races every other process on the machine for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 30.0


@contextmanager
def serving_in_thread(app: FastAPI, keep_alive_seconds: int = 75) -> Iterator[str]:
    """Serve `app` on a free loopback port until the block ends; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=keep_alive_seconds,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the intake did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
