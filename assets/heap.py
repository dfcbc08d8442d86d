"""Giving the memory a step has freed back to the operating system.

A processing run executes its steps one after another in one process (the in-process executor).
What a step frees goes back to the allocators, which keep it for later, so every step started on
top of what the steps before it had freed. At 100k changes, 1.9 GB stayed resident after
`apply_order_changes` had dropped its batch; trimming the C heap and Arrow's pool gave 0.35 GB of
it back (docs/performance.md, fifth round).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

import pyarrow as pa


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def return_freed_memory() -> None:
    """Release the free pages of the C heap (a no-op without glibc) and of Arrow's memory pool
    (mimalloc, which keeps what it freed for reuse) to the operating system."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    pa.default_memory_pool().release_unused()
