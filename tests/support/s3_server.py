"""moto's S3 service alone, served over HTTP: `python -m tests.support.s3_server HOST PORT`.

- **S3 alone.** `python -m moto.server` serves every AWS service and works out which one each
  request is for by matching its host against every service's URLs: 2.7 ms of each request, as
  much as S3's own work. The end-to-end suite makes thousands of S3 requests per test.
- **Atomic conditional puts.** moto checks `If-None-Match` and then stores the object, without a
  lock; its server answers requests in threads, so two writers could both pass the check and
  the second silently replaced the first's Delta commit (seen under load: an acknowledged
  payload was never processed). S3 itself makes the check and the write one step; here a lock
  around conditional PUTs does.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.server import MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def atomic_conditional_puts(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        conditional = environ["REQUEST_METHOD"] == "PUT" and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        )
        if not conditional:
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return serve


def main(host: str, port: int) -> None:
    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(
        host,
        port,
        atomic_conditional_puts(create_backend_app("s3")),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
