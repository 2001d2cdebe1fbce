"""The end-to-end demo: seconds per stage and in all, the new default beside the previous default.

Both configurations run in this run, one after the other, each in a fresh process
(``python -m benchmarks.bench_demo --one CONFIG``), with the same code:

* **new default** — ``gtflow demo`` as it is now: 192 px, v0 300 steps, v1, the no-review
  control and the random-selection arm 100 steps each, torch threads chosen by load;
* **previous default** — the configuration ``gtflow demo`` ran until issue 13: 320 px, v0 300
  steps, v1 and the control 200 steps each, no selection arm, one torch thread per core.

``--quick`` compares ``gtflow demo --quick`` (96 px, a smoke test) with the previous ``--quick``
(128 px, 40 + 30 steps). Each row gives wall seconds, and CPU seconds (user + sys of the
process) so that runs on a shared machine can be compared; the load average is printed.

    python -m benchmarks.run demo --quick          # about 2 + 4 minutes on an idle 2-core CPU
    python -m benchmarks.run demo                  # about 5 + 11 minutes
    python -m benchmarks.bench_demo [--quick]      # the same, with the per-stage table
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Measurement

#: the configurations ``gtflow demo`` used before issue 13 (same code, old settings)
PREVIOUS = {
    "default": dict(image_size=320, seed_images=160, pool_images=240, heldout_images=120, v0_steps=300,
                    v1_steps=200, batch_size=8, max_loops=160, control=True, arms=(), threads=os.cpu_count()),
    "quick": dict(image_size=128, seed_images=48, pool_images=48, heldout_images=32, v0_steps=40, v1_steps=30,
                  batch_size=8, max_loops=40, control=False, arms=(), threads=os.cpu_count()),
}


def _one(kind: str, workdir: str) -> None:
    """Run one configuration in this process and print its summary as JSON (child side)."""
    from gtflow.demo import DemoConfig, run_demo

    name, size = kind.split(":")
    if name == "new":
        cfg = DemoConfig.quick(workdir=Path(workdir)) if size == "quick" else DemoConfig(workdir=Path(workdir))
    else:
        cfg = DemoConfig(workdir=Path(workdir), **PREVIOUS[size])  # type: ignore[arg-type]
    summary = run_demo(cfg)
    print(json.dumps({"seconds": summary["seconds"], "map50": {k: v["map50"] for k, v in summary["arms"].items()},
                      "threads": summary["torch_threads"]}))


def measure(kind: str) -> dict[str, Any]:
    """Run ``kind`` ("new:default", "previous:quick", ...) in a child process; its seconds and CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="gtflow-bench-demo-") as tmp:
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_demo", "--one", kind, tmp],
                             check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu"] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1)
    return result


def _load() -> str:
    try:
        return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def run(quick: bool = False) -> list[Measurement]:
    size = "quick" if quick else "default"
    print(f"demo benchmark ({size}), {os.cpu_count()} CPUs, {_load()} before", flush=True)
    new = measure(f"new:{size}")
    old = measure(f"previous:{size}")
    print(f"{_load()} after", flush=True)
    _print_table(new, old)
    rows = [Measurement(f"gtflow demo{' --quick' if quick else ''}: total", new["seconds"]["total"], "s",
                        f"previous {size} configuration", old["seconds"]["total"], higher_is_better=False,
                        note=f"mAP@0.5 {_maps(new)} vs {_maps(old)}"),
            Measurement(f"gtflow demo{' --quick' if quick else ''}: CPU (user+sys)", new["cpu"], "s",
                        f"previous {size} configuration", old["cpu"], higher_is_better=False)]
    for stage in ("data", "train_v0", "retrain", "control"):
        if stage in new["seconds"] and stage in old["seconds"]:
            rows.append(Measurement(f"stage {stage}", new["seconds"][stage], "s", f"previous {size} configuration",
                                    old["seconds"][stage], higher_is_better=False))
    return rows


def _maps(r: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in r["map50"].items())


def _print_table(new: dict[str, Any], old: dict[str, Any]) -> None:
    stages = list(dict.fromkeys([*new["seconds"], *old["seconds"]]))
    print("| stage | new (s) | previous (s) |\n|---|---|---|")
    for s in stages:
        print(f"| {s} | {new['seconds'].get(s, '-')} | {old['seconds'].get(s, '-')} |")
    print(f"| CPU user+sys | {new['cpu']} | {old['cpu']} |")
    print(f"| torch threads | {new['threads']} | {old['threads']} |")
    print(f"| mAP@0.5 | {_maps(new)} | {_maps(old)} |", flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        _one(argv[1], argv[2])
        return 0
    quick = "--quick" in argv
    if "--only-new" in argv:
        r = measure(f"new:{'quick' if quick else 'default'}")
        print(json.dumps(r, indent=1))
        return 0
    for row in run(quick):
        print(f"{row.what}: {row.figure:.1f} {row.unit} vs {row.baseline_figure:.1f} {row.unit} "
              f"({row.baseline}); {row.ratio:.2f}x{f'; {row.note}' if row.note else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
