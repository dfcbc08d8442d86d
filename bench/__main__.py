"""`python -m bench [--mode full|quick|smoke] [--only a,b] [--out bench/out]`: run the figures and
write `report.json` and `report.md` (see bench/harness.py and docs/performance.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness import FIGURES, MODES, run_figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--mode", choices=MODES, default="full")
    parser.add_argument(
        "--only", help=f"comma-separated figures ({', '.join(f.name for f in FIGURES)})"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    report = run_figures(args.mode, args.out, only)
    failed = [
        name for name, result in report.items() if isinstance(result, dict) and "error" in result
    ]
    print(f"report: {args.out / 'report.md'}")
    if failed:
        raise SystemExit(f"figures that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
