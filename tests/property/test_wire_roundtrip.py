"""Hypothesis round trips for every wire type.

For generated payloads (required keys, a random subset of optional keys, random unknown keys,
all in a random key order): ``from_dict(d).to_dict()`` gives ``d`` back with the same key order
at every level, and parsing what was written gives an equal value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtflow.errors import ContractError
from gtflow.wire import a2i, crowd, gt_lambda, od, output

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_scalar,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=6,
)
json_object = st.dictionaries(st.text(max_size=6), json_value, max_size=3)
text = st.text(max_size=12)
ints = st.integers(0, 10_000)
nums = ints | st.floats(0, 1, allow_nan=False)


def obj(
    required: dict[str, Any], optional: dict[str, Any] | None = None, *, extra: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the required keys, some optional ones, maybe unknown ones, in any order."""
    optional = optional or {}
    known = set(required) | set(optional)

    @st.composite
    def build(draw: Callable[..., Any]) -> dict[str, Any]:
        items = {k: draw(s) for k, s in required.items()}
        for k, s in optional.items():
            if draw(st.booleans()):
                items[k] = draw(s)
        if extra:
            unknown = draw(
                st.dictionaries(
                    st.text(min_size=1, max_size=8).filter(lambda k: k not in known),
                    json_value,
                    max_size=2,
                )
            )
            items.update(unknown)
        order = draw(st.permutations(list(items)))
        return {k: items[k] for k in order}

    return build()


def same(a: Any, b: Any) -> bool:
    return json.dumps(a) == json.dumps(b)


# ---------------------------------------------------------------- strategies per payload

identity = obj(
    {}, {"identityProviderType": st.sampled_from(["Cognito", "Oidc"]), "issuer": text, "sub": text}
)
human_answer = obj(
    {"answerContent": json_object, "submissionTime": text, "workerId": text},
    {
        "acceptanceTime": text,
        "timeSpentInSeconds": nums,
        "workerMetadata": obj({}, {"identityData": identity}),
    },
)
human_loop_output = obj(
    {
        "flowDefinitionArn": text,
        "humanAnswers": st.lists(human_answer, max_size=3),
        "humanLoopName": text,
        "inputContent": json_object,
    },
    {"awsManagedHumanLoopRequestSource": st.sampled_from(a2i.AWS_MANAGED_SOURCES)},
)
event_detail = obj(
    {
        "creationTime": text,
        "flowDefinitionArn": text,
        "humanLoopArn": text,
        "humanLoopName": text,
        "humanLoopStatus": st.sampled_from(a2i.HUMAN_LOOP_STATUSES),
    },
    {
        "failureCode": st.none() | st.sampled_from(a2i.FAILURE_CODES),
        "failureReason": st.none() | text,
        "humanLoopOutput": obj({"outputS3Uri": text}),
    },
)
eventbridge = obj(
    {
        "detail-type": st.just("SageMaker A2I HumanLoop Status Change"),
        "source": st.just("aws.sagemaker"),
        "detail": event_detail,
    },
    {
        "version": text,
        "id": text,
        "account": text,
        "time": text,
        "region": text,
        "resources": st.lists(text, max_size=2),
    },
)
describe = obj(
    {
        "CreationTime": text,
        "HumanLoopStatus": st.sampled_from(a2i.HUMAN_LOOP_STATUSES),
        "HumanLoopName": text,
        "HumanLoopArn": text,
        "FlowDefinitionArn": text,
    },
    {
        "FailureReason": text,
        "FailureCode": st.sampled_from(a2i.FAILURE_CODES),
        "HumanLoopOutput": obj({"OutputS3Uri": text}),
    },
)
start_response = obj({"HumanLoopArn": text})
condition = obj({"ConditionType": text}, {"ConditionParameters": json_object})
group = st.builds(
    lambda op, ms: {op: ms},
    st.sampled_from(["Or", "And"]),
    st.lists(condition, min_size=2, max_size=3),
)
activation = obj({"Conditions": st.lists(condition | group, max_size=3)})

