"""The parsers that used to disagree give one answer (issue 14), on real artifacts.

* a real multi-worker GT box line with half pixels (OzFish, ``588.5``): the wire API,
  ``manifest validate`` (with and without ``--task object-detection``) and ``train prepare``'s
  records all read it; training records hold whole pixels (half up);
* ``left: 10.6`` and ``width: -5`` in a worker's crowd-bounding-box answer: wire, consolidation
  and A2I conversion read the same value (10.6 read, 11 written) or raise the same
  ContractError naming the field (-5);
* two bounding-box widgets in one answer: the same ContractError from every path, and the
  same answer once the widget is named;
* a consolidation response keeps its key order on a round trip;
* pre/object-detection-review gives every image the job's label list, and an image with no
  boxes does not fail.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gtflow.a2i import find_answer_field, to_manifest_line
from gtflow.consolidate.boxes import consolidate_boxes, parse_worker_boxes
from gtflow.consolidate.request import ConsolidationContext, parse_request
from gtflow.errors import ContractError
from gtflow.handlers import invoke
from gtflow.manifest import validate_manifest
from gtflow.training.records import DetectionRecord
from gtflow.wire import ConsolidationResponse, HumanLoopOutput, OutputLabel, validate_element_output
from gtflow.wire.crowd import bounding_box_answer

HERE = Path(__file__).parent
EVENTS = HERE.parent / "events"
OZFISH = HERE / "ozfish_multiworker_boxes.manifest"
ATTR = "20191014"


def _event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


# -- the OzFish line: half pixels from a real multi-worker job ----------------------------------


def test_half_pixel_line_is_read_the_same_by_every_path() -> None:
    text = OZFISH.read_text()
    line = json.loads(text)
    label = OutputLabel.from_line(line, ATTR)  # the wire API
    assert [a.left for a in label.value.annotations] == [588.5, 1151, 823, 0, 108.5]
    assert json.dumps(label.add_to(line), separators=(",", ":")) + "\n" == text  # byte-identical

    plain = validate_manifest(str(OZFISH))
    lint = validate_manifest(str(OZFISH), task="object-detection", label_attribute=ATTR, num_classes=1)
    assert plain.valid and lint.valid, lint.format_lines()
    assert lint.boxes == 5
    notes = [p for p in lint.problems if "fractional pixel" in p.message]
    assert notes and {p.severity for p in notes} == {"info"}
    assert notes[0].field == f"{ATTR}.annotations[0].left"

    rec = DetectionRecord.from_line(line, ATTR)  # what train prepare reads
    first = rec.label.annotations[0]
    assert (first.left, first.width) == (589, 139)  # half up, as whole_pixel rounds
    assert [b.width for b in rec.label.annotations] == [139, 230, 199, 160, 1014]
    assert rec.class_map == {0: "fish"}


# -- 10.6 and -5 in a worker's answer ------------------------------------------------------------


def _answer(**box: Any) -> dict[str, Any]:
    answer = copy.deepcopy(_event("crowd_bounding_box_output_single.json")[0])
    answer["annotatedResult"]["boundingBoxes"][0].update(box)
    return answer


def _loop(answer: dict[str, Any]) -> HumanLoopOutput:
    return HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-west-2:1:flow-definition/fd",
        "humanAnswers": [{"answerContent": answer, "submissionTime": "2021-05-06T21:28:24.990Z",
                          "workerId": "w1"}],
        "humanLoopName": "loop-1", "inputContent": {"taskObject": "s3://b/dog.jpg"}})


def _consolidate(answer: dict[str, Any]) -> dict[str, Any]:
    request = [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://b/dog.jpg"},
                "annotations": [{"workerId": "w1", "annotationData": {"content": json.dumps(answer)}}]}]
    ctx = ConsolidationContext("bb", job_name="j", label_categories=("Dog",))
    (item,) = consolidate_boxes(parse_request(request), ctx)
    return dict(item["consolidatedAnnotation"]["content"])


def test_fractional_left_is_read_by_every_path_and_written_as_a_whole_pixel() -> None:
    answer = _answer(left=10.6)
    assert validate_element_output("crowd-bounding-box", answer["annotatedResult"]).bounding_boxes[0].left == 10.6
    boxes, _ = parse_worker_boxes(answer)
    assert boxes[0].left == 10.6
    fused = _consolidate(answer)["bb"]["annotations"][0]
    converted = to_manifest_line(_loop(answer), {0: "Dog"}, "bb")["bb"]["annotations"][0]
    assert fused["left"] == converted["left"] == 11


def test_negative_width_is_the_same_contract_error_everywhere() -> None:
    answer = _answer(width=-5)
    errors = []
    for read in (
        lambda: validate_element_output("crowd-bounding-box", answer["annotatedResult"], "annotatedResult"),
        lambda: parse_worker_boxes(answer),
        lambda: to_manifest_line(_loop(answer), {0: "Dog"}, "bb"),
    ):
        with pytest.raises(ContractError) as e:
            read()
        errors.append(e.value)
    assert {e.field for e in errors} == {"annotatedResult.boundingBoxes[0].width",
                                         "answerContent.annotatedResult.boundingBoxes[0].width"}
    assert len({e.message for e in errors}) == 1
    meta = _consolidate(answer)["bb-metadata"]  # the object fails with the reason, the batch goes on
    assert "boundingBoxes[0].width: expected a non-negative number" in meta["failure-reason"]


def test_two_box_widgets_in_one_answer_give_one_answer() -> None:
    answer = _answer()
    answer["boundingBox"] = copy.deepcopy(answer["annotatedResult"])
    answer["boundingBox"]["boundingBoxes"][0]["left"] = 300
    messages = set()
    for read in (lambda: bounding_box_answer(answer), lambda: parse_worker_boxes(answer),
                 lambda: find_answer_field(answer), lambda: to_manifest_line(_loop(answer), {0: "Dog"}, "bb")):
        with pytest.raises(ContractError, match=r"several bounding-box answers \(annotatedResult, boundingBox\)") as e:
            read()
        messages.add(e.value.message)
    assert len(messages) == 1
    named = to_manifest_line(_loop(answer), {0: "Dog"}, "bb", widget="boundingBox")["bb"]["annotations"][0]
    assert named["left"] == parse_worker_boxes(answer, widget="boundingBox")[0][0].left == 300


# -- the consolidation response keeps its key order ---------------------------------------------


def test_consolidation_response_round_trip_keeps_key_order() -> None:
    real = _event("recipe_post_annotation_response_passthrough.json")
    assert ConsolidationResponse.from_list(real).to_list() == real
    swapped = [{"consolidatedAnnotation": item["consolidatedAnnotation"], "datasetObjectId": item["datasetObjectId"]}
               for item in real]
    out = ConsolidationResponse.from_list(swapped).to_list()
    assert [list(i) for i in out] == [["consolidatedAnnotation", "datasetObjectId"]] * len(real)
    assert json.dumps(out) == json.dumps(swapped)


# -- pre/object-detection-review: the job's label list, and images without boxes -------------------


def test_review_labels_are_the_jobs_list_on_every_image_and_empty_images_work() -> None:
    ev = _event("recipe_pre_annotation_event_image.json")
    docs_line = _event("gt_output_manifest_bbox_docs.json")  # class-map {dog, bone}
    fish_line = json.loads(OZFISH.read_text())  # class-map {fish}, half pixels
    empty = copy.deepcopy(fish_line)
    empty[ATTR]["annotations"] = []
    empty[f"{ATTR}-metadata"]["objects"] = []
    empty[f"{ATTR}-metadata"]["class-map"] = {}
    labels = ["fish", "dog", "bone"]
    got = []
    for line in (docs_line, fish_line, empty):
        ev["dataObject"] = line
        got.append(invoke("pre/object-detection-review", ev, store=None, options={"labels": labels})["taskInput"])
    assert [t["labels"] for t in got] == [labels] * 3
    assert got[1]["initialValue"][0] == {"label": "fish", "left": 588.5, "top": 306, "width": 139, "height": 84}
    assert got[2]["initialValue"] == []
