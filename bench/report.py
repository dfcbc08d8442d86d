"""Targets of the figures and the Markdown rendering of a report."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bench.harness import Figure

COMPARE = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """A figure's number and the bound it should keep, e.g. `ratio >= 0.7`."""

    key: str
    op: Literal["<=", ">="]
    bound: float

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.bound:g}"


def judge(result: dict[str, Any], targets: Sequence[Target]) -> dict[str, bool | None]:
    """Each target met (True), missed (False) or not measurable (None, e.g. after an error)."""
    judged: dict[str, bool | None] = {}
    for target in targets:
        value = result.get(target.key)
        ok = COMPARE[target.op](value, target.bound) if isinstance(value, int | float) else None
        judged[str(target)] = ok
    return judged


def render_markdown(report: dict[str, Any], figures: Sequence[Figure]) -> str:
    meta = report["meta"]
    machine = meta["machine"]
    lines = [
        f"# Benchmark report ({meta['mode']}, {meta['started_at']})",
        "",
        f"Machine: {machine['cpus']} cores, {machine['memory_gb']} GB, {machine['platform']}, "
        f"Python {machine['python']}, polars {machine['polars']}, "
        f"deltalake {machine['deltalake']}.",
        "",
    ]
    for figure in figures:
        if figure.name not in report:
            continue
        result = report[figure.name]
        lines += [f"## {figure.name}", "", "| key | value |", "|---|---|"]
        # Time series (the soak's samples) stay in report.json: a table cell cannot show them.
        shown = {key: value for key, value in result.items() if key not in ("targets", "samples")}
        lines += [f"| {key} | {_cell(value)} |" for key, value in _flat(shown).items()]
        for target, ok in result.get("targets", {}).items():
            verdict = {True: "met", False: "**missed**", None: "not measured"}[ok]
            lines.append(f"| target `{target}` | {verdict} |")
        lines.append("")
    return "\n".join(lines)


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested numbers (e.g. `others.ongoing-jackets.seconds`) as rows of their own."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return f"`{value}`"
    return str(value)
