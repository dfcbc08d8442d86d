"""How the processes of `engage-orders` hand memory that polars freed back to the system.

polars allocates with its own jemalloc and configures it when imported (`dirty_decay_ms:500,
muzzy_decay_ms:1000`, followed by whatever `_RJEM_MALLOC_CONF` already holds). Two things kept
freed memory resident anyway: jemalloc purges only when polars allocates again, and it first
"purges" pages lazily (MADV_FREE), which still count as resident until the kernel runs short. A
processing run's steps follow each other in one process, so each step started on top of what the
steps before it had freed. With a background thread purging on time and lazy purging skipped,
the resident memory between the steps of a 100k-change run fell by about 500 MB, and the
MERGEs kept their speed (docs/performance.md, fifth round).

jemalloc reads its settings once, when polars is imported, so they go into the environment of
`engage-orders` before anything imports polars; the processes it starts inherit them. An
operator's own `_RJEM_MALLOC_CONF` wins.
"""

from __future__ import annotations

from collections.abc import MutableMapping

POLARS_JEMALLOC_CONF_VARIABLE = "_RJEM_MALLOC_CONF"
"""polars builds jemalloc with the `_rjem_` prefix, so it reads this variable, not MALLOC_CONF."""
POLARS_JEMALLOC_CONF = "background_thread:true,muzzy_decay_ms:0"


def tune_allocators(environment: MutableMapping[str, str]) -> None:
    """Set the allocator settings in `environment` (os.environ or a child's), unless set."""
    environment.setdefault(POLARS_JEMALLOC_CONF_VARIABLE, POLARS_JEMALLOC_CONF)
