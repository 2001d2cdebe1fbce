"""Regression tests for the failures issue 14 lists, each on the real artifact that showed it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from gtflow.errors import UriError
from gtflow.handlers import invoke
from gtflow.manifest import manifest_stats, validate_manifest
from gtflow.payload_check import check_text
from gtflow.store import LocalStore
from gtflow.uris import S3Uri, validate_bucket
from gtflow.wire import OutputLabel, label_attributes
from gtflow.wire.gt_lambda import ConsolidationResponse
from gtflow.wire.task_types import TaskType, find_label_attributes

HERE = Path(__file__).parent


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (HERE / name).read_text().splitlines() if x.strip()]


def stats(name: str) -> dict[str, Any]:
    return manifest_stats(HERE / name).to_dict()


# -- "-metadata" keys that are not label metadata ---------------------------------------------

NOT_LABELS = [
    ("manifest_custom_pdf_entities_annotator_metadata.manifest", "annotator-metadata",
     ["legal-entity-label-job-labeling-job-20220104T172242"]),
    ("manifest_rekognition_custom_labels_cl_metadata.manifest", "cl-metadata", ["camellia", "with_leaves"]),
    ("docs_point_cloud_object_detection_source_ref_metadata.manifest", "source-ref-metadata", ["3d-bounding-box"]),
]


@pytest.mark.parametrize(("name", "key", "labels"), NOT_LABELS)
def test_data_keys_ending_in_metadata_are_not_labels(name: str, key: str, labels: list[str]) -> None:
    for line in lines(name):
        assert key in line
        # the wire API: the right labels, and every one of them parses
        assert label_attributes(line) == labels
        for attr in labels:
            OutputLabel.from_line(line, attr)
    # manifest validate agrees with the wire API, and so does payload check
    assert validate_manifest(HERE / name).valid
    report = check_text((HERE / name).read_text(), path=name)
    assert report.valid and report.faithful, report.format_lines()
    assert {a.attribute for i in report.items for a in i.labels} == set(labels)
    # and stats does not count them
    assert stats(name)["taskTypes"].get("unknown") is None


# -- manifest stats counts each task type in its own terms ------------------------------------


def test_stats_semantic_segmentation_counts_masks_not_mask_uris() -> None:
    name = "manifest_lookout_classification_and_mask.manifest"
    mask = lines(name)[0]["anomaly-mask-ref"]
    s = stats(name)
    assert mask not in s["labels"]
    assert s["labels"] == {"anomaly": 1, "normal": 1}
    assert s["masks"] == 1 and s["taskTypes"]["semantic-segmentation"] == 1


def test_stats_video_counts_sequences_not_seqlabel_uris() -> None:
    name = "manifest_video_object_tracking_nfl.manifest"
    line = lines(name)[0]
    s = stats(name)
    assert line["Person-ref"].endswith("SeqLabel.json")
    assert s["labels"] == {} and s["sequences"] == 2
    assert s["taskTypes"] == {"video-object-tracking": 2}


def test_stats_ner_counts_entities_not_images_with_zero_boxes() -> None:
    s = stats("manifest_ner_text_span_comprehend.manifest")
    assert s["boxesPerImage"] == {} and s["boxes"] == 0
    assert s["entities"] == {"Date": 2, "Location": 2, "Person": 1}
    assert s["taskTypes"] == {"named-entity-recognition": 2}
    assert s["confidenceHistogram"]  # the entities' confidences are counted


def test_stats_point_cloud_cuboids_by_class_name() -> None:
    s = stats("docs_point_cloud_object_detection_source_ref_metadata.manifest")
    assert s["cuboids"] == {"Car": 2}
    assert "None" not in s["labels"] and s["labels"] == {}


def test_stats_object_detection_is_unchanged() -> None:
    s = stats("manifest_bounding_box_logos_with_empty.manifest")
    assert s["labels"] == {"BCBS": 3}
    assert s["boxesPerImage"] == {"0": 1, "1": 1, "2": 1}


def test_task_types_of_every_documented_type() -> None:
    found = {a.task_type for name in ("docs_point_cloud_semantic_segmentation.manifest",
                                      "docs_point_cloud_object_tracking.manifest",
                                      "docs_semantic_segmentation_verification.manifest",
                                      "docs_video_object_detection_legacy_bucket.manifest",
                                      "manifest_text_classification_multilabel.manifest",
                                      "docs_custom_bounding_box_demo_output.manifest")
             for line in lines(name) for a in find_label_attributes(line)}
    assert found == {TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION, TaskType.POINT_CLOUD_OBJECT_TRACKING,
                     TaskType.SEMANTIC_SEGMENTATION, TaskType.LABEL_VERIFICATION,
                     TaskType.VIDEO_OBJECT_DETECTION, TaskType.TEXT_CLASSIFICATION_MULTILABEL, TaskType.CUSTOM}


# -- post/classification on text objects --------------------------------------------------------


def _classify(tmp_path: Path, data_object: dict[str, str], answers: list[Any], categories: list[str]) -> dict[str, Any]:
    store = LocalStore(tmp_path)
    event = json.loads((HERE / "docs_post_annotation_event_lambda_test.json").read_text())
    event["labelCategories"] = categories
    request = [{"datasetObjectId": "0", "dataObject": data_object, "annotations": [
        {"workerId": f"private.us-east-1.w{i}", "annotationData": {"content": json.dumps({"crowd-classifier": a})}}
        for i, a in enumerate(answers)]}]
    store.put_text(event["payload"]["s3Uri"], json.dumps(request))
    response = invoke("post/classification", event, store=store)
    item = ConsolidationResponse.from_list(response).items[0]
    return dict(item.consolidated_annotation.content)


@pytest.mark.parametrize(("name", "answers"), [
    ("manifest_text_classification_single.manifest", [{"label": "joy"}]),
    ("manifest_text_classification_multilabel.manifest", [{"labels": ["optimism", "joy"]}]),
])
def test_post_classification_writes_text_classification_for_text(tmp_path: Path, name: str, answers: list[Any]) -> None:
    real = lines(name)[0]
    attr = find_label_attributes(real)[0]
    content = _classify(tmp_path, {"content": real["source"]}, answers, ["sadness", "optimism", "anger", "fear", "surprise", "joy"])
    meta = content["example-attribute-metadata"]
    want = real[attr.metadata_key]
    assert meta["type"] == want["type"]  # groundtruth/text-classification(-multilabel), as GT writes it
    assert list(meta) == list(want)  # the same keys in the same order as the real line
    line = {"source": real["source"], **content}
    assert check_text(json.dumps(line) + "\n").items[0].labels[0].task_type.value == want["type"].split("/")[1]


def test_post_classification_keeps_image_classification_for_images(tmp_path: Path) -> None:
    real = lines("manifest_image_classification_birds.manifest")[0]
    content = _classify(tmp_path, {"s3Uri": real["source-ref"]}, [{"label": "Cardinal"}], ["Blue_Jay", "Cardinal"])
    assert content["example-attribute-metadata"]["type"] == real["label-metadata"]["type"]
    assert content["example-attribute"] == real["label"]


# -- legacy bucket names --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["docs_video_input_manifest_legacy_bucket.manifest",
                                  "manifest_bounding_box_textract_pipeline_legacy_bucket.manifest"])
def test_legacy_bucket_is_read(tmp_path: Path, name: str) -> None:
    uri = lines(name)[0]["source-ref"]
    u = S3Uri.parse(uri)
    assert (u.bucket, u.is_legacy) == ("DOC-EXAMPLE-BUCKET", True)
    assert validate_manifest(HERE / name).valid
    report = check_text((HERE / name).read_text(), path=name)
    assert report.faithful and "legacy name" in report.items[0].notes[0]
    store = LocalStore(tmp_path)
    store.put_text(uri, '{"seq-no": 1}')
    assert json.loads(store.get_text(uri)) == {"seq-no": 1}
    assert [o.uri for o in store.list(str(S3Uri.parse(uri).parent))] == [uri]


def test_legacy_bucket_is_never_created(tmp_path: Path) -> None:
    with pytest.raises(UriError):
        validate_bucket("DOC-EXAMPLE-BUCKET")
    with pytest.raises(UriError):
        S3Uri.parse("s3://DOC-EXAMPLE-BUCKET/x", strict=True)


def test_post_handler_reads_a_request_in_a_legacy_bucket(tmp_path: Path) -> None:
    real = lines("manifest_text_classification_single.manifest")[0]
    store = LocalStore(tmp_path)
    event = json.loads((HERE / "docs_post_annotation_event_lambda_test.json").read_text())
    event["payload"]["s3Uri"] = "s3://DOC-EXAMPLE-BUCKET/out/annotations/consolidation-request/iteration-1/2020-08-18_05:14:21.json"
    store.put_text(event["payload"]["s3Uri"], json.dumps([{"datasetObjectId": "0", "dataObject": {"content": real["source"]},
        "annotations": [{"workerId": "w", "annotationData": {"content": '{"c": {"label": "joy"}}'}}]}]))
    out = invoke("post/classification", event, store=store)
    assert out[0]["consolidatedAnnotation"]["content"]["example-attribute-metadata"]["class-name"] == "joy"


@pytest.mark.parametrize("bad", ["s3://../x", "s3://.hidden/x", "s3://a/x", "s3://" + "a" * 256 + "/x", "s3://a b/x"])
def test_legacy_tolerance_has_limits(bad: str) -> None:
    with pytest.raises(UriError):
        S3Uri.parse(bad)


def test_stats_agree_with_payload_check_on_label_attributes() -> None:
    for name in sorted(p.name for p in HERE.glob("*.manifest")):
        report = check_text((HERE / name).read_text(), path=name)
        by_check = sum(len(i.labels) for i in report.items)
        assert sum(stats(name)["taskTypes"].values()) == by_check, name
        assert isinstance(manifest_stats(io.BytesIO((HERE / name).read_bytes())).lines, int)


# -- manifest validate and the wire API give one verdict -------------------------------------------

MANIFESTS = sorted(p.name for p in HERE.glob("*.manifest"))


def _wire_verdict(line: dict[str, Any]) -> bool:
    try:
        for label in find_label_attributes(line):
            OutputLabel.from_line(line, label.attribute)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("name", MANIFESTS)
def test_validate_labels_agrees_with_the_wire_api(name: str, tmp_path: Path) -> None:
    good = lines(name)
    # break the first label of each line: "human-annotated": true (GT writes the string "yes")
    broken = []
    for line in good:
        for label in find_label_attributes(line):
            broken.append({**line, label.metadata_key: {**line[label.metadata_key], "human-annotated": True}})
            break
    for sample in (good, broken):
        path = tmp_path / "m.manifest"
        path.write_text("".join(json.dumps(x) + "\n" for x in sample))
        report = validate_manifest(path, labels=True)
        bad_lines = {p.line for p in report.problems if p.severity == "error"}
        for n, line in enumerate(sample, 1):
            assert (n not in bad_lines) == _wire_verdict(line), (name, n, report.format_lines())
    if broken:
        assert not validate_manifest(tmp_path / "m.manifest", labels=True).valid
        assert validate_manifest(tmp_path / "m.manifest").valid  # without --labels: line checks only


def test_stats_cli_prints_each_task_type_in_its_terms(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gtflow.cli import cli

    def run(name: str) -> str:
        r = CliRunner().invoke(cli, ["--root", str(tmp_path), "manifest", "stats", str(HERE / name)], catch_exceptions=False)
        assert r.exit_code == 0
        return r.stdout

    ner = run("manifest_ner_text_span_comprehend.manifest")
    assert "named-entity-recognition (2)" in ner and "entities per label" in ner and "boxes per image" not in ner
    assert "cuboids per class" in run("docs_point_cloud_object_detection_source_ref_metadata.manifest")
    assert "2 sequences" in run("manifest_video_object_tracking_nfl.manifest")
    assert "1 masks" in run("manifest_lookout_classification_and_mask.manifest")
