"""Manifest streaming: validate and copy a million-line object-detection manifest.

Each case runs in its own subprocess on a generated manifest of realistic Ground Truth
bounding-box lines (1-6 boxes, metadata with class-map and confidences, about 600
characters a line), so its peak memory (VmHWM, Linux's ``ru_maxrss`` without the parent's share) is its own. Baselines, measured in
the same run on the same file: a plain ``json.loads`` loop (for validate) and a plain
``json.loads``/``json.dumps`` loop (for copy). Peak memory is measured at two sizes (10x
apart) to show it does not grow with the file. Rates are lines per CPU second of the child
(``time.process_time``), best of two interleaved rounds, because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Measurement

ROOT = Path(__file__).resolve().parents[1]
ATTR = "bounding-box"
NUM_CLASSES = 8
FULL_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
CASES = ("baseline-read", "validate", "validate-od", "baseline-copy", "copy")


# -- the manifest ----------------------------------------------------------------------------
def _templates(count: int = 1009) -> list[tuple[str, str]]:
    """(before, after) halves of realistic lines; the image index goes between them."""
    rng = random.Random(0)
    names = ["person", "car", "dog", "cat", "bicycle", "bus", "truck", "bird"]
    out = []
    for _ in range(count):
        w, h = rng.choice([(640, 480), (1280, 720), (601, 453), (500, 400)])
        boxes = []
        for _ in range(rng.randint(1, 6)):
            bw, bh = rng.randint(10, w // 2), rng.randint(10, h // 2)
            boxes.append(
                {"class_id": rng.randrange(NUM_CLASSES), "width": bw, "top": rng.randint(0, h - bh), "height": bh, "left": rng.randint(0, w - bw)}
            )
        used = sorted({b["class_id"] for b in boxes})
        rec = {
            "source-ref": "s3://example-bucket/images/IMAGE.jpg",
            ATTR: {"annotations": boxes, "image_size": [{"width": w, "depth": 3, "height": h}]},
            f"{ATTR}-metadata": {
                "job-name": "labeling-job/bounding-box",
                "class-map": {str(c): names[c] for c in used},
                "human-annotated": "yes",
                "objects": [{"confidence": round(rng.random(), 2)} for _ in boxes],
                "creation-date": "2019-01-29T13:31:14.845709",
                "type": "groundtruth/object-detection",
            },
        }
        before, after = json.dumps(rec, separators=(",", ":")).split("IMAGE", 1)
        out.append((before, after))
    return out


def generate(path: Path, lines: int) -> None:
    halves = _templates()
    k = len(halves)
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as fh:
        chunk = []
        for i in range(lines):
            before, after = halves[i % k]
            chunk.append(f"{before}{i:08d}{after}\n")
            if len(chunk) == 10_000:
                fh.write("".join(chunk))
                chunk.clear()
        fh.write("".join(chunk))


# -- the cases (run in a child process) ------------------------------------------------------
def _peak_rss_mib() -> float:
    """This process's peak resident memory. /proc's VmHWM starts afresh at exec, while
    ru_maxrss keeps the parent's peak across fork+exec (Linux), which would hide growth."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _case(case: str, path: str, out: str) -> int:
    if case == "baseline-read":
        n = 0
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                json.loads(line)
                n += 1
        return n
    if case == "baseline-copy":
        n = 0
        with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
            for line in src:
                dst.write(json.dumps(json.loads(line)) + "\n")
                n += 1
        return n
    from gtflow.manifest import read_manifest, validate_manifest, write_manifest

    if case == "validate":
        report = validate_manifest(path)
        assert report.valid, report.format_lines()[:3]
        return report.lines
    if case == "validate-od":
        report = validate_manifest(path, task="object-detection", label_attribute=ATTR, num_classes=NUM_CLASSES)
        assert report.valid, report.format_lines()[:3]
        return report.lines
    if case == "copy":
        return write_manifest(out, read_manifest(path))
    raise SystemExit(f"unknown case {case}")


def _child_main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=CASES)
    ap.add_argument("path")
    ap.add_argument("out")
    args = ap.parse_args(argv)
    if not args.case.startswith("baseline"):
        import gtflow.manifest  # noqa: F401 - import time is not streaming time
    t0, c0 = time.perf_counter(), time.process_time()
    n = _case(args.case, args.path, args.out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = _peak_rss_mib()
    print(json.dumps({"lines": n, "seconds": cpu, "wall_seconds": wall, "rss_mib": rss}))


def measure(case: str, path: Path, workdir: Path) -> dict[str, float]:
    """Run one case in a fresh interpreter: lines, seconds, peak RSS (MiB)."""
    out = workdir / f"{case}.out.manifest"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_manifest", case, str(path), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{case} failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return result


def run(quick: bool = False, sizes: tuple[int, int] | None = None, rounds: int = 2) -> list[Measurement]:
    """Both sizes, every case ``rounds`` times interleaved; the fastest CPU time and the
    largest peak memory of each case are kept (the machine running this may be shared)."""
    small, big = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    rows: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="gtflow-bench-") as tmp:
        workdir = Path(tmp)
        results: dict[int, dict[str, dict[str, float]]] = {}
        for size in (small, big):
            path = workdir / f"od-{size}.manifest"
            generate(path, size)
            mib = path.stat().st_size / 2**20
            print(f"  {size:,} lines, {mib:,.0f} MiB", file=sys.stderr, flush=True)
            results[size] = {}
            for _ in range(rounds):
                for case in CASES:
                    r = measure(case, path, workdir)
                    assert r["lines"] == size, (case, r)
                    print(
                        f"    {case}: {size / r['seconds']:,.0f} lines/CPU-s "
                        f"({size / r['wall_seconds']:,.0f} wall), {r['rss_mib']:.0f} MiB",
                        file=sys.stderr,
                        flush=True,
                    )
                    best = results[size].setdefault(case, r)
                    best["seconds"] = min(best["seconds"], r["seconds"])
                    best["rss_mib"] = max(best["rss_mib"], r["rss_mib"])
            path.unlink()

    def rate(size: int, case: str) -> float:
        return size / results[size][case]["seconds"]

    def rss(size: int, case: str) -> float:
        return results[size][case]["rss_mib"]

    n = f"{big:,} lines"
    rows += [
        Measurement(f"validate, line checks ({n})", rate(big, "validate"), "lines/s", "json.loads loop", rate(big, "baseline-read")),
        Measurement(f"validate --task object-detection ({n})", rate(big, "validate-od"), "lines/s", "json.loads loop", rate(big, "baseline-read")),
        Measurement(f"copy: read_manifest -> write_manifest ({n})", rate(big, "copy"), "lines/s", "json.loads/json.dumps loop", rate(big, "baseline-copy")),
        Measurement(f"peak RSS, validate object-detection ({n})", rss(big, "validate-od"), "MiB", "json.loads loop", rss(big, "baseline-read"), higher_is_better=False),
        Measurement(f"peak RSS, copy ({n})", rss(big, "copy"), "MiB", "json.loads/json.dumps loop", rss(big, "baseline-copy"), higher_is_better=False),
        Measurement(f"peak RSS growth, validate object-detection: {n}", rss(big, "validate-od"), "MiB", f"same at {small:,} lines", rss(small, "validate-od"), higher_is_better=False),
        Measurement(f"peak RSS growth, copy: {n}", rss(big, "copy"), "MiB", f"same at {small:,} lines", rss(small, "copy"), higher_is_better=False),
    ]
    return rows


if __name__ == "__main__":
    _child_main(sys.argv[1:])
