"""Bulk QA analysis: reading verdicts, per-class/bucket analysis and the lower-bound thresholds.

Figures, each beside a baseline measured in the same run (fastest of a few runs; the machine
is shared):

* reading a JSON Lines verdict file into typed records (``parse_verdicts``) against the floor
  of ``json.loads`` on every line (what any reader must pay);
* the lower-bound threshold search, which walks each class's images once from the highest
  confidence down keeping running counts, against the straightforward search that recounts
  the images above every candidate threshold (quadratic in a class's size) — on a size the
  straightforward search can finish;
* ``analyse`` + both threshold methods on the full verdict set (no baseline of its own kind:
  shown beside the ``json.loads`` floor of the same records).
"""

from __future__ import annotations

import json
import random

from benchmarks.harness import Measurement, best_of
from gtflow.qa import analyse, bucket_walk, lower_bound, parse_verdicts
from gtflow.qa.analysis import Analysis
from gtflow.qa.records import Verdict, write_verdicts_jsonl
from gtflow.qa.thresholds import wilson_lower_bound


def _verdicts(n: int, classes: int, seed: int = 5) -> list[Verdict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        c = rnd.randrange(classes)
        conf = round(rnd.uniform(80, 100), 3)
        p_right = 0.6 + 0.4 * (conf - 80) / 20 - 0.002 * c
        yes = sum(rnd.random() < p_right for _ in range(3))
        out.append(Verdict(f"s3://bucket/images/{i:07d}.jpg", f"class-{c:03d}", conf, yes, 3 - yes,
                           {"w1": yes >= 1, "w2": yes >= 2, "w3": yes >= 3}))
    return out


def _naive_lower_bound(a: Analysis, r: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label, c in a.classes.items():
        best, best_v = None, 0.0
        for t in sorted({conf for conf, _ in c.items}, reverse=True):
            taken = [ok for conf, ok in c.items if conf >= t]
            n, k = len(taken), sum(taken)
            v = n * ((1 + r) * wilson_lower_bound(k, n) - r)
            if v > best_v:
                best, best_v = t, v
        out[label] = best
    return out


def run(quick: bool) -> list[Measurement]:
    n, classes = (50_000, 50) if quick else (500_000, 100)
    vs = _verdicts(n, classes)
    text = write_verdicts_jsonl(vs)
    lines = text.splitlines()
    floor = best_of(3, lambda: [json.loads(x) for x in lines])
    read = best_of(3, lambda: list(parse_verdicts(text, name="v.jsonl")))
    rows = [Measurement(
        what=f"read {n:,} verdicts (JSON Lines, {len(text) / 1e6:.0f} MB) into typed records",
        figure=n / read, unit="verdicts/s", baseline="json.loads per line (the floor)",
        baseline_figure=n / floor, note=f"{read:.2f} s vs {floor:.2f} s",
    )]

    full = best_of(3, lambda: (lambda a: (lower_bound(a, cost_ratio=10), bucket_walk(a, cost_ratio=10)))(analyse(vs)))
    rows.append(Measurement(
        what=f"analyse + bucket walk + lower bound, {n:,} verdicts, {classes} classes",
        figure=n / full, unit="verdicts/s", baseline="json.loads per line (the floor)",
        baseline_figure=n / floor, note=f"{full:.2f} s",
    ))

    small_n = 20_000 if quick else 60_000
    a = analyse(vs[:small_n])
    ours = lower_bound(a, cost_ratio=10)
    naive = _naive_lower_bound(a, 10)
    assert {k: t.threshold for k, t in ours.items()} == naive
    t_ours = best_of(3, lambda: lower_bound(a, cost_ratio=10))
    t_naive = best_of(1, lambda: _naive_lower_bound(a, 10))
    rows.append(Measurement(
        what=f"lower-bound threshold search, {small_n:,} verdicts in {len(a.classes)} classes (~{small_n // classes:,} per class)",
        figure=t_ours * 1000, unit="ms", baseline="recount above every candidate",
        baseline_figure=t_naive * 1000, higher_is_better=False, note="same thresholds checked",
    ))
    return rows
