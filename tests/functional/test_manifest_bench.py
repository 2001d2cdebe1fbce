"""The manifest benchmark runs end to end at tiny sizes (no timings are asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import bench_manifest
from gtflow.manifest import validate_manifest


def test_generated_lines_are_valid_object_detection_lines(tmp_path: Path) -> None:
    path = tmp_path / "od.manifest"
    bench_manifest.generate(path, 50)
    lines = path.read_text().splitlines()
    assert len(lines) == 50 and len(set(lines)) == 50
    assert json.loads(lines[0])["source-ref"] == "s3://example-bucket/images/00000000.jpg"
    report = validate_manifest(path, task="object-detection", label_attribute=bench_manifest.ATTR, num_classes=bench_manifest.NUM_CLASSES)
    assert report.valid and report.problems == ()


def test_benchmark_runs_and_reports_every_figure_beside_a_baseline() -> None:
    rows = bench_manifest.run(sizes=(100, 400), rounds=1)
    assert len(rows) == 7
    assert all(r.figure > 0 and r.baseline_figure > 0 and r.baseline for r in rows)
    assert [r.unit for r in rows] == ["lines/s"] * 3 + ["MiB"] * 4
