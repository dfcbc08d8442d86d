"""Returning freed memory to the operating system between a run's steps (assets/heap.py)."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter, so that what the test process already holds does not blur the numbers.
FREE_HALF_OF_THE_BLOCKS = """
import os
from assets.heap import return_freed_memory

def resident_mb() -> float:
    pages = int(open("/proc/self/statm").read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

blocks = [bytearray(64 * 1024) for _ in range(4000)]  # 250 MB from the C heap
kept = blocks[::2]  # every other block stays: the freed ones are holes the heap cannot shrink past
del blocks
before = resident_mb()
return_freed_memory()
print(before - resident_mb())
"""


def test_freed_heap_memory_goes_back_to_the_operating_system() -> None:
    """A step that freed a batch would otherwise leave its peak to every later step."""
    answer = subprocess.run(
        [sys.executable, "-c", FREE_HALF_OF_THE_BLOCKS],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    released_mb = float(answer.stdout.strip())
    assert released_mb > 80  # of the 125 MB in freed blocks
