"""validate_manifest: line checks and the SageMaker Object Detection lint."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gtflow.errors import UsageError
from gtflow.manifest import Problem, ValidationReport, read_manifest, validate_manifest

ATTR = "bounding-box"


def od_line(boxes: int = 1, *, size: tuple[int, int] = (500, 400), class_id: int = 0, **over: Any) -> dict[str, Any]:
    anns = [{"class_id": class_id, "left": 10 + i, "top": 20, "width": 30, "height": 40} for i in range(boxes)]
    rec: dict[str, Any] = {
        "source-ref": "s3://bucket/img.jpg",
        ATTR: {"image_size": [{"width": size[0], "height": size[1], "depth": 3}], "annotations": anns},
        f"{ATTR}-metadata": {
            "objects": [{"confidence": 0.9} for _ in range(boxes)],
            "class-map": {str(class_id): "dog"} if boxes else {},
            "type": "groundtruth/object-detection",
            "human-annotated": "yes",
        },
    }
    rec.update(over)
    return rec


def data(*records: Any) -> io.BytesIO:
    out = []
    for r in records:
        out.append(r if isinstance(r, bytes) else json.dumps(r).encode())
    return io.BytesIO(b"\n".join(out) + b"\n")


def od(*records: Any, **kw: Any) -> ValidationReport:
    kw.setdefault("label_attribute", ATTR)
    return validate_manifest(data(*records), task="object-detection", **kw)


def errors(report: ValidationReport) -> list[tuple[int | None, str]]:
    return [(p.line, p.field) for p in report.problems if p.severity == "error"]


# -- any manifest ----------------------------------------------------------------------------
def test_valid_input_manifest() -> None:
    report = validate_manifest(data({"source-ref": "s3://bucket/a.jpg"}, {"source": "text"}))
    assert report.valid and report.lines == 2 and report.problems == ()


def test_every_bad_line_is_reported_with_its_number() -> None:
    report = validate_manifest(
        data({"source": "ok"}, b'{"source": "x",}', b"[1]", {"other": 1}, {"$x": 1, "source": "y"}, b"", {"source": "z"})
    )
    assert not report.valid
    assert [(p.line, p.field) for p in report.problems] == [
        (2, ""),
        (3, ""),
        (4, "source-ref"),
        (5, "$x"),
        (6, ""),
    ]
    assert "blank line" in report.problems[-1].message
    assert report.format_lines()[0].startswith("<stream>:2: not valid JSON")


def test_report_keeps_first_problems_and_counts_all() -> None:
    report = validate_manifest(data(*([b"nope"] * 30)), max_problems=5)
    assert report.error_count == 30 and len(report.problems) == 5 and report.truncated


def test_problem_format() -> None:
    assert Problem(3, "f", "bad").format("p") == "p:3: f: bad"
    assert Problem(3, "", "bad").format("p") == "p:3: bad"
    assert Problem(None, "label_width", "x", "warning").format("p") == "p: label_width: warning: x"


@pytest.mark.parametrize(
    "kw",
    [
        {"task": "segmentation"},
        {"empty_policy": "ignore"},
        {"num_classes": 0},
        {"label_width": 3},
        {"cleaned": "x.manifest"},
    ],
)
def test_bad_arguments_are_usage_errors(kw: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        validate_manifest(data({"source": "x"}), **kw)


# -- object detection ------------------------------------------------------------------------
def test_valid_od_manifest_and_figures() -> None:
    report = od(od_line(2), od_line(5, class_id=1), num_classes=2)
    assert report.valid, report.format_lines()
    assert report.boxes == 7 and report.max_boxes == 5 and report.max_boxes_line == 2
    assert report.min_label_width == 27 and report.min_num_classes == 2


def mutate(fn: Any) -> dict[str, Any]:
    rec = copy.deepcopy(od_line(2))
    fn(rec)
    return rec


BROKEN = [
    ("missing source-ref", lambda r: r.pop("source-ref"), "source-ref"),
    ("source-ref not a string", lambda r: r.update({"source-ref": 3}), "source-ref"),
    ("missing attribute", lambda r: r.pop(ATTR), ATTR),
    ("attribute not an object", lambda r: r.update({ATTR: [1]}), ATTR),
    ("missing image_size", lambda r: r[ATTR].pop("image_size"), f"{ATTR}.image_size"),
    ("image_size not a list of one", lambda r: r[ATTR].update(image_size={"width": 1}), f"{ATTR}.image_size"),
    ("image_size two entries", lambda r: r[ATTR]["image_size"].append({}), f"{ATTR}.image_size"),
    ("width zero", lambda r: r[ATTR]["image_size"][0].update(width=0), f"{ATTR}.image_size[0].width"),
    ("height float", lambda r: r[ATTR]["image_size"][0].update(height=400.0), f"{ATTR}.image_size[0].height"),
    ("depth missing", lambda r: r[ATTR]["image_size"][0].pop("depth"), f"{ATTR}.image_size[0].depth"),
    ("annotations missing", lambda r: r[ATTR].pop("annotations"), f"{ATTR}.annotations"),
    ("annotations not list", lambda r: r[ATTR].update(annotations={}), f"{ATTR}.annotations"),
    ("box not object", lambda r: r[ATTR]["annotations"].__setitem__(1, 5), f"{ATTR}.annotations[1]"),
    ("class_id missing", lambda r: r[ATTR]["annotations"][1].pop("class_id"), f"{ATTR}.annotations[1].class_id"),
    ("class_id string", lambda r: r[ATTR]["annotations"][0].update(class_id="0"), f"{ATTR}.annotations[0].class_id"),
    ("class_id negative", lambda r: r[ATTR]["annotations"][0].update(class_id=-1), f"{ATTR}.annotations[0].class_id"),
    ("class_id bool", lambda r: r[ATTR]["annotations"][0].update(class_id=True), f"{ATTR}.annotations[0].class_id"),
    ("left string", lambda r: r[ATTR]["annotations"][0].update(left="1"), f"{ATTR}.annotations[0].left"),
    ("left negative", lambda r: r[ATTR]["annotations"][0].update(left=-1), f"{ATTR}.annotations[0].left"),
    ("top negative", lambda r: r[ATTR]["annotations"][0].update(top=-3), f"{ATTR}.annotations[0].top"),
    ("zero width", lambda r: r[ATTR]["annotations"][0].update(width=0), f"{ATTR}.annotations[0].width"),
    ("zero height", lambda r: r[ATTR]["annotations"][0].update(height=0), f"{ATTR}.annotations[0].height"),
    ("right edge out", lambda r: r[ATTR]["annotations"][1].update(left=480), f"{ATTR}.annotations[1].width"),
    ("bottom edge out", lambda r: r[ATTR]["annotations"][0].update(top=380), f"{ATTR}.annotations[0].height"),
    ("objects misaligned", lambda r: r[f"{ATTR}-metadata"]["objects"].pop(), f"{ATTR}-metadata.objects"),
    ("objects not a list", lambda r: r[f"{ATTR}-metadata"].update(objects={}), f"{ATTR}-metadata.objects"),
    ("class-map not an object", lambda r: r[f"{ATTR}-metadata"].update({"class-map": [1]}), f"{ATTR}-metadata.class-map"),
    ("class-map key not an id", lambda r: r[f"{ATTR}-metadata"]["class-map"].update(dog="x"), f"{ATTR}-metadata.class-map.dog"),
]


@pytest.mark.parametrize("name,fn,field", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_line_is_an_error_at_its_line_and_field(name: str, fn: Any, field: str) -> None:
    report = od(od_line(), mutate(fn), od_line())
    assert not report.valid
    assert (2, field) in errors(report), report.format_lines()
    assert all(line == 2 for line, _ in errors(report)), report.format_lines()


def test_box_exactly_at_the_edge_is_inside() -> None:
    rec = od_line()
    rec[ATTR]["annotations"][0].update(left=470, top=360, width=30, height=40)
    assert od(rec).valid


def test_class_id_against_num_classes() -> None:
    report = od(od_line(class_id=4), num_classes=4)
    assert errors(report) == [(1, f"{ATTR}.annotations[0].class_id")]
    assert "num_classes is 4" in report.problems[0].message
    assert report.min_num_classes == 5
    assert od(od_line(class_id=3), num_classes=4).valid


def test_class_map_must_agree_across_lines() -> None:
    other = od_line()
    other[f"{ATTR}-metadata"]["class-map"] = {"0": "cat"}
    report = od(od_line(), od_line(), other)
    assert errors(report) == [(3, f"{ATTR}-metadata.class-map.0")]
    assert "line 1" in report.problems[0].message
    assert report.class_map == {"0": "dog"}


def test_same_name_under_two_ids_is_a_warning() -> None:
    report = od(od_line(class_id=0), od_line(class_id=1))
    assert report.valid and [p.field for p in report.problems] == [f"{ATTR}-metadata.class-map.1"]


def test_class_id_without_a_name_in_the_class_map_is_a_warning() -> None:
    rec = od_line()
    rec[f"{ATTR}-metadata"]["class-map"] = {"7": "dog"}
    report = od(rec)
    assert report.valid and report.warning_count >= 1


def test_metadata_is_optional_as_the_algorithm_ignores_it() -> None:
    rec = od_line()
    del rec[f"{ATTR}-metadata"]
    assert od(rec).valid


@pytest.mark.parametrize("policy,severity,valid", [("error", "error", False), ("warn", "warning", True), ("drop", "info", True)])
def test_images_without_boxes_follow_the_policy(policy: str, severity: str, valid: bool) -> None:
    report = od(od_line(), od_line(0), empty_policy=policy)
    assert report.valid is valid
    assert [(p.line, p.severity) for p in report.problems] == [(2, severity)]
    assert report.images_without_boxes == 1 and report.dropped == (1 if policy == "drop" else 0)


def test_drop_writes_a_cleaned_copy(tmp_path: Path) -> None:
    out = tmp_path / "clean.manifest"
    report = od(od_line(1), od_line(0), od_line(2), empty_policy="drop", cleaned=out)
    assert report.cleaned_path == str(out)
    kept = list(read_manifest(out))
    assert [len(m.record[ATTR]["annotations"]) for m in kept] == [1, 2]
    assert validate_manifest(out, task="object-detection", label_attribute=ATTR, empty_policy="error").valid


def test_no_cleaned_copy_of_an_invalid_manifest(tmp_path: Path) -> None:
    out = tmp_path / "clean.manifest"
    bad = od_line()
    del bad[ATTR]["image_size"]
    report = od(od_line(0), bad, empty_policy="drop", cleaned=out)
    assert not report.valid and report.cleaned_path is None
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_label_width_against_the_most_boxes() -> None:
    report = od(od_line(3), od_line(10), od_line(4), label_width=50)
    assert errors(report) == [(2, "label_width")]
    assert "label_width >= 52" in report.problems[0].message
    assert od(od_line(10), label_width=52).valid


def test_default_label_width_warns_when_too_small() -> None:
    report = od(od_line(70))
    assert report.valid and report.min_label_width == 352
    assert [(p.field, p.severity) for p in report.problems] == [("label_width", "warning")]


@pytest.mark.parametrize("attr", ["my_boxes", "boxes-ref", "boxes-metadata"])
def test_label_attribute_must_be_usable_in_attribute_names(attr: str) -> None:
    rec = od_line()
    rec[attr] = rec.pop(ATTR)
    report = od(rec, label_attribute=attr)
    assert (None, "label_attribute") in errors(report)


def test_label_attribute_is_inferred_when_there_is_one() -> None:
    report = validate_manifest(data(od_line()), task="object-detection")
    assert report.valid and report.label_attribute == ATTR


def test_ambiguous_label_attribute_is_an_error() -> None:
    rec = od_line()
    rec["adjusted"] = rec[ATTR]
    report = validate_manifest(data(rec), task="object-detection")
    assert errors(report) == [(1, "label_attribute")]
    assert "several" in report.problems[0].message


def test_warnings_for_depth_source_ref_and_type() -> None:
    rec = od_line(**{"source-ref": "images/a.jpg"})
    rec[ATTR]["image_size"][0]["depth"] = 1
    rec[f"{ATTR}-metadata"]["type"] = "groundtruth/object_detection"
    report = od(rec)
    assert report.valid
    assert sorted(p.field for p in report.problems) == sorted(
        ["source-ref", f"{ATTR}.image_size[0].depth", f"{ATTR}-metadata.type"]
    )


def test_report_to_dict_is_json() -> None:
    report = od(od_line(2), od_line(0), num_classes=3)
    out = json.loads(json.dumps(report.to_dict()))
    assert out["valid"] and out["maxBoxes"] == 2 and out["minLabelWidth"] == 12 and out["imagesWithoutBoxes"] == 1
    assert out["problems"][0]["line"] == 2