pre_event = obj({"labelingJobArn": text, "dataObject": json_object}, {"version": text})
post_event = obj(
    {
        "labelingJobArn": text,
        "labelAttributeName": text,
        "roleArn": text,
        "payload": obj({"s3Uri": text}),
    },
    {
        "version": text,
        "labelCategories": st.none() | st.lists(text, max_size=3),
        "outputConfig": text,
        "kmsKeyId": text,
        "maxHumanWorkersPerDataObject": st.integers(1, 9),
        "vpcEnabled": st.booleans(),
    },
)
annotation_data = obj({"content": json_object.map(json.dumps)}) | obj({"s3Uri": text})
request_item = obj(
    {
        "datasetObjectId": st.integers(0, 999).map(str),
        "dataObject": obj({"s3Uri": text}) | obj({"content": text}),
        "annotations": st.lists(
            obj({"workerId": text, "annotationData": annotation_data}), max_size=3
        ),
    }
)
request_file = st.lists(request_item, max_size=3)
worker_response = obj({"answers": st.lists(human_answer, max_size=3)})

common_meta = {
    "job-name": text,
    "human-annotated": st.sampled_from(["yes", "no"]),
    "creation-date": text,
}
class_map = st.dictionaries(st.integers(0, 20).map(str), text, max_size=3)
bbox_annotation = obj({"class_id": ints, "left": ints, "top": ints, "width": ints, "height": ints})
image_size = obj({"width": ints, "height": ints, "depth": st.just(3)})
od_label = obj(
    {
        "annotations": st.lists(bbox_annotation, max_size=3),
        "image_size": st.lists(image_size, min_size=1, max_size=1),
    }
)
od_meta = obj(
    {"class-map": class_map, "type": st.just(output.OD_TYPE)},
    {
        **common_meta,
        "objects": st.lists(obj({"confidence": nums}), max_size=3),
        "adjustment-status": st.sampled_from(["adjusted", "unadjusted"]),
    },
)
ic_meta = obj(
    {"class-name": text, "type": st.sampled_from([output.IC_TYPE, output.TC_TYPE])},
    {**common_meta, "confidence": nums},
)
multi_meta = obj(
    {"class-map": class_map, "type": st.sampled_from([output.IC_MULTI_TYPE, output.TC_MULTI_TYPE])},
    {
        **common_meta,
        "confidence-map": st.dictionaries(st.integers(0, 9).map(str), nums, max_size=3),
    },
)
verify_meta = obj(
    {"class-name": text, "type": st.just(output.VERIFICATION_TYPE)},
    {
        **common_meta,
        "confidence": nums,
        "worker-feedback": st.lists(obj({"comment": text}), max_size=2),
    },
)
custom_meta = obj(
    {"type": st.sampled_from([output.CUSTOM_TYPE, "groundtruth/semantic-segmentation"])},
    {**common_meta, "worker-response-ref": text},
)
failure_meta = obj(
    {"failure-reason": text}, {"retry-count": st.integers(0, 5), "human-annotated": st.just("true")}
)
any_meta = od_meta | ic_meta | multi_meta | verify_meta | custom_meta | failure_meta
response_item = st.builds(
    lambda id_, attr, value, meta: {
        "datasetObjectId": id_,
        "consolidatedAnnotation": {
            "content": {attr: value, **({} if meta is None else {attr + "-metadata": meta})}
        },
    },
    st.integers(0, 999).map(str),
    st.text(alphabet="abc-", min_size=1, max_size=6).filter(lambda a: not a.endswith("-metadata")),
    json_value,
    st.none() | any_meta,
)
response_file = st.lists(response_item, max_size=3, unique_by=lambda i: i["datasetObjectId"])

