"""Unit tests of the A2I and output-manifest wire types: errors name the field path, unknown
keys survive, builders write what GT writes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gtflow.errors import ContractError
from gtflow.wire import a2i, output

ARN = "arn:aws:sagemaker:us-west-2:111122223333:flow-definition/fd"


def _answer(**kw: object) -> dict[str, object]:
    d: dict[str, object] = {
        "answerContent": {"x": "1"},
        "submissionTime": "2020-06-18T17:08:26.246Z",
        "workerId": "w1",
    }
    d.update(kw)
    return d


def test_output_json_errors_name_the_path() -> None:
    bad = {
        "flowDefinitionArn": ARN,
        "humanLoopName": "l",
        "inputContent": {},
        "humanAnswers": [_answer(), _answer(answerContent="not an object")],
    }
    with pytest.raises(ContractError) as e:
        a2i.HumanLoopOutput.from_dict(bad)
    assert e.value.field == "humanAnswers[1].answerContent"
    assert "expected an object" in str(e.value)
    bad["humanAnswers"] = []
    del bad["humanLoopName"]
    with pytest.raises(ContractError, match="humanLoopName: missing required field"):
        a2i.HumanLoopOutput.from_dict(bad)


def test_unknown_keys_survive_in_place() -> None:
    d = {
        "newTopKey": 1,
        "flowDefinitionArn": ARN,
        "humanAnswers": [_answer(futureKey={"a": [1]})],
        "humanLoopName": "l",
        "inputContent": {"k": "v"},
    }
    v = a2i.HumanLoopOutput.from_dict(d)
    assert v.extra == {"newTopKey": 1}
    assert v.human_answers[0].extra == {"futureKey": {"a": [1]}}
    assert json.dumps(v.to_dict()) == json.dumps(d)


def test_constructed_values_use_gt_order_and_omit_none() -> None:
    ans = a2i.HumanAnswer(
        answer_content={"a": 1}, submission_time="t", worker_id="w", time_spent_in_seconds=1.5
    )
    assert list(ans.to_dict()) == [
        "answerContent",
        "submissionTime",
        "timeSpentInSeconds",
        "workerId",
    ]
    out = a2i.HumanLoopOutput(ARN, (ans,), "l", {})
    assert list(out.to_dict()) == [
        "flowDefinitionArn",
        "humanAnswers",
        "humanLoopName",
        "inputContent",
    ]
    assert out.answers_for("a") == [1] and out.answers_for("b") == []


def test_eventbridge_detail_writes_null_failure_fields() -> None:
    det = a2i.HumanLoopStatusChangeDetail(
        "2019-11-14T17:37:36.740Z", ARN, "arn:h/l", "l", "Completed"
    )
    d = det.to_dict()
    assert d["failureCode"] is None and d["failureReason"] is None and "humanLoopOutput" not in d


def test_human_loop_names() -> None:
    assert a2i.validate_human_loop_name("a-b--c9")
    for bad in ["", "A", "a_b", "-a", "a-", "a" * 64]:
        with pytest.raises(ContractError):
            a2i.validate_human_loop_name(bad)


def test_start_human_loop_request() -> None:
    r = a2i.StartHumanLoopRequest(
        "loop-1", ARN, {"taskObject": "s3://b/k"}, ("FreeOfAdultContent",)
    )
    d = r.to_dict()
    assert json.loads(d["HumanLoopInput"]["InputContent"]) == {"taskObject": "s3://b/k"}
    assert a2i.StartHumanLoopRequest.from_dict(d) == r
    with pytest.raises(ContractError, match="HumanLoopName"):
        a2i.StartHumanLoopRequest("Bad_Name", ARN, {})
    with pytest.raises(ContractError, match="ContentClassifiers"):
        a2i.StartHumanLoopRequest("ok", ARN, {}, ("Nope",))
    with pytest.raises(ContractError, match="3 MiB"):
        a2i.StartHumanLoopRequest("ok", ARN, {"x": "a" * a2i.MAX_INPUT_CONTENT_CHARS})
    with pytest.raises(ContractError, match="InputContent: not valid JSON"):
        a2i.StartHumanLoopRequest.from_dict({**d, "HumanLoopInput": {"InputContent": "{"}})
    with pytest.raises(ContractError, match="Extra: unknown field"):
        a2i.StartHumanLoopRequest.from_dict({**d, "Extra": 1})


def test_activation_conditions_rules() -> None:
    cond = {"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 5}}
    with pytest.raises(ContractError, match=r"Conditions\[0\]\.Or: Or needs at least 2"):
        a2i.ActivationConditions.from_dict({"Conditions": [{"Or": [cond]}]})
    deep = {"Or": [cond, {"And": [cond, {"Or": [cond, cond]}]}]}
    with pytest.raises(ContractError, match="nest at most"):
        a2i.ActivationConditions.from_dict({"Conditions": [deep]})
    with pytest.raises(ContractError, match="ConditionType: missing"):
        a2i.ActivationConditions.from_dict({"Conditions": [{"ConditionParameters": {}}]})


def test_output_json_uri_uses_utc() -> None:
    t = dt.datetime(2021, 5, 6, 23, 25, 42, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert (
        a2i.output_json_uri("s3://b/p/", "fd", t, "l")
        == "s3://b/p/fd/2021/05/06/21/25/42/l/output.json"
    )


# ---------------------------------------------------------------- output manifest


def test_creation_date_and_job_name() -> None:
    assert (
        output.format_creation_date(dt.datetime(2019, 1, 29, 13, 29, 11, 798957))
        == "2019-01-29T13:29:11.798957"
    )
    now = output.format_creation_date()
    assert len(now) == 26 and now[10] == "T" and not now.endswith("Z")
    assert output.parse_creation_date(now).tzinfo is not None
    assert output.labeling_job_ref("Job-1") == "labeling-job/Job-1"
    assert output.a2i_job_ref("loop") == "a2i/loop"
    with pytest.raises(ContractError):
        output.parse_creation_date("yesterday")


def test_od_builder_matches_real_gt_record() -> None:
    # The real [T04] record quoted in CONTRACTS.md 3.2.
    real = json.loads(
        '{"cat-ground-truth":{"annotations":[{"class_id":0,"width":284,"top":162,"height":205,"left":239},'
        '{"class_id":0,"width":166,"top":107,"height":124,"left":221}],"image_size":[{"width":601,"depth":3,"height":453}]},'
        '"cat-ground-truth-metadata":{"job-name":"labeling-job/cat-ground-truth","class-map":{"0":"Cat"},'
        '"human-annotated":"yes","objects":[{"confidence":0.09},{"confidence":0.09}],'
        '"creation-date":"2019-01-29T13:31:14.845709","type":"groundtruth/object-detection"}}'
    )
    boxes = [
        {"label": "Cat", "left": 239, "top": 162, "width": 284, "height": 205},
        {"label": "Cat", "left": 220.6, "top": 107.2, "width": 166, "height": 124},
    ]
    label, meta = output.object_detection_label(
        boxes,
        {"Cat": 0, "Dog": 1},
        image_width=601,
        image_height=453,
        job_name=output.labeling_job_ref("cat-ground-truth"),
        confidences=0.09,
        creation_date="2019-01-29T13:31:14.845709",
    )
    pair = output.OutputLabel("cat-ground-truth", label, meta).to_items()
    assert json.dumps(pair, separators=(",", ":")) == json.dumps(real, separators=(",", ":"))
    assert output.OutputLabel.from_line(real, "cat-ground-truth").value == label


def test_od_builder_options_and_errors() -> None:
    boxes = [{"label": "b", "left": 1, "top": 2, "width": 3, "height": 4}]
    _, meta = output.object_detection_label(
        boxes,
        ["a", "b", "c"],
        image_width=10,
        image_height=10,
        job_name=output.a2i_job_ref("l"),
        full_class_map=True,
        creation_date=dt.datetime(2021, 1, 1),
    )
    assert meta.class_map == {"0": "a", "1": "b", "2": "c"}
    assert meta.creation_date == "2021-01-01T00:00:00.000000"
    assert [o.confidence for o in meta.objects or ()] == [1]
    empty, emeta = output.object_detection_label(
        [], ["a"], image_width=5, image_height=5, job_name="j"
    )
    assert empty.to_dict()["annotations"] == [] and emeta.class_map == {} and emeta.objects == ()
    with pytest.raises(ContractError, match=r"boxes\[0\]\.label"):
        output.object_detection_label(
            [{**boxes[0], "label": "z"}], ["a"], image_width=1, image_height=1, job_name="j"
        )
    with pytest.raises(ContractError, match=r"boxes\[0\]\.top"):
        output.object_detection_label(
            [{"label": "a", "left": 1}], ["a"], image_width=1, image_height=1, job_name="j"
        )
    with pytest.raises(ContractError, match="confidences"):
        output.object_detection_label(
            boxes, ["a", "b"], image_width=1, image_height=1, job_name="j", confidences=[1, 2]
        )


def test_od_label_is_strict() -> None:
    good = {
        "annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}],
        "image_size": [{"width": 10, "height": 10, "depth": 3}],
    }
    output.ObjectDetectionLabel.from_dict(good)
    half = json.loads(json.dumps(good))
    half["annotations"][0]["left"] = 588.5  # consolidated multi-worker lines have half pixels
    assert output.ObjectDetectionLabel.from_dict(half).to_dict() == half
    for key, value in (("left", "1"), ("width", -5), ("height", float("nan")), ("top", True)):
        bad = json.loads(json.dumps(good))
        bad["annotations"][0][key] = value
        with pytest.raises(ContractError) as e:
            output.ObjectDetectionLabel.from_dict(bad, "bbox")
        assert e.value.field == f"bbox.annotations[0].{key}"
    with pytest.raises(ContractError, match="image_size: missing"):
        output.ObjectDetectionLabel.from_dict({"annotations": []})
    with pytest.raises(ContractError, match="one object"):
        output.ObjectDetectionLabel.from_dict({"annotations": [], "image_size": []})


def test_failed_object_line() -> None:
    line = {
        "source-ref": "s3://b/k.pdf",
        "job-metadata": {
            "retry-count": 1,
            "failure-reason": "ClientError: Annotation tasks expired.",
            "human-annotated": "true",
        },
    }
    lab = output.OutputLabel.from_line(line, "job")
    assert lab.failed and lab.value is None
    assert lab.add_to({"source-ref": "s3://b/k.pdf"}) == line
    assert output.failure_metadata("ClientError: Annotation tasks expired.") == lab.metadata
    with pytest.raises(ContractError, match="job: missing required field"):
        output.OutputLabel.from_line({"job-metadata": {"type": output.CUSTOM_TYPE}}, "job")


def test_classification_builders() -> None:
    v, m = output.image_classification_label(
        9,
        "Falcon",
        job_name="labeling-job/b",
        confidence=0.95,
        creation_date="2019-04-18T16:11:15.000000",
    )
    line = output.OutputLabel("birds", v, m).add_to({"source-ref": "s3://b/1.jpg"})
    assert output.OutputLabel.from_line(line, "birds").metadata == m
    ids, mm = output.multilabel_classification_label(
        {1: 0.95, 0: 0.77}, ["person", "bicycle"], job_name="j"
    )
    assert ids == (1, 0) and mm.class_map == {"1": "bicycle", "0": "person"}
    assert mm.confidence_map == {"1": 0.95, "0": 0.77}
    vv, vm = output.label_verification_label(
        1, "bad", job_name="j", comments=["too wide", "", "  "]
    )
    assert vv == "1" and [f.comment for f in vm.worker_feedback or ()] == ["too wide"]
    cv, cm = output.custom_label({"x": 1}, job_name="j", **{"worker-response-ref": "s3://b/w.json"})
    assert cm.to_dict()["type"] == "groundtruth/custom"
    assert output.parse_metadata(cm.to_dict()).worker_response_ref == "s3://b/w.json"  # type: ignore[union-attr]
    with pytest.raises(ContractError, match=r"birds\[1\]"):
        output.OutputLabel.from_line({"birds": [1, "x"], "birds-metadata": mm.to_dict()}, "birds")


def test_metadata_dispatch_and_unknown_types() -> None:
    semseg = {
        "internal-color-map": {"0": {"class-name": "BACKGROUND", "hex-color": "#ffffff"}},
        "type": "groundtruth/semantic-segmentation",
        "human-annotated": "yes",
        "creation-date": "2018-10-18T22:18:13.527256",
        "job-name": "labeling-job/seg",
    }
    m = output.parse_metadata(semseg)
    assert isinstance(m, output.LabelMetadata) and "internal-color-map" in m.extra
    assert json.dumps(m.to_dict()) == json.dumps(semseg)
    tc = output.parse_metadata({"class-name": "pos", "type": output.TC_TYPE})
    assert isinstance(tc, output.ImageClassificationMetadata)
    with pytest.raises(ContractError, match="class-map.0: expected a string"):
        output.parse_metadata({"class-map": {"0": 1}, "type": output.OD_TYPE})
