"""`engage-orders process` with one function of the product wrapped (tests only).

- `python -m tests.support.instrumented_process crash POINT` kills itself with SIGKILL at that
  point. SIGKILL, not an exception: no `finally`, no Dagster failure event, no rollback but the
  database's own; the run is left STARTED with its pool slots taken, as after a power cut or
  the OOM killer.
- `python -m tests.support.instrumented_process record FILE` appends one JSON line per Delta
  write (table, pid, start, end) to FILE, to show when each process wrote which table.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import assets.orders.serving
from pipelines.cli import main
from storage.lake import Lake


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def before_writing(table: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(lake: Lake, spec: Any, *args: Any, **kwargs: Any) -> Any:
        if spec.name == table:
            die()
        return method(lake, spec, *args, **kwargs)

    return wrapper


def after_writing(table: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(lake: Lake, spec: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(lake, spec, *args, **kwargs)
        if spec.name == table:
            die()
        return result

    return wrapper


def recorded(path: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(lake: Lake, spec: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.time()
        try:
            return method(lake, spec, *args, **kwargs)
        finally:
            write = {"table": spec.name, "pid": os.getpid(), "start": started, "end": time.time()}
            with open(path, "a", encoding="utf-8") as log:
                log.write(json.dumps(write) + "\n")

    return wrapper


def record_writes(path: str) -> None:
    for name in ("append", "merge", "overwrite"):
        setattr(Lake, name, recorded(path, getattr(Lake, name)))


def crash_at(point: str) -> None:
    if point == "after-validation":
        # Changes validated and applied in memory; the first silver write is order_versions.
        Lake.append = before_writing("order_versions", Lake.append)  # type: ignore[method-assign]
    elif point == "mid-merges":
        # Current orders merged and committed, their lines not yet.
        Lake.merge = after_writing("orders", Lake.merge)  # type: ignore[method-assign]
    elif point == "before-job-statuses":
        # Every table written; the transaction that settles the jobs is under way.
        assets.orders.serving.record_outcomes = lambda *_args, **_kwargs: die()
    else:
        raise SystemExit(f"unknown crash point {point!r}")


if __name__ == "__main__":
    mode, argument = sys.argv[1:3]
    {"crash": crash_at, "record": record_writes}[mode](argument)
    main(args=["process"])
