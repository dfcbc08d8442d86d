"""A cache of prepared benchmark installations, so repeated runs skip the set-up.

Building a state of 500k orders and landing 100k changes takes about a minute of the quick run,
and the same inputs always give the same installation (everything is seeded). A prepared
installation is therefore kept under `bench/out/cache/<key>/` and later runs restore it instead
of building it again.

The key hashes the set-up's parameters and every source file the set-up runs (the generator,
the landing code, the table schemas and migrations, the lock file), so a change to any of them
builds afresh. Processing code (`assets/`, `pipelines/`) is not part of the key on purpose: the
set-up does not run it, and the point of the cache is a fast loop while optimising it.

Entries are hard links to the lake's files: Delta never rewrites a file in place (writes add
files, commits add log entries by atomic rename, vacuum unlinks), so neither a run nor a later
restore can change what the cache holds. The SQLite database, written in place, is copied.

`ENGAGE_BENCH_CACHE=off` turns the cache off; `ENGAGE_BENCH_CACHE=<dir>` puts it elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "bench" / "out" / "cache"
KEY_SOURCES = (
    "bench",
    "schemas",
    "storage",
    "assets/incremental.py",
    "assets/orders/documents.py",
    "uv.lock",
)
"""What the set-up runs: any change here builds the installation afresh."""
KEEP_ENTRIES = 16
"""Newest entries kept, older ones removed: a quick run uses 9, a full one as many again (its
largest state is several GB). `make clean` empties the cache."""
SQLITE_SUFFIXES = ("db", "db-wal", "db-shm", "db-journal")


def cache_dir() -> Path | None:
    """Where prepared installations are kept, or None when caching is off."""
    setting = os.environ.get("ENGAGE_BENCH_CACHE", "")
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    return Path(setting) if setting else DEFAULT_DIR


def cache_key(parameters: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in KEY_SOURCES:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [path for path in files if "out" not in path.relative_to(ROOT).parts]


def restore_or_build(
    home: Path, parameters: dict[str, Any], build: Callable[[Path], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Fill `home` from the cache, or by `build(home)` (then cached); returns build's result
    (a JSON-able dict) and whether it came from the cache."""
    root = cache_dir()
    if root is None:
        return build(home), False
    entry = root / cache_key(parameters)
    result_file = entry / "result.json"
    if result_file.exists():
        shutil.copytree(entry / "home", home, copy_function=_link_or_copy, dirs_exist_ok=True)
        os.utime(entry)
        return json.loads(result_file.read_text()), True
    result = build(home)
    _store(home, entry, result)
    _prune(root)
    return result, False


def _link_or_copy(source: str, target: str) -> None:
    """Delta files are linked (immutable); SQLite files, written in place, are copied."""
    if Path(source).name.split(".")[-1] in SQLITE_SUFFIXES:
        shutil.copy2(source, target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _store(home: Path, entry: Path, result: dict[str, Any]) -> None:
    """Copy `home` into the cache under a temporary name, then rename it into place: a
    half-written entry is never restored, and of two runs storing one entry the first wins."""
    staging = entry.with_name(f".{entry.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(home, staging / "home", copy_function=_link_or_copy)
    (staging / "result.json").write_text(json.dumps(result))
    try:
        staging.rename(entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _prune(root: Path) -> None:
    entries = sorted(
        (entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")),
        key=lambda entry: entry.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[KEEP_ENTRIES:]:
        shutil.rmtree(stale, ignore_errors=True)
