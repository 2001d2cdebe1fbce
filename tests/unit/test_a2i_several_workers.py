"""A2I loops with TaskCount > 1: answers consolidated exactly as a labeling job's."""

from __future__ import annotations

import json

from gtflow.a2i.convert import ConversionReport, convert_outputs, to_manifest_line
from gtflow.consolidate import ConsolidationContext, consolidate_boxes, parse_request
from gtflow.wire.a2i import HumanLoopOutput

CLASSES = {0: "circle", 1: "square", 2: "triangle"}
SRC = "s3://bucket/img/1.png"


def _answer(wid: str, boxes: list[tuple[str, int, int, int, int]], t: str) -> dict:
    return {"answerContent": {"annotatedResult": {
        "boundingBoxes": [{"label": lab, "left": x, "top": y, "width": w, "height": h} for lab, x, y, w, h in boxes],
        "inputImageProperties": {"width": 200, "height": 100}}},
        "submissionTime": t, "workerId": wid, "timeSpentInSeconds": 12.5}


THREE = [
    _answer("w1", [("circle", 10, 10, 40, 40), ("square", 100, 20, 30, 30)], "2021-05-06T21:28:24.990Z"),
    _answer("w2", [("circle", 12, 11, 40, 38), ("square", 101, 22, 30, 29), ("triangle", 150, 50, 20, 20)],
            "2021-05-06T21:29:00.000Z"),
    _answer("w3", [("circle", 60, 60, 20, 20), ("square", 99, 21, 31, 30)], "2021-05-06T21:30:00.000Z"),
]


def _output(answers: list[dict], name: str = "loop-1") -> HumanLoopOutput:
    return HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanLoopName": name,
        "inputContent": {"taskObject": SRC}, "humanAnswers": answers})


def test_three_workers_consolidate_like_a_labeling_job() -> None:
    line = to_manifest_line(_output(THREE), CLASSES, "reviewed")
    # the same answers in a labeling job's consolidation request
    request = [{"datasetObjectId": "0", "dataObject": {"s3Uri": SRC}, "annotations": [
        {"workerId": a["workerId"], "annotationData": {"content": json.dumps(a["answerContent"])}} for a in THREE]}]
    ctx = ConsolidationContext("reviewed", job_name="job", label_categories=tuple(CLASSES.values()))
    job = consolidate_boxes(parse_request(request), ctx)[0]["consolidatedAnnotation"]["content"]
    assert line["reviewed"] == job["reviewed"]
    assert line["reviewed-metadata"]["objects"] == job["reviewed-metadata"]["objects"]
    # what the consolidation kept: circle and square (w1+w2 / all three), not w2's lone triangle
    labels = [a["class_id"] for a in line["reviewed"]["annotations"]]
    assert labels == [0, 1]
    agreement = [o["confidence"] for o in line["reviewed-metadata"]["objects"]]
    assert agreement[0] < agreement[1] <= 1.0  # 2 of 3 agreed on the circle, 3 of 3 on the square
    assert line["reviewed-metadata"]["job-name"] == "a2i/loop-1"
    assert line["reviewed-metadata"]["class-map"] == {"0": "circle", "1": "square", "2": "triangle"}
    assert line["reviewed-metadata"]["creation-date"] == "2021-05-06T21:30:00.000Z"  # the last answer


def test_first_and_last_still_available_and_one_answer_unchanged() -> None:
    first = to_manifest_line(_output(THREE), CLASSES, "r", worker="first")
    assert len(first["r"]["annotations"]) == 2 and first["r"]["annotations"][0]["left"] == 10
    one = _output(THREE[:1])
    assert to_manifest_line(one, CLASSES, "r") == to_manifest_line(one, CLASSES, "r", worker="first")


def test_disagreement_is_reported_and_excluded_workers_left_out() -> None:
    report = ConversionReport()
    agree = _output([THREE[0], _answer("w9", [("circle", 10, 10, 40, 40), ("square", 100, 20, 30, 30)], "2021-05-07T00:00:00Z")],
                    "loop-agree")
    lines = list(convert_outputs([_output(THREE), agree], CLASSES, "r", report=report))
    assert len(lines) == 2 and report.disagreements == ["loop-1"]
    # without w3 (the odd circle), w1 and w2 agree on circle and square; of two workers one
    # vote keeps a box (labeling-job rule: half, rounded up), so w2's triangle stays at 0.5
    line = to_manifest_line(_output(THREE), CLASSES, "r", exclude_workers={"w3"})
    assert [a["class_id"] for a in line["r"]["annotations"]] == [0, 1, 2]
    assert [o["confidence"] > 0.8 for o in line["r-metadata"]["objects"]] == [True, True, False]
    with_w3 = to_manifest_line(_output(THREE), CLASSES, "r")
    assert with_w3["r-metadata"]["objects"][0]["confidence"] < line["r-metadata"]["objects"][0]["confidence"]


def test_adjudication_one_more_worker_decides(tmp_path) -> None:
    from gtflow.a2i.adjudication import adjudication_inputs
    from gtflow.a2i.convert import write_converted

    split = _output([_answer("w1", [("circle", 10, 10, 40, 40)], "2021-05-06T21:28:24.990Z"),
                     _answer("w2", [("square", 10, 10, 40, 40)], "2021-05-06T21:29:00.000Z")], "loop-split")
    report = ConversionReport()
    list(convert_outputs([split], CLASSES, "r", report=report))
    assert report.disagreements == ["loop-split"]
    [content] = adjudication_inputs([split], report.disagreements)
    assert content["taskObject"] == SRC and content["adjudicationOf"] == "loop-split"
    adj = HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd-adjudicate", "humanLoopName": "loop-adj",
        "inputContent": content, "humanAnswers": [_answer("w3", [("square", 11, 10, 40, 40)], "2021-05-07T00:00:00.000Z")]})
    report = write_converted([adj, split], str(tmp_path / "m.manifest"), class_map=CLASSES, label_attribute="r")
    [line] = [json.loads(x) for x in (tmp_path / "m.manifest").read_text().splitlines()]
    assert report.lines == 1 and [a["class_id"] for a in line["r"]["annotations"]] == [1]  # 2 of 3 say square
    assert line["r-metadata"]["job-name"] == "a2i/loop-split"
