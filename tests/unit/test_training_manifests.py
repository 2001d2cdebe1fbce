"""Training manifests: merge reviewed answers, replay, split, validate before writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtflow.errors import ManifestError, UsageError
from gtflow.training.manifests import (
    class_map_of,
    dumps_manifest,
    manifest_stats,
    merge_reviewed,
    read_manifest,
    replay_subset,
    split_train_validation,
    write_manifest,
)
from gtflow.training.records import DetectionRecord, parse_creation_date

EVENTS = Path(__file__).parent.parent / "events"
NAMES = ["circle", "ellipse", "square"]


def line(ref, classes, date=None, attr="bb", names=NAMES, **extra):
    anns = [{"class_id": c, "left": 1 + i, "top": 1, "width": 3, "height": 3} for i, c in enumerate(classes)]
    meta = {"class-map": {str(c): names[c] for c in set(classes)}, "type": "groundtruth/object-detection",
            "human-annotated": "yes"}
    if date:
        meta["creation-date"] = date
    return {"source-ref": ref, attr: {"image_size": [{"width": 20, "height": 20, "depth": 3}], "annotations": anns},
            f"{attr}-metadata": meta, **extra}


def test_contract_samples_parse():
    text = (EVENTS / "od_augmented_manifest_docs.jsonl").read_text()
    recs = [DetectionRecord.from_line(json.loads(t), "bounding-box", line_no=i)
            for i, t in enumerate(text.splitlines(), start=1)]
    assert recs[0].label.annotations[1].class_id == 5 and recs[0].class_map == {0: "dog", 5: "horse"}
    gt = json.loads((EVENTS / "gt_output_manifest_bbox_docs.json").read_text())
    rec = DetectionRecord.from_line(gt, "bounding-box-attribute-name")
    assert rec.creation_date is not None and rec.label.depth == 3 and len(rec.label.annotations) == 3


def test_creation_dates_from_gt_and_a2i():
    assert parse_creation_date("2019-01-29T13:31:14.845709").microsecond == 845709
    a2i = parse_creation_date("2020-03-05T10:00:00.123Z")
    assert a2i.tzinfo is None and a2i.microsecond == 123000
    assert parse_creation_date("yesterday") is None and parse_creation_date(None) is None


def test_newest_review_wins_and_old_lines_stay():
    prev = [line("s3://b/1", [0], "2026-01-01T00:00:00.000000"), line("s3://b/2", [1], "2026-01-01T00:00:00.000000")]
    rev = [line("s3://b/1", [2], "2026-02-01T00:00:00.000Z"),   # newer: replaces
           line("s3://b/2", [2], "2025-12-01T00:00:00.000Z"),   # older: ignored
           line("s3://b/3", [0, 1], "2026-02-01T00:00:00.000Z")]  # new image
    res = merge_reviewed(prev, rev, label_attribute="bb", class_map=dict(enumerate(NAMES)))
    by_ref = {r["source-ref"]: r for r in res.records}
    assert [r["source-ref"] for r in res.records] == ["s3://b/1", "s3://b/2", "s3://b/3"]
    assert by_ref["s3://b/1"]["bb"]["annotations"][0]["class_id"] == 2
    assert by_ref["s3://b/2"]["bb"]["annotations"][0]["class_id"] == 1
    assert res.added == ("s3://b/3",) and res.replaced == ("s3://b/1",) and res.ignored_reviews == ("s3://b/2",)
    assert res.class_map == {0: "circle", 1: "ellipse", 2: "square"} and res.num_classes == 3


def test_same_date_later_line_wins_and_duplicates_collapse():
    d = "2026-01-01T00:00:00.000000"
    res = merge_reviewed([line("s3://b/1", [0], d), line("s3://b/1", [1], d)],
                         [line("s3://b/1", [2], d), line("s3://b/1", [0], d)], label_attribute="bb",
                         class_map=dict(enumerate(NAMES)))
    assert len(res.records) == 1 and res.records[0]["bb"]["annotations"][0]["class_id"] == 0
    assert res.replaced == ("s3://b/1",)


def test_reviewed_classes_map_by_name_and_new_classes_need_permission():
    prev = [line("s3://b/1", [0, 1])]
    # the review numbers classes differently: "square" is 0 there
    rev = [line("s3://b/2", [0], "2026-01-01T00:00:00Z", names=["square", "circle"])]
    with pytest.raises(ManifestError, match="'square' is not in the training class map") as ei:
        merge_reviewed(prev, rev, label_attribute="bb")
    assert ei.value.line == 1
    res = merge_reviewed(prev, rev, label_attribute="bb", allow_new_classes=True)
    assert res.class_map == {0: "circle", 1: "ellipse", 2: "square"}
    assert res.records[1]["bb"]["annotations"][0]["class_id"] == 2
    assert res.records[1]["bb-metadata"]["class-map"] == {"2": "square"}
    # with the class in a given class map it maps by name, no permission needed
    res = merge_reviewed(prev, [line("s3://b/2", [1], "2026-01-01T00:00:00Z", names=["square", "circle"])],
                         label_attribute="bb", class_map={0: "circle", 1: "ellipse", 2: "square"})
    assert res.records[1]["bb"]["annotations"][0]["class_id"] == 0


def test_reviewed_attribute_is_renamed():
    rev = [line("s3://b/9", [1], "2026-01-01T00:00:00Z", attr="a2i-retraining")]
    res = merge_reviewed([line("s3://b/1", [0, 1])], rev, label_attribute="bb",
                         reviewed_label_attribute="a2i-retraining")
    new = res.records[1]
    assert "a2i-retraining" not in new and "a2i-retraining-metadata" not in new
    assert new["bb"]["annotations"][0]["class_id"] == 1 and new["bb-metadata"]["human-annotated"] == "yes"


def test_conflicting_previous_class_maps_are_errors():
    bad = [line("s3://b/1", [0]), line("s3://b/2", [0], names=["square"])]
    with pytest.raises(ManifestError, match="class id 0"):
        merge_reviewed(bad, [], label_attribute="bb")


def test_replay_is_deterministic_and_keeps_changed():
    recs = [{"source-ref": f"s3://b/{i}"} for i in range(50)]
    changed = ["s3://b/3", "s3://b/7"]
    a = replay_subset(recs, changed, 2.0, seed=1)
    assert a == replay_subset(recs, changed, 2.0, seed=1)
    refs = [r["source-ref"] for r in a]
    assert len(refs) == 6 and set(changed) <= set(refs)
    assert refs == sorted(refs, key=lambda r: int(r.rsplit("/", 1)[1]))  # manifest order kept
    assert replay_subset(recs, changed, 2.0, seed=2) != a
    assert len(replay_subset(recs, changed, None)) == 50 and len(replay_subset(recs, changed, 0)) == 2
    assert len(replay_subset(recs, changed, 1000)) == 50
    with pytest.raises(UsageError):
        replay_subset(recs, changed, -1)


def test_split_is_stable_when_the_manifest_grows():
    recs = [{"source-ref": f"s3://b/{i}.png"} for i in range(300)]
    t1, v1 = split_train_validation(recs[:200], 0.2)
    t2, v2 = split_train_validation(recs, 0.2)
    assert {r["source-ref"] for r in v1} <= {r["source-ref"] for r in v2}
    assert not {r["source-ref"] for r in v2} & {r["source-ref"] for r in t2}
    assert 40 < len(v2) < 80
    with pytest.raises(UsageError):
        split_train_validation(recs, 1.0)


def test_write_validates_first(local_store):
    recs = [line("s3://b/1", [0, 2])]
    write_manifest(local_store, "s3://bucket/m/train.manifest", recs, label_attribute="bb", num_classes=3)
    assert read_manifest(local_store, "s3://bucket/m/train.manifest") == recs
    with pytest.raises(ManifestError) as ei:
        write_manifest(local_store, "s3://bucket/m/bad.manifest", recs, label_attribute="bb", num_classes=2)
    assert ei.value.line == 1 and "class_id" in (ei.value.field or "") + ei.value.message
    assert not local_store.exists("s3://bucket/m/bad.manifest")
    outside = [line("s3://b/1", [0])]
    outside[0]["bb"]["annotations"][0]["width"] = 40
    with pytest.raises(ManifestError):
        write_manifest(local_store, "s3://bucket/m/bad.manifest", outside, label_attribute="bb", num_classes=3)


def test_read_reports_bad_lines(local_store):
    local_store.put_text("s3://bucket/x.manifest", dumps_manifest([line("s3://b/1", [0])]) + "{oops\n")
    with pytest.raises(ManifestError) as ei:
        read_manifest(local_store, "s3://bucket/x.manifest")
    assert ei.value.line == 2


def test_stats_and_class_map():
    recs = [line("s3://b/1", [0, 1, 1]), line("s3://b/2", [2])]
    st = manifest_stats(recs, "bb")
    assert (st.num_images, st.num_boxes, st.max_boxes_per_image, st.label_width) == (2, 4, 3, 17)
    assert st.boxes_per_class == {0: 1, 1: 2, 2: 1} and st.num_classes == 3
    assert class_map_of(recs, "bb") == {0: "circle", 1: "ellipse", 2: "square"}


def test_a2i_answers_merge_with_boxes_clipped_to_the_image():
    from gtflow.a2i.convert import to_manifest_line
    from gtflow.wire.a2i import HumanLoopOutput

    out = HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/fd",
        "humanLoopName": "loop-1", "inputContent": {"taskObject": "s3://b/1"},
        "humanAnswers": [{"answerContent": {"annotatedResult": {"boundingBoxes": [
            {"label": "square", "left": 15, "top": 2, "width": 10, "height": 4},    # leaves the 20 px image
            {"label": "circle", "left": 30, "top": 30, "width": 5, "height": 5},    # wholly outside
            {"label": "ellipse", "left": 2, "top": 2, "width": 5, "height": 5}],
            "inputImageProperties": {"height": 20, "width": 20}}},
            "submissionTime": "2026-03-01T10:00:00.000Z", "workerId": "w1"}]})
    rev = to_manifest_line(out, dict(enumerate(NAMES)), "a2i-retraining")
    res = merge_reviewed([line("s3://b/1", [0], "2026-01-01T00:00:00.000000")], [rev], label_attribute="bb",
                         reviewed_label_attribute="a2i-retraining", class_map=dict(enumerate(NAMES)))
    assert res.replaced == ("s3://b/1",)
    rec = res.records[0]
    assert rec["bb"]["annotations"] == [
        {"class_id": 2, "left": 15, "top": 2, "width": 5, "height": 4},
        {"class_id": 1, "left": 2, "top": 2, "width": 5, "height": 5}]
    assert len(rec["bb-metadata"]["objects"]) == 2
    assert rec["bb-metadata"]["job-name"] == "a2i/loop-1"


def test_merge_counts_clipped_and_dropped_reviewer_boxes() -> None:
    from gtflow.training.manifests import merge_reviewed

    def line(ref, boxes):
        return {"source-ref": ref, "bb": {"image_size": [{"width": 10, "height": 10, "depth": 3}], "annotations": [
            {"class_id": 0, "left": x, "top": y, "width": w, "height": h} for x, y, w, h in boxes]},
            "bb-metadata": {"class-map": {"0": "a"}, "objects": [{"confidence": 1}] * len(boxes)}}

    res = merge_reviewed([], [line("s3://b/1.jpg", [(8, 8, 5, 5), (1, 1, 2, 2)]),  # one clipped
                              line("s3://b/2.jpg", [(20, 20, 3, 3)])],  # wholly outside: dropped, review emptied
                         label_attribute="bb", class_map={0: "a"})
    assert (res.clipped_boxes, res.dropped_boxes, res.emptied_reviews) == (1, 1, ("s3://b/2.jpg",))
    assert res.records[0]["bb"]["annotations"][0] == {"class_id": 0, "left": 8, "top": 8, "width": 2, "height": 2}
    assert res.records[1]["bb"]["annotations"] == [] and res.records[1]["bb-metadata"]["objects"] == []
