"""Bounding-box consolidation: objects/s of gtflow's engines beside a pairwise baseline.

Synthetic batch: N objects x 3 workers x up to 20 boxes each (3 labels; each worker jitters the
true boxes by a few pixels, misses some and adds the odd spurious one). Engines:

* ``numpy``: the IoU matrices of many label groups stacked into one vectorised step and the
  clusters fused in one step (``engine="numpy"``, batched over the whole request);
* ``python``: pure Python with a sweep over x (the default, and what a Lambda zip runs);
* baseline ``pairwise``: the straightforward loop over every pair of boxes in Python.

All three give identical output (checked on every object). Each figure is the best of 3 runs,
interleaved, because the benchmark machine is shared.
"""

from __future__ import annotations

import random
import time

from benchmarks.harness import Measurement
from gtflow.consolidate.boxes import Box, cluster_many

LABELS = ("car", "person", "sign")


def make_objects(n: int, seed: int = 0, workers: int = 3, max_boxes: int = 20) -> list[dict[str, list[Box]]]:
    rng = random.Random(seed)
    objs = []
    for _ in range(n):
        truth = [(rng.choice(LABELS), rng.randint(0, 900), rng.randint(0, 600), rng.randint(10, 120),
                  rng.randint(10, 120)) for _ in range(rng.randint(0, max_boxes))]
        answer: dict[str, list[Box]] = {}
        for w in range(workers):
            boxes = [Box(lab, x + rng.randint(-4, 4), y + rng.randint(-4, 4), bw + rng.randint(-4, 4), bh + rng.randint(-4, 4))
                     for lab, x, y, bw, bh in truth if rng.random() > 0.08]
            if rng.random() < 0.2 and len(boxes) < max_boxes:
                boxes.append(Box(rng.choice(LABELS), rng.randint(0, 900), rng.randint(0, 600), 40, 40))
            answer[f"private.us-east-1.w{w}"] = boxes[:max_boxes]
        objs.append(answer)
    return objs


def run(quick: bool) -> list[Measurement]:
    n = 1_000 if quick else 10_000
    objs = make_objects(n)
    boxes = sum(len(b) for o in objs for b in o.values())
    best: dict[str, float] = {}
    outs: dict[str, object] = {}
    for _ in range(3):
        for engine in ("numpy", "python", "pairwise"):
            t0 = time.perf_counter()
            outs[engine] = cluster_many(objs, engine=engine)
            dt = time.perf_counter() - t0
            best[engine] = min(best.get(engine, dt), dt)
    assert outs["numpy"] == outs["python"] == outs["pairwise"], "engines disagree"
    what = f"consolidate {n:,} objects x 3 workers x up to 20 boxes ({boxes:,} boxes)"
    base = "pure-Python all-pairs IoU loop (same clustering)"
    return [
        Measurement(what=f"{what}, numpy engine", figure=n / best["numpy"], unit="objects/s",
                    baseline=base, baseline_figure=n / best["pairwise"], note="outputs identical"),
        Measurement(what=f"{what}, pure-Python sweep engine (Lambda)", figure=n / best["python"],
                    unit="objects/s", baseline=base, baseline_figure=n / best["pairwise"], note="outputs identical"),
    ]