img_props = obj({"height": st.integers(1, 10_000), "width": st.integers(1, 10_000)})  # sizes are positive (wire.crowd)
box = obj({"height": ints, "label": text, "left": ints, "top": ints, "width": ints})
bbox_out = obj(
    {"boundingBoxes": st.lists(box, max_size=3), "inputImageProperties": img_props},
    {"initialValueModified": st.booleans()},
)
keypoint_out = obj(
    {
        "inputImageProperties": img_props,
        "keypoints": st.lists(obj({"label": text, "x": ints, "y": ints}), max_size=3),
    }
)
shape = obj({"label": text, "vertices": st.lists(obj({"x": ints, "y": ints}), max_size=4)})
polygon_out = obj({"inputImageProperties": img_props, "polygons": st.lists(shape, max_size=2)})
line_out = obj({"inputImageProperties": img_props, "lines": st.lists(shape, max_size=2)})
checked = st.dictionaries(text, st.booleans(), max_size=4)
classifier_out = obj({"label": text}, {"workerComment": text})
multi_out = obj({"labels": st.lists(text, max_size=3)})
entity = st.builds(
    lambda s, n, label, order: {
        k: {"startOffset": s, "endOffset": s + n, "label": label}[k] for k in order
    },
    ints,
    st.integers(0, 50),
    text,
    st.permutations(["startOffset", "endOffset", "label"]),
)
entity_out = obj({"entities": st.lists(entity, max_size=3)})
semseg_out = obj(
    {
        "inputImageProperties": img_props,
        "labelMappings": st.dictionaries(text, obj({"color": text}), max_size=3),
        "labeledImage": obj({"pngImageData": text}),
    },
    {"initialValueModified": st.booleans()},
)
instance_out = obj(
    {
        "inputImageProperties": img_props,
        "instances": st.lists(obj({"color": text, "label": text}), max_size=2),
        "labeledImage": obj({"pngImageData": text}),
    }
)
prediction = st.tuples(
    st.integers(0, 20).map(float), *([st.floats(-0.1, 1.1, allow_nan=False)] * 5)
).map(list)
detection = obj({"prediction": st.lists(prediction, max_size=4)})
annotated = obj(
    {
        "image_size": st.lists(image_size, min_size=1, max_size=1),
        "annotations": st.lists(
            obj(
                {
                    "class_id": ints,
                    "score": nums,
                    "left": nums,
                    "top": nums,
                    "width": nums,
                    "height": nums,
                }
            ),
            max_size=3,
        ),
    }
)

ROUNDTRIPS: list[tuple[str, Any, Callable[[Any], Any], Callable[[Any], Any]]] = [
    # name, strategy, parse, write
    ("HumanAnswer", human_answer, a2i.HumanAnswer.from_dict, lambda v: v.to_dict()),
    ("HumanLoopOutput", human_loop_output, a2i.HumanLoopOutput.from_dict, lambda v: v.to_dict()),
    (
        "HumanLoopStatusChangeEvent",
        eventbridge,
        a2i.HumanLoopStatusChangeEvent.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "DescribeHumanLoopResponse",
        describe,
        a2i.DescribeHumanLoopResponse.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "StartHumanLoopResponse",
        start_response,
        a2i.StartHumanLoopResponse.from_dict,
        lambda v: v.to_dict(),
    ),
    ("ActivationConditions", activation, a2i.ActivationConditions.from_dict, lambda v: v.to_dict()),
    (
        "PreAnnotationEvent",
        pre_event,
        gt_lambda.PreAnnotationEvent.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "PostAnnotationEvent",
        post_event,
        gt_lambda.PostAnnotationEvent.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "ConsolidationRequest",
        request_file,
        gt_lambda.ConsolidationRequest.from_list,
        lambda v: v.to_list(),
    ),
    (
        "ConsolidationResponse",
        response_file,
        gt_lambda.ConsolidationResponse.from_list,
        lambda v: v.to_list(),
    ),
    ("WorkerResponse", worker_response, gt_lambda.WorkerResponse.from_dict, lambda v: v.to_dict()),
    (
        "ObjectDetectionLabel",
        od_label,
        output.ObjectDetectionLabel.from_dict,
        lambda v: v.to_dict(),
    ),
    ("metadata", any_meta, output.parse_metadata, lambda v: v.to_dict()),
    ("BoundingBoxOutput", bbox_out, crowd.BoundingBoxOutput.from_dict, lambda v: v.to_dict()),
    ("KeypointOutput", keypoint_out, crowd.KeypointOutput.from_dict, lambda v: v.to_dict()),
    ("PolygonOutput", polygon_out, crowd.PolygonOutput.from_dict, lambda v: v.to_dict()),
    ("LineOutput", line_out, crowd.LineOutput.from_dict, lambda v: v.to_dict()),
    ("CheckedValues", checked, crowd.CheckedValues.from_dict, lambda v: v.to_dict()),
    ("ClassifierOutput", classifier_out, crowd.ClassifierOutput.from_dict, lambda v: v.to_dict()),
    ("MultiSelectOutput", multi_out, crowd.MultiSelectOutput.from_dict, lambda v: v.to_dict()),
    (
        "EntityAnnotationOutput",
        entity_out,
        crowd.EntityAnnotationOutput.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "SemanticSegmentationOutput",
        semseg_out,
        crowd.SemanticSegmentationOutput.from_dict,
        lambda v: v.to_dict(),
    ),
    (
        "InstanceSegmentationOutput",
        instance_out,
        crowd.InstanceSegmentationOutput.from_dict,
        lambda v: v.to_dict(),
    ),
    ("DetectionResponse", detection, od.DetectionResponse.from_dict, lambda v: v.to_dict()),
    (
        "AnnotatedDetectionResponse",
        annotated,
        od.AnnotatedDetectionResponse.from_dict,
        lambda v: v.to_dict(),
    ),
]


