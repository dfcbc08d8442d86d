"""`@one_writer(pool)`: an asset or op that writes a table holds its writer lock while it runs.

Beneath the Dagster decorator that names the same pool; storage/table_locks.py says why the pool
alone is not enough. The function must take the `lake` resource (every table writer does).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from storage.table_locks import table_writer

F = TypeVar("F", bound=Callable[..., Any])


def one_writer(pool: str) -> Callable[[F], F]:
    def decorate(compute: F) -> F:
        if inspect.isgeneratorfunction(compute):
            # A multi-asset yields its outputs: the lock must outlive the last one.
            @functools.wraps(compute)
            def locked_generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
                with table_writer(kwargs["lake"].lake, pool):
                    yield from compute(*args, **kwargs)

            return locked_generator  # type: ignore[return-value]

        @functools.wraps(compute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with table_writer(kwargs["lake"].lake, pool):
                return compute(*args, **kwargs)

        return locked  # type: ignore[return-value]

    return decorate
