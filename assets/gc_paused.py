"""Pausing Python's cyclic garbage collector while a step builds a batch's objects.

A processing step holds a whole batch in memory as small objects: parsed payloads, documents,
rows. Every few hundred allocations the collector walks the young ones, and now and then all of
them, though none of them is part of a cycle (reference counting frees them). At 100k changes that
walking was a third of `apply_order_changes` (28 s -> 17 s with it paused).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
