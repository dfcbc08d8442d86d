"""A table's writer lock keeps two processes apart and dies with its holder."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from storage.lake import Lake
from storage.table_locks import table_writer

HOLDER = """
import sys, time
from storage.lake import Lake
from storage.table_locks import table_writer
with table_writer(Lake(sys.argv[1]), "orders"):
    print("held", flush=True)
    time.sleep(60)
"""


def held_elsewhere(lake: Lake) -> subprocess.Popen[str]:
    """Another process holding the `orders` lock until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lake.root_uri], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_waits_for_another_process_and_gets_the_lock_when_it_is_killed(
    tmp_path: Path,
) -> None:
    lake = Lake(str(tmp_path / "lake"))
    holder = held_elsewhere(lake)
    try:
        acquired = threading.Event()
        writer = threading.Thread(target=lambda: _take(lake, "orders", acquired), daemon=True)
        writer.start()
        assert not acquired.wait(1.0)  # the other process holds it

        holder.send_signal(signal.SIGKILL)
        assert acquired.wait(10.0)  # the kernel released it with its holder
        writer.join(timeout=10)
    finally:
        holder.kill()
        holder.wait()


def test_another_table_is_not_held_up(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    holder = held_elsewhere(lake)
    try:
        acquired = threading.Event()
        writer = threading.Thread(target=lambda: _take(lake, "order_lines", acquired), daemon=True)
        writer.start()
        assert acquired.wait(5.0)
    finally:
        holder.kill()
        holder.wait()


def _take(lake: Lake, table: str, acquired: threading.Event) -> None:
    with table_writer(lake, table):
        acquired.set()
