"""Run gtflow's benchmarks: all of them, or some by name.

    python -m benchmarks.run                 # every benchmarks/bench_*.py
    python -m benchmarks.run manifest        # one by name
    python -m benchmarks.run --quick         # smaller sizes, for a smoke run
    python -m benchmarks.run --record        # also write docs/benchmarks/<name>.md

Each benchmark prints its figure, the baseline measured in the same run, and their ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks.harness import Measurement, machine

HERE = Path(__file__).parent
DOCS = HERE.parent / "docs" / "benchmarks"


def available() -> list[str]:
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def table(rows: list[Measurement]) -> str:
    lines = ["| what | figure | baseline | baseline figure | ratio |", "|---|---|---|---|---|"]
    for m in rows:
        note = f" ({m.note})" if m.note else ""
        lines.append(
            f"| {m.what}{note} | {_fmt(m.figure)} {m.unit} | {m.baseline} | "
            f"{_fmt(m.baseline_figure)} {m.unit} | {m.ratio:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--record", action="store_true", help="write docs/benchmarks/<name>.md")
    args = ap.parse_args(argv)
    names = args.names or available()
    unknown = set(names) - set(available())
    if unknown:
        ap.error(f"unknown benchmark(s) {sorted(unknown)}; available: {available()}")
    for name in names:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"## {name}", flush=True)
        rows = mod.run(quick=args.quick)
        text = table(rows)
        print(text, flush=True)
        if args.record:
            DOCS.mkdir(parents=True, exist_ok=True)
            head = (mod.__doc__ or name).strip()
            stamp = dt.date.today().isoformat()
            size = "quick sizes" if args.quick else "full sizes"
            (DOCS / f"{name}.md").write_text(
                f"# Benchmark: {name}\n\n{head}\n\nMeasured {stamp} on {machine()} ({size}), "
                f"`python -m benchmarks.run {name}{' --quick' if args.quick else ''}`:\n\n{text}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
