"""A2I output.json samples -> typed answers -> object-detection augmented manifest lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gtflow.a2i import find_answer_field, from_a2i, parse_output, to_manifest_line
from gtflow.a2i.convert import ConversionReport, convert_outputs
from gtflow.errors import ContractError, UsageError
from gtflow.manifest import validate_manifest
from tests.conftest import event

# The live output of the A2I object-detection sample ([CATW] cell 48, CONTRACTS.md 4.5).
CATW = {
    "flowDefinitionArn": "arn:aws:sagemaker:us-west-2:518460648208:flow-definition/fd-sagemaker-object-detection-demo-2021-05-06-21-25-37",
    "humanAnswers": [
        {
            "acceptanceTime": "2021-05-06T21:27:21.938Z",
            "answerContent": {"annotatedResult": {
                "boundingBoxes": [{"height": 427, "label": "motorbike", "left": 3137, "top": 1481, "width": 618}],
                "inputImageProperties": {"height": 2497, "width": 4340}}},
            "submissionTime": "2021-05-06T21:28:24.990Z",
            "timeSpentInSeconds": 63.052,
            "workerId": "175483ba8d350d0d",
            "workerMetadata": {"identityData": {"identityProviderType": "Cognito",
                                                "issuer": "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_qWDTfyNAm",
                                                "sub": "4382a79d-0000"}},
        }
    ],
    "humanLoopName": "2b2b07bb-7bfc-40b9-ab3a-7995c0fa04d6",
    "inputContent": {"initialValue": "motorbike", "taskObject": "s3://sagemaker-us-west-2-518460648208/a2i-results/pexels-photo-980382.jpeg"},
}
VOC = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
       "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]


def test_catw_output_becomes_the_documented_line():
    out = parse_output(json.dumps(CATW), "mem://output.json")
    line = to_manifest_line(out, dict(enumerate(VOC)), "a2i-retraining")
    assert line["source-ref"] == CATW["inputContent"]["taskObject"]
    assert line["a2i-retraining"] == {
        "annotations": [{"class_id": 13, "width": 618, "top": 1481, "height": 427, "left": 3137}],
        "image_size": [{"width": 4340, "depth": 3, "height": 2497}],
    }
    meta = line["a2i-retraining-metadata"]
    assert meta["job-name"] == "a2i/2b2b07bb-7bfc-40b9-ab3a-7995c0fa04d6"
    assert meta["class-map"] == {str(i): n for i, n in enumerate(VOC)}  # all classes
    assert meta["human-annotated"] == "yes"
    assert meta["objects"] == [{"confidence": 1}]
    assert meta["creation-date"] == "2021-05-06T21:28:24.990Z"  # keeps Z and milliseconds
    assert meta["type"] == "groundtruth/object-detection"


@pytest.mark.parametrize("sample", ["crowd_bounding_box_output_single.json", "crowd_bounding_box_output_multi_label_multi_box.json"])
def test_crowd_element_samples_as_answers_under_either_field_name(sample):
    content = json.loads(event(sample).read_text())[0]  # the docs wrap it in a list
    for fieldname in ("annotatedResult", "boundingBox"):
        answer = {fieldname: content["annotatedResult"]}
        assert find_answer_field(answer) == fieldname
        doc = copy.deepcopy(CATW)
        doc["humanAnswers"][0]["answerContent"] = answer
        line = to_manifest_line(parse_output(json.dumps(doc), "x"), {0: "Dog", 1: "Cat"}, "bb")
        assert len(line["bb"]["annotations"]) == len(content["annotatedResult"]["boundingBoxes"])
        assert line["bb"]["image_size"] == [{"width": 800, "depth": 3, "height": 533}]


def test_all_workers_are_kept_and_first_or_last_is_chosen():
    doc = copy.deepcopy(CATW)
    second = copy.deepcopy(doc["humanAnswers"][0])
    second.update(workerId="w2", submissionTime="2021-05-06T21:20:00.000Z")  # submitted earlier
    second["answerContent"]["annotatedResult"]["boundingBoxes"] = []
    doc["humanAnswers"].append(second)
    out = parse_output(json.dumps(doc), "x")
    assert [a.worker_id for a in out.human_answers] == ["175483ba8d350d0d", "w2"]
    assert len(out.answers_for("annotatedResult")) == 2
    first = to_manifest_line(out, dict(enumerate(VOC)), "bb", worker="first")
    last = to_manifest_line(out, dict(enumerate(VOC)), "bb", worker="last")
    assert first["bb"]["annotations"] == [] and len(last["bb"]["annotations"]) == 1


@pytest.mark.parametrize("name", ["a2i_output_custom_docs.json", "a2i_output_rekognition_docs.json", "a2i_output_textract_docs.json"])
def test_other_task_types_parse_and_are_skipped_with_a_reason(name):
    out = parse_output(event(name).read_bytes(), name)
    assert out.human_answers
    report = ConversionReport()
    assert list(convert_outputs([out], {0: "a"}, "bb", report=report)) == []
    assert len(report.skipped) == 1
    with pytest.raises(ContractError):
        to_manifest_line(out, {0: "a"}, "bb")


def test_unknown_label_and_missing_size_name_the_loop_and_field():
    doc = copy.deepcopy(CATW)
    with pytest.raises(ContractError) as e:
        to_manifest_line(parse_output(json.dumps(doc), "x"), {0: "cat"}, "bb")
    assert e.value.path == CATW["humanLoopName"]
    assert e.value.field == "answerContent.annotatedResult.boxes[0].label" and "motorbike" in e.value.message
    del doc["humanAnswers"][0]["answerContent"]["annotatedResult"]["inputImageProperties"]
    with pytest.raises(ContractError) as e:
        to_manifest_line(parse_output(json.dumps(doc), "x"), dict(enumerate(VOC)), "bb")
    assert e.value.field == "answerContent.annotatedResult.inputImageProperties"
    assert "missing" in e.value.message


def write_outputs(root: Path, n: int) -> None:
    for i in range(n):
        doc = copy.deepcopy(CATW)
        doc["humanLoopName"] = f"loop-{i}"
        doc["inputContent"]["taskObject"] = f"s3://bucket/img{i}.jpg"
        ar = doc["humanAnswers"][0]["answerContent"]["annotatedResult"]
        if i == 0:
            ar["boundingBoxes"] = []
        d = root / "fd" / "2021/05/06/21/25/42" / f"loop-{i}"
        d.mkdir(parents=True)
        (d / "output.json").write_text(json.dumps(doc))
    (root / "fd" / "notes.txt").write_text("not an output")


def test_from_a2i_folder_to_a_valid_training_manifest(tmp_path: Path):
    write_outputs(tmp_path / "a2i", 3)
    (tmp_path / "classes.json").write_text(json.dumps({str(i): n for i, n in enumerate(VOC)}))
    out = tmp_path / "train.manifest"
    report = from_a2i(str(tmp_path / "a2i"), str(out), label_attribute="a2i-retraining", class_map=tmp_path / "classes.json")
    assert (report.lines, report.empty, report.skipped) == (3, 1, [])
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["source-ref"] for x in lines] == [f"s3://bucket/img{i}.jpg" for i in range(3)]
    v = validate_manifest(str(out), task="object-detection", label_attribute="a2i-retraining", num_classes=len(VOC))
    assert v.valid, v.format_lines()
    again = tmp_path / "again.manifest"
    from_a2i(str(tmp_path / "a2i"), str(again), label_attribute="a2i-retraining", class_map=tmp_path / "classes.json")
    assert again.read_bytes() == out.read_bytes()  # reruns write the same file
    skip = from_a2i(str(tmp_path / "a2i"), str(tmp_path / "s.manifest"), label_attribute="a2i-retraining", class_map=dict(enumerate(VOC)), skip_empty=True)
    assert skip.lines == 2


def test_from_a2i_refuses_bad_label_attributes(tmp_path: Path):
    write_outputs(tmp_path / "a2i", 1)
    with pytest.raises(UsageError):
        from_a2i(str(tmp_path / "a2i"), str(tmp_path / "o"), label_attribute="a2i_retraining", class_map=["a"])
    assert not (tmp_path / "o").exists()
