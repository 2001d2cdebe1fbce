"""Choosing the codec (issue 14): decoding a typical object-detection output line.

One real-shaped GT bounding-box output line (4 boxes, class-map, confidences, about 600
characters, built like benchmarks/bench_manifest.py's lines) decoded many times, each figure
beside the stdlib baseline ``json.loads`` measured in the same run (best of several rounds,
lines per CPU second):

* ``orjson.loads`` and ``msgspec.json.decode`` to plain objects (parsing only);
* ``msgspec.json.decode`` straight into typed structs of the OD line (validating while it
  parses: what ``manifest validate --task object-detection`` uses, :mod:`gtflow.manifest.fast`);
* ``json.loads`` + :meth:`gtflow.wire.OutputLabel.from_line` (gtflow's pure-Python codec:
  typed values, unknown keys and key order kept, what Lambda handlers run) and the same with a
  write back (``to_items``) for the round trip;
* that round trip with the hand-written ``from_dict``/``to_dict`` bodies the codec replaced
  (the tree of the commit before ``wire: one codec``, from ``git archive``, in a subprocess,
  alternating with this commit's in the same run).

The decision it supports (docs/wire.md): the wire types keep one pure-Python codec (it runs in
Lambda zips with no wheel, and keeps key order and unknown keys, which msgspec structs drop);
the manifest hot path decodes with msgspec typed structs when msgspec is installed, with the
pure-Python path as a fallback giving identical reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Measurement

LINE = json.dumps({
    "source-ref": "s3://example-bucket/images/00000042.jpg",
    "bounding-box": {
        "annotations": [
            {"class_id": 0, "width": 120, "top": 32, "height": 210, "left": 55},
            {"class_id": 2, "width": 80, "top": 200, "height": 64, "left": 300},
            {"class_id": 2, "width": 66, "top": 190, "height": 70, "left": 410},
            {"class_id": 5, "width": 240, "top": 10, "height": 150, "left": 20},
        ],
        "image_size": [{"width": 640, "depth": 3, "height": 480}],
    },
    "bounding-box-metadata": {
        "job-name": "labeling-job/bounding-box",
        "class-map": {"0": "person", "2": "dog", "5": "bus"},
        "human-annotated": "yes",
        "objects": [{"confidence": 0.91}, {"confidence": 0.62}, {"confidence": 0.58}, {"confidence": 0.87}],
        "creation-date": "2019-01-29T13:31:14.845709",
        "type": "groundtruth/object-detection",
    },
}, separators=(",", ":"))


def _rate(fn: Callable[[], Any], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - t0)
    return n / best


def run(quick: bool = False) -> list[Measurement]:
    n, rounds = (20_000, 3) if quick else (200_000, 5)
    text, raw = LINE, LINE.encode()
    cases: dict[str, Callable[[], Any]] = {"json.loads": lambda: json.loads(text)}
    try:
        import orjson

        cases["orjson.loads (plain objects)"] = lambda: orjson.loads(raw)
    except ImportError:
        pass
    try:
        import msgspec

        from gtflow.manifest.fast import line_decoder

        plain = msgspec.json.Decoder()
        typed = line_decoder("bounding-box")
        cases["msgspec.json.decode (plain objects)"] = lambda: plain.decode(raw)
        cases["msgspec.json.decode into typed OD structs (validates)"] = lambda: typed.decode(raw)
    except ImportError:
        pass
    from gtflow.wire import OutputLabel

    cases["json.loads + wire OutputLabel.from_line (typed, pure Python)"] = (
        lambda: OutputLabel.from_line(json.loads(text), "bounding-box"))
    cases["json.loads + wire read + write back (round trip)"] = (
        lambda: OutputLabel.from_line(json.loads(text), "bounding-box").to_items())
    # interleave: every case once per round, so all see the same machine load
    rates: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in cases.items():
            rates[name] = max(rates.get(name, 0.0), _rate(fn, n, 1))
    base = rates["json.loads"]
    rows = [
        Measurement(f"decode one OD output line: {name} ({len(raw)} bytes)", r, "lines/s", "json.loads", base)
        for name, r in rates.items() if name != "json.loads"
    ]
    old = _old_vs_new(n // 10, rounds)
    if old is not None:
        rows.append(Measurement("wire read + write back of one OD output line, this commit's codec", old[1],
                                "lines/s", "hand-written from_dict/to_dict (commit before the codec)", old[0]))
    return rows


_ROUND_TRIP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from gtflow.wire import OutputLabel
d = json.loads(sys.argv[2])
t = time.process_time()
for _ in range(int(sys.argv[3])):
    OutputLabel.from_line(d, "bounding-box").to_items()
print(int(sys.argv[3]) / (time.process_time() - t))
"""


def _old_vs_new(n: int, rounds: int) -> tuple[float, float] | None:
    """Round trips/s of the codec before (hand-written) and now, alternating, best of rounds."""
    import io
    import subprocess
    import sys
    import tarfile
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sha = subprocess.run(["git", "log", "--format=%H", "--grep", "wire: one codec", "-1"], cwd=root,
                         capture_output=True, text=True).stdout.strip()
    tree = subprocess.run(["git", "archive", f"{sha}^", "gtflow"], cwd=root, capture_output=True) if sha else None
    if tree is None or tree.returncode != 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(tree.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        best = {tmp: 0.0, str(root): 0.0}
        for _ in range(rounds):
            for where in best:
                out = subprocess.run([sys.executable, "-c", _ROUND_TRIP, where, LINE, str(n)],
                                     capture_output=True, text=True, check=True)
                best[where] = max(best[where], float(out.stdout))
        return best[tmp], best[str(root)]