@pytest.mark.parametrize(
    ("name", "strategy", "parse", "write"), ROUNDTRIPS, ids=[r[0] for r in ROUNDTRIPS]
)
@SETTINGS
@given(data=st.data())
def test_roundtrip(
    name: str,
    strategy: Any,
    parse: Callable[[Any], Any],
    write: Callable[[Any], Any],
    data: st.DataObject,
) -> None:
    d = data.draw(strategy)
    value = parse(d)
    written = write(value)
    assert same(written, d), name  # equal, and the same key order at every level
    again = parse(written)
    assert again == value
    assert same(write(again), d)
    json.dumps(written)  # always serialisable


@SETTINGS
@given(d=obj({"taskInput": json_object}, {"isHumanAnnotationRequired": st.booleans()}, extra=False))
def test_pre_annotation_response_roundtrip(d: dict[str, Any]) -> None:
    r = gt_lambda.PreAnnotationResponse.from_dict(d)
    out = r.to_dict()
    assert list(out) == ["taskInput", "isHumanAnnotationRequired"]
    assert out["taskInput"] == d["taskInput"] and out["isHumanAnnotationRequired"] is d.get(
        "isHumanAnnotationRequired", True
    )
    assert gt_lambda.PreAnnotationResponse.from_dict(out) == r


@SETTINGS
@given(
    task_input=json_object,
    flag=st.booleans(),
    as_string=st.booleans(),
    case=st.sampled_from([str.lower, str.upper, str.title]),
)
def test_legacy_pre_annotation_responses_parse(
    task_input: dict[str, Any], flag: bool, as_string: bool, case: Callable[[str], str]
) -> None:
    value: Any = case(str(flag)) if as_string else flag
    r = gt_lambda.PreAnnotationResponse.from_dict(
        {"taskInput": task_input, "humanAnnotationRequired": value}
    )
    assert r.is_human_annotation_required is flag
    assert r.to_dict() == {"taskInput": task_input, "isHumanAnnotationRequired": flag}


@SETTINGS
@given(answer=json_object, encode_twice=st.booleans())
def test_annotation_content_roundtrip(answer: dict[str, Any], encode_twice: bool) -> None:
    content = json.dumps(answer)
    if encode_twice:
        content = json.dumps(content)
    assert gt_lambda.AnnotationData(content=content).parse_content() == answer
    assert gt_lambda.AnnotationData.from_answer(answer).parse_content() == answer


@SETTINGS
@given(junk=st.text(max_size=20).filter(lambda t: not t.strip().startswith(("{", '"'))))
def test_non_object_content_is_a_contract_error(junk: str) -> None:
    item = {
        "datasetObjectId": "0",
        "dataObject": {"s3Uri": "s3://b/k"},
        "annotations": [{"workerId": "w", "annotationData": {"content": junk}}],
    }
    with pytest.raises(ContractError) as e:
        gt_lambda.ConsolidationRequest.from_list([item]).worker_answers()
    assert e.value.field == "[0].annotations[0].annotationData.content"


boxes = st.lists(
    st.fixed_dictionaries(
        {
            "label": st.sampled_from(["a", "b", "c"]),
            "left": ints,
            "top": ints,
            "width": ints,
            "height": ints,
        }
    ),
    max_size=5,
)


@SETTINGS
@given(boxes=boxes, full=st.booleans(), conf=st.floats(0, 1, allow_nan=False))
def test_od_builder_output_parses_back(
    boxes: list[dict[str, Any]], full: bool, conf: float
) -> None:
    label, meta = output.object_detection_label(
        boxes,
        ["a", "b", "c"],
        image_width=640,
        image_height=480,
        job_name="labeling-job/j",
        confidences=conf,
        full_class_map=full,
    )
    line = output.OutputLabel("bb", label, meta).add_to({"source-ref": "s3://b/i.jpg"})
    back = output.OutputLabel.from_line(json.loads(json.dumps(line)), "bb")
    assert back.value == label and back.metadata == meta
    assert len(label.annotations) == len(meta.objects or ())
    used = {str(a.class_id) for a in label.annotations}
    assert used <= set(meta.class_map) and (full or used == set(meta.class_map))
