"""Every contract sample that is a payload or manifest parses into its wire type and writes
back equal, key order included (samples copied from ../shared/contracts/samples/, each with a
.source.txt naming its origin)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gtflow.wire import a2i, crowd, gt_lambda, od, output

EVENTS = Path(__file__).parent


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def same(a: Any, b: Any) -> bool:
    """Equal, with the same key order at every level."""
    return json.dumps(a) == json.dumps(b)


def roundtrip_manifest_line(line: dict[str, Any]) -> dict[str, Any]:
    attrs = output.label_attributes(line)
    assert attrs, "no label attribute found"
    out = {k: v for k, v in line.items() if k not in attrs and not k.endswith("-metadata")}
    for attr in attrs:
        out = output.OutputLabel.from_line(line, attr).add_to(out)
    return out


def _value(cls: Any) -> Callable[[Any], Any]:
    return lambda d: cls.from_dict(d).to_dict()


# sample file -> function that parses it into its wire type and writes it back
ROUNDTRIP: dict[str, Callable[[Any], Any]] = {
    "a2i_output_custom_docs.json": _value(a2i.HumanLoopOutput),
    "a2i_output_rekognition_docs.json": _value(a2i.HumanLoopOutput),
    "a2i_output_textract_docs.json": _value(a2i.HumanLoopOutput),
    "a2i_eventbridge_humanloop_status_change_docs.json": _value(a2i.HumanLoopStatusChangeEvent),
    "a2i_start_human_loop_response.json": _value(a2i.StartHumanLoopResponse),
    "a2i_describe_human_loop_response_inprogress.json": _value(a2i.DescribeHumanLoopResponse),
    "a2i_activation_conditions_rekognition_example1.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_example2.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_example3.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_example4.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_example5.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_example6.json": _value(a2i.ActivationConditions),
    "a2i_activation_conditions_rekognition_notebook.json": _value(a2i.ActivationConditions),
    "pre_annotation_event_source_ref.json": _value(gt_lambda.PreAnnotationEvent),
    "pre_annotation_event_text.json": _value(gt_lambda.PreAnnotationEvent),
    "recipe_pre_annotation_event_image.json": _value(gt_lambda.PreAnnotationEvent),
    "recipe_pre_annotation_event_text.json": _value(gt_lambda.PreAnnotationEvent),
    "samcli_pre_human_task_event_template.json": _value(gt_lambda.PreAnnotationEvent),
    "post_annotation_event.json": _value(gt_lambda.PostAnnotationEvent),
    "recipe_post_annotation_event.json": _value(gt_lambda.PostAnnotationEvent),
    "samcli_annotation_consolidation_event_template.json": _value(gt_lambda.PostAnnotationEvent),
    "post_annotation_payload_bbox.json": _value(gt_lambda.ConsolidationRequest),
    "post_annotation_payload_ner.json": _value(gt_lambda.ConsolidationRequest),
    "post_annotation_payload_semseg.json": _value(gt_lambda.ConsolidationRequest),
    "recipe_post_annotation_payload_bbox.json": _value(gt_lambda.ConsolidationRequest),
    "recipe_post_annotation_response_passthrough.json": _value(gt_lambda.ConsolidationResponse),
    "od_endpoint_response_docs.json": _value(od.DetectionResponse),
    "od_endpoint_response_annotation_docs.json": _value(od.AnnotatedDetectionResponse),
    "gt_output_manifest_bbox_docs.json": roundtrip_manifest_line,
    "gt_output_manifest_bbox_adjustment_docs.json": roundtrip_manifest_line,
    "gt_output_manifest_image_classification_docs.json": roundtrip_manifest_line,
    "gt_output_manifest_image_classification_multilabel_docs.json": roundtrip_manifest_line,
    "gt_output_manifest_label_verification_docs.json": roundtrip_manifest_line,
}


@pytest.mark.parametrize("name", sorted(ROUNDTRIP))
def test_sample_roundtrips(name: str) -> None:
    assert (EVENTS / name.rsplit(".", 1)[0]).with_suffix(".source.txt").exists()
    data = load(name)
    assert same(ROUNDTRIP[name](data), data)


def test_od_augmented_manifest_lines_roundtrip() -> None:
    lines = (EVENTS / "od_augmented_manifest_docs.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for text in lines:
        line = json.loads(text)
        assert same(roundtrip_manifest_line(line), line)
        lab = output.OutputLabel.from_line(line, "bounding-box")
        assert isinstance(lab.value, output.ObjectDetectionLabel)
        assert lab.metadata.type == output.OD_TYPE


def test_a2i_output_types() -> None:
    out = a2i.HumanLoopOutput.from_dict(load("a2i_output_rekognition_docs.json"))
    assert out.aws_managed_human_loop_request_source == a2i.AWS_MANAGED_SOURCES[0]
    assert out.flow_definition_name == "flow-definition-name"
    ans = out.human_answers[0]
    assert ans.worker_metadata is not None and ans.worker_metadata.identity_data is not None
    assert ans.worker_metadata.identity_data.identity_provider_type == "Cognito"
    # the evaluated activation conditions inside inputContent parse too (EvaluationResult kept)
    evaluated = out.input_content["humanTaskActivationConditionResults"]
    conds = a2i.ActivationConditions.from_dict(evaluated)
    assert isinstance(conds.conditions[0], a2i.ConditionGroup)
    assert conds.conditions[0].extra == {"EvaluationResult": True}
    assert same(conds.to_dict(), evaluated)


def test_eventbridge_and_describe() -> None:
    ev = a2i.HumanLoopStatusChangeEvent.from_dict(
        load("a2i_eventbridge_humanloop_status_change_docs.json")
    )
    assert ev.detail.human_loop_status == a2i.HumanLoopStatus.COMPLETED
    assert ev.detail.failure_code is None
    assert ev.detail.human_loop_output is not None
    # the output key follows from the creation time (CONTRACTS.md 4.5)
    created = output.parse_creation_date(ev.detail.creation_time)
    uri = a2i.output_json_uri(
        "s3://customer-output-bucket-specified-in-flow-definition",
        "flowdef-nov-12",
        created,
        ev.detail.human_loop_name,
    )
    assert uri == ev.detail.human_loop_output.output_s3_uri
    desc = a2i.DescribeHumanLoopResponse.from_dict(
        load("a2i_describe_human_loop_response_inprogress.json")
    )
    assert desc.human_loop_status == "InProgress" and desc.output_s3_uri is not None
    start = a2i.StartHumanLoopResponse.from_dict(load("a2i_start_human_loop_response.json"))
    assert start.human_loop_name == desc.human_loop_name


def test_activation_schema_agrees_with_parser() -> None:
    schema = load("a2i_activation_conditions_json_schema_docs.json")
    d = schema["definitions"]
    assert d["Condition"]["required"] == ["ConditionType"]
    assert d["OrConditionArray"]["properties"]["Or"]["minItems"] == 2
    assert d["AndConditionArray"]["properties"]["And"]["minItems"] == 2


PRE_EVENTS = [n for n in ROUNDTRIP if "pre_annotation_event" in n or "pre_human_task" in n]
PAYLOADS = [n for n in ROUNDTRIP if "post_annotation_payload" in n]


@pytest.mark.parametrize("name", PRE_EVENTS)
def test_pre_annotation_events(name: str) -> None:
    ev = gt_lambda.PreAnnotationEvent.from_dict(load(name))
    assert ev.version in ("2018-10-06", "2018-10-16")
    assert (ev.source_ref is None) != (ev.source is None)
    # the pass-through response every sample Lambda returns
    resp = gt_lambda.PreAnnotationResponse(task_input=ev.data_object).to_dict()
    assert resp == {"taskInput": load(name)["dataObject"], "isHumanAnnotationRequired": True}


def test_post_annotation_events() -> None:
    doc = gt_lambda.PostAnnotationEvent.from_dict(load("post_annotation_event.json"))
    assert doc.label_categories == ("Ex Category1", "Ex Category2", "Ex Category3")
    assert doc.output_config is None
    recipe = gt_lambda.PostAnnotationEvent.from_dict(load("recipe_post_annotation_event.json"))
    assert (
        recipe.label_categories is None
        and recipe.output_config == "s3://test-bucket/test-image.jpg"
    )
    assert recipe.payload_s3_uri == "s3://test-bucket/sample_annotation_consolidation_payload.json"
    assert recipe.job_name_lower == "test-labeling-job"


@pytest.mark.parametrize("name", PAYLOADS)
def test_consolidation_payload_answers_parse(name: str) -> None:
    req = gt_lambda.ConsolidationRequest.from_list(load(name))
    answers = req.worker_answers()
    assert set(answers) == {i.dataset_object_id for i in req.items}
    for per_worker in answers.values():
        for worker_id, answer in per_worker:
            assert worker_id.startswith("private.")
            assert isinstance(answer, dict) and len(answer) == 1


def test_recipe_passthrough_response_matches_its_request() -> None:
    req = gt_lambda.ConsolidationRequest.from_list(load("recipe_post_annotation_payload_bbox.json"))
    resp = gt_lambda.ConsolidationResponse.from_list(
        load("recipe_post_annotation_response_passthrough.json")
    )
    assert resp.missing_ids(req) == []
    rebuilt = gt_lambda.ConsolidationResponse(
        tuple(
            gt_lambda.ConsolidationResponseItem.for_label(
                item.dataset_object_id,
                "gt-label",
                {"annotationsFromAllWorkers": [a.to_dict() for a in item.annotations]},
            )
            for item in req.items
        )
    )
    assert same(rebuilt.to_list(), load("recipe_post_annotation_response_passthrough.json"))


# crowd element samples (from the DG "Output" sections): widget name -> element tag
CROWD = {
    "crowd_bounding_box_output_single.json": {"annotatedResult": "crowd-bounding-box"},
    "crowd_bounding_box_output_multi_label_multi_box.json": {
        "annotatedResult": "crowd-bounding-box"
    },
    "crowd_checkbox_output_same_name.json": {"image_attributes": "crowd-checkbox"},
    "crowd_checkbox_output_distinct_names.json": {
        "Go": "crowd-checkbox",
        "Slow": "crowd-checkbox",
        "Stop": "crowd-checkbox",
    },
    "crowd_entity_annotation_output.json": {"myAnnotatedResult": "crowd-entity-annotation"},
    "crowd_input_output.json": {"tag1": "crowd-input", "tag2": "crowd-input"},
    "crowd_keypoint_output.json": {"crowdKeypoint": "crowd-keypoint"},
    "crowd_line_output.json": {"crowdLine": "crowd-line"},
    "crowd_polygon_output_multi.json": {"annotatedResult": "crowd-polygon"},
    "crowd_radio_group_output.json": {"btn1": "crowd-radio-button", "btn2": "crowd-radio-button"},
    "crowd_semantic_segmentation_output.json": {"annotatedResult": "crowd-semantic-segmentation"},
    "crowd_text_area_output.json": {"textInput1": "crowd-text-area"},
    "crowd_toggle_button_output.json": {"theToggler": "crowd-toggle-button"},
}


@pytest.mark.parametrize("name", sorted(CROWD))
def test_crowd_samples_parse_strictly_and_roundtrip(name: str) -> None:
    assert (EVENTS / name.replace(".json", ".source.txt")).exists()
    sample = crowd.unwrap_docs_sample(load(name))
    assert isinstance(sample, dict)
    parsed = crowd.parse_form_output(sample, CROWD[name], strict=True, required=list(CROWD[name]))
    assert same(crowd.form_to_dict(parsed), sample)


@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_answers_are_valid_crowd_outputs(name: str) -> None:
    elements = {
        "boundingBox": "crowd-bounding-box",
        "annotatedResult": "crowd-bounding-box",
        "crowd-entity-annotation": "crowd-entity-annotation",
        "crowd-semantic-segmentation": "crowd-semantic-segmentation",
    }
    for per_worker in (
        gt_lambda.ConsolidationRequest.from_list(load(name)).worker_answers().values()
    ):
        for _, answer in per_worker:
            parsed = crowd.parse_form_output(answer, elements, strict=True)
            assert all(not isinstance(v, dict) for v in parsed.values())
            assert same(crowd.form_to_dict(parsed), answer)


def test_od_endpoint_samples() -> None:
    raw = (EVENTS / "od_endpoint_response_docs.json").read_bytes()
    r = od.parse_endpoint_response(raw)
    assert isinstance(r, od.DetectionResponse) and len(r.predictions) == 5
    assert r.predictions[0].class_index == 4 and r.top_score == pytest.approx(0.8641945540904998)
    boxes = r.to_initial_value([f"c{i}" for i in range(10)], width=500, height=400, threshold=0.5)
    assert [b["label"] for b in boxes] == ["c4", "c0"]
    assert r.scores(0.5) == sorted(r.scores(0.5), reverse=True)
    for b in boxes:
        assert b["left"] + b["width"] <= 500 and b["top"] + b["height"] <= 400
    a = od.parse_endpoint_response(
        (EVENTS / "od_endpoint_response_annotation_docs.json").read_text()
    )
    assert isinstance(a, od.AnnotatedDetectionResponse)
    assert a.image_size[0].width == 500 and a.annotations[2].class_id == 1


def test_every_shared_sample_is_covered() -> None:
    """The 48 payload/manifest samples of ../shared/contracts/samples/ are all tested above."""
    covered = (
        set(ROUNDTRIP)
        | set(CROWD)
        | {
            "od_augmented_manifest_docs.jsonl",  # test_od_augmented_manifest_lines_roundtrip
            "a2i_activation_conditions_json_schema_docs.json",  # a JSON Schema, checked against the parser
        }
    )
    assert len(covered) == 48
    for name in covered:
        assert (EVENTS / name).exists(), name
        assert (EVENTS / (name.rsplit(".", 1)[0] + ".source.txt")).exists(), name
