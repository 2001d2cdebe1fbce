"""The manifest samples from the contracts pass validation; broken copies fail at the right line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gtflow.manifest import read_manifest, validate_manifest, write_manifest

EVENTS = Path(__file__).parent
OD = EVENTS / "od_augmented_manifest_docs.jsonl"
GT = EVENTS / "gt_output_manifest_docs_compacted.jsonl"
DOCS_JSON = [
    "gt_output_manifest_bbox_docs.json",
    "gt_output_manifest_bbox_adjustment_docs.json",
    "gt_output_manifest_image_classification_docs.json",
    "gt_output_manifest_image_classification_multilabel_docs.json",
    "gt_output_manifest_label_verification_docs.json",
]


def test_compacted_fixture_is_the_docs_samples_line_by_line() -> None:
    records = [m.record for m in read_manifest(GT)]
    assert records == [json.loads((EVENTS / name).read_text()) for name in DOCS_JSON]
    for name in DOCS_JSON:
        assert (EVENTS / name.replace(".json", ".source.txt")).exists()


@pytest.mark.parametrize("path", [OD, GT], ids=lambda p: p.name)
def test_samples_are_valid_manifests(path: Path) -> None:
    report = validate_manifest(path)
    assert report.valid, report.format_lines()


def test_od_sample_passes_the_training_lint() -> None:
    report = validate_manifest(OD, task="object-detection", label_attribute="bounding-box", num_classes=6, empty_policy="error", label_width=350)
    assert report.valid and report.problems == ()
    assert report.max_boxes == 2 and report.min_label_width == 12
    assert report.class_map == {"0": "dog", "1": "cat", "5": "horse"}


def test_gt_bbox_docs_sample_passes_the_training_lint(tmp_path: Path) -> None:
    # Lines 1 and 5 are bounding-box outputs with the same attribute; the adjustment line (2)
    # holds two box attributes, so the lint runs on a copy with lines 1 and 5.
    recs = [m.record for m in read_manifest(GT) if m.line in (1, 5)]
    path = tmp_path / "bbox.manifest"
    write_manifest(path, recs)
    report = validate_manifest(path, task="object-detection", label_attribute="bounding-box-attribute-name", num_classes=6)
    assert report.valid and report.problems == ()
    adjusted = validate_manifest(GT, task="object-detection", label_attribute="adjusted-bounding-box")
    # only line 2 carries the adjusted attribute: every other line lacks it
    assert [(p.line, p.field) for p in adjusted.errors] == [(n, "adjusted-bounding-box") for n in (1, 3, 4, 5)]
    assert [(p.line, p.field) for p in adjusted.problems if p.severity == "warning"] == [(2, "source-ref")]


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines))
    return path


def od_records() -> list[dict[str, Any]]:
    return [m.record for m in read_manifest(OD)]


def broken_copy(tmp_path: Path, line: int, change: Any) -> Path:
    recs: list[Any] = od_records() * 3  # 6 lines
    recs = [json.loads(json.dumps(r)) for r in recs]
    out = change(recs[line - 1])
    if out is not None:
        recs[line - 1] = out
    return write_lines(tmp_path / "broken.manifest", recs)


def lint(path: Path) -> Any:
    return validate_manifest(path, task="object-detection", label_attribute="bounding-box", num_classes=6)


def test_bad_json_on_one_line(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, 4, lambda r: json.dumps(r).encode()[:-5])
    report = lint(path)
    assert [(p.line, p.field) for p in report.errors] == [(4, "")]
    assert report.format_lines()[0].startswith(f"{path}:4: not valid JSON")


def test_box_outside_the_image(tmp_path: Path) -> None:
    def change(r: dict) -> None:
        r["bounding-box"]["annotations"][1]["left"] = 450  # + width 80 > 500

    report = lint(broken_copy(tmp_path, 3, change))
    assert [(p.line, p.field) for p in report.errors] == [(3, "bounding-box.annotations[1].width")]
    assert "outside the image (width 500)" in report.errors[0].message


def test_class_id_out_of_range(tmp_path: Path) -> None:
    def change(r: dict) -> None:
        r["bounding-box"]["annotations"][0]["class_id"] = 6

    report = lint(broken_copy(tmp_path, 6, change))
    assert [(p.line, p.field) for p in report.errors] == [(6, "bounding-box.annotations[0].class_id")]


def test_missing_image_size(tmp_path: Path) -> None:
    report = lint(broken_copy(tmp_path, 2, lambda r: r["bounding-box"].pop("image_size") and None))
    assert [(p.line, p.field) for p in report.errors] == [(2, "bounding-box.image_size")]


def test_over_long_line(tmp_path: Path) -> None:
    def change(r: dict) -> None:
        for i in range(6):
            r[f"note{i}"] = "x" * 19_000

    path = broken_copy(tmp_path, 5, change)
    report = lint(path)
    assert [(p.line, p.field) for p in report.errors] == [(5, "")]
    assert "Ground Truth allows 100,000" in report.errors[0].message
    assert validate_manifest(path).error_count == 1
