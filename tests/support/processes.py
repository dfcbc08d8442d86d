"""Inspect process trees through /proc, to prove that nothing is left running after a stop."""

from __future__ import annotations

import os
from pathlib import Path

PROC = "/proc"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields after the command name of /proc/<pid>/stat (state first), or None if gone."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphaned zombie waits for init, which may never reap it)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def descendants(root: int) -> list[int]:
    """Every live process below `root`, found through parent ids."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def own_installation_env(home: Path) -> dict[str, str]:
    """This environment without any engage-orders or Dagster setting, on installation folders of
    its own under `home`: a product started with it sees nothing of the developer's set-up."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ENGAGE_") and key != "DAGSTER_HOME"
    }
    env["ENGAGE_HOME"] = str(home / "engage")
    env["DAGSTER_HOME"] = str(home / "dagster")
    return env
