"""What a benchmark returns, and small helpers shared by the benchmarks.

A benchmark module ``benchmarks/bench_<name>.py`` defines ``run(quick: bool) -> list[Measurement]``.
Every figure is printed beside a named baseline measured in the same run, with their ratio.
"""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Measurement", "timed", "best_of", "peak_rss_mib", "machine"]


@dataclass(frozen=True)
class Measurement:
    what: str  # what was measured, e.g. "validate 1,000,000 lines"
    figure: float
    unit: str  # e.g. "lines/s", "ms", "MiB"
    baseline: str  # the named baseline, e.g. "json.loads loop"
    baseline_figure: float
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (>1 is better)."""
        if self.higher_is_better:
            return self.figure / self.baseline_figure if self.baseline_figure else float("inf")
        return self.baseline_figure / self.figure if self.figure else float("inf")


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_of(n: int, fn: Callable[[], object]) -> float:
    """The fastest of ``n`` runs, in seconds (the least disturbed by other processes)."""
    return min(timed(fn) for _ in range(n))


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
