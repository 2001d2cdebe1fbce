"""Unit tests of the GT Lambda wire types: legacy forms, tolerant events, strict responses,
content decoding with clear errors."""

from __future__ import annotations

import json

import pytest

from gtflow.errors import ContractError
from gtflow.wire import gt_lambda as g
from gtflow.wire import output

JOB_ARN = "arn:aws:sagemaker:us-west-2:123456789010:labeling-job/test-labeling-job-20211118t021255"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"taskInput": {}, "isHumanAnnotationRequired": True}, True),
        ({"taskInput": {}, "isHumanAnnotationRequired": False}, False),
        ({"taskInput": {}}, True),
        ({"taskInput": {}, "humanAnnotationRequired": "true"}, True),  # the recipe's legacy form
        ({"taskInput": {}, "humanAnnotationRequired": "false"}, False),
        ({"taskInput": {}, "isHumanAnnotationRequired": "False"}, False),
        ({"taskInput": {}, "humanAnnotationRequired": True}, True),
        (
            {
                "taskInput": {},
                "humanAnnotationRequired": "true",
                "isHumanAnnotationRequired": False,
            },
            False,
        ),
    ],
)
def test_pre_annotation_response_legacy_forms(body: dict, expected: bool) -> None:
    r = g.PreAnnotationResponse.from_dict(body)
    assert r.is_human_annotation_required is expected
    out = r.to_dict()
    assert out == {"taskInput": {}, "isHumanAnnotationRequired": expected}
    assert json.dumps(out).endswith(f'"isHumanAnnotationRequired": {str(expected).lower()}}}')


def test_pre_annotation_response_is_strict() -> None:
    with pytest.raises(ContractError, match="isHumanAnnotationRequired: expected a boolean"):
        g.PreAnnotationResponse.from_dict({"taskInput": {}, "isHumanAnnotationRequired": "yes"})
    with pytest.raises(ContractError, match="taskInput: missing"):
        g.PreAnnotationResponse.from_dict({"isHumanAnnotationRequired": True})
    with pytest.raises(ContractError, match="taskInput: expected an object"):
        g.PreAnnotationResponse.from_dict({"taskInput": "s3://b/k"})
    with pytest.raises(ContractError, match="surprise: unknown field"):
        g.PreAnnotationResponse.from_dict({"taskInput": {}, "surprise": 1})
    with pytest.raises(ContractError):
        g.PreAnnotationResponse(task_input={}, is_human_annotation_required="true")  # type: ignore[arg-type]


def test_pre_annotation_event_any_version_whole_line() -> None:
    line = {
        "source-ref": "s3://b/k.jpg",
        "page": 3,
        "metadata": {"x": 1},
        "prev": [1],
        "prev-metadata": {},
    }
    for version in ("2018-10-06", "2018-10-16", "2099-01-01", "weird"):
        ev = g.PreAnnotationEvent.from_dict(
            {"version": version, "labelingJobArn": JOB_ARN, "dataObject": line, "new": 1}
        )
        assert ev.version == version and ev.data_object == line and ev.extra == {"new": 1}
        assert ev.source_ref == "s3://b/k.jpg" and ev.source is None
    assert (
        g.PreAnnotationEvent.from_dict({"labelingJobArn": JOB_ARN, "dataObject": line}).version
        is None
    )
    with pytest.raises(ContractError, match="dataObject: missing"):
        g.PreAnnotationEvent.from_dict({"version": "x", "labelingJobArn": JOB_ARN})


def test_post_annotation_event_real_shape() -> None:
    # The [COMP] captured event quoted in CONTRACTS.md 2.1, plus a key nobody knows yet.
    d = {
        "version": "2018-10-06",
        "labelingJobArn": JOB_ARN,
        "labelAttributeName": "test-labeling-job-20211118T021255",
        "roleArn": "arn:aws:iam::123456789010:role/r",
        "payload": {
            "s3Uri": "s3://b/p/test-labeling-job-20211118T021255/annotations/consolidated-annotation/consolidation-request/iteration-1/2021-11-18_02:19:51.json"
        },
        "outputConfig": "s3://b/p/test-labeling-job-20211118T021255/annotations",
        "maxHumanWorkersPerDataObject": 1,
        "vpcEnabled": False,
        "futureKey": {"a": 1},
    }
    ev = g.PostAnnotationEvent.from_dict(d)
    assert ev.max_human_workers_per_data_object == 1 and ev.vpc_enabled is False
    assert ev.extra == {"futureKey": {"a": 1}} and ev.label_categories is None
    assert ev.job_name_lower != ev.label_attribute_name  # the ARN is lower-cased
    assert json.dumps(ev.to_dict()) == json.dumps(d)
    nulled = {**d, "labelCategories": None, "kmsKeyId": "k"}
    ev2 = g.PostAnnotationEvent.from_dict(nulled)
    assert ev2.label_categories is None and ev2.kms_key_id == "k"
    assert json.dumps(ev2.to_dict()) == json.dumps(nulled)  # an explicit null survives
    with pytest.raises(ContractError, match=r"labelCategories\[1\]: expected a string"):
        g.PostAnnotationEvent.from_dict({**d, "labelCategories": ["a", 2]})
    with pytest.raises(ContractError, match="payload.s3Uri: missing"):
        g.PostAnnotationEvent.from_dict({**d, "payload": {}})


def _item(contents: list[str]) -> dict:
    return {
        "datasetObjectId": "7",
        "dataObject": {"content": "some text"},
        "annotations": [
            {"workerId": f"private.us-west-2.w{i}", "annotationData": {"content": c}}
            for i, c in enumerate(contents)
        ],
    }


def test_malformed_content_names_the_field() -> None:
    good = json.dumps({"category": {"label": "a"}})
    req = g.ConsolidationRequest.from_list([_item([good, good, "{not json"])])
    with pytest.raises(ContractError) as e:
        req.worker_answers()
    assert e.value.field == "[0].annotations[2].annotationData.content"
    assert "not valid JSON" in str(e.value)
    item = g.ConsolidationRequestItem.from_dict(_item([good, "[1, 2]"]))
    with pytest.raises(
        ContractError,
        match=r"annotations\[1\]\.annotationData\.content: expected a JSON object, got array",
    ):
        item.worker_answers()
    with pytest.raises(
        ContractError, match=r"\[0\]\.annotations\[0\]\.annotationData\.content: expected a string"
    ):
        g.ConsolidationRequest.from_list(
            [
                {
                    **_item([good]),
                    "annotations": [{"workerId": "w", "annotationData": {"content": {"a": 1}}}],
                }
            ]
        )


def test_double_encoded_and_nested_content() -> None:
    inner = {"entities": [{"label": "x", "startOffset": 0, "endOffset": 1}]}
    double = json.dumps(json.dumps(inner))
    assert g.AnnotationData(content=double).parse_content() == inner
    # the [ELAN] shape: a plain input whose value is JSON text
    elan = '{"entities":"{\\"0\\":\\"17135270\\"}"}'
    assert g.AnnotationData(content=elan).parse_content() == {"entities": '{"0":"17135270"}'}
    assert g.AnnotationData(content=elan).parse_content(decode_nested=True) == {
        "entities": {"0": "17135270"}
    }
    # a string value that only looks like JSON stays a string
    assert g.AnnotationData(content='{"a": "{oops"}').parse_content(decode_nested=True) == {
        "a": "{oops"
    }


def test_s3uri_annotation_data() -> None:
    ad = g.AnnotationData.from_dict({"s3Uri": "s3://b/ann.json"})
    with pytest.raises(ContractError, match="pass read="):
        ad.parse_content()
    assert ad.parse_content(read=lambda uri: '{"k": {"label": "a"}}') == {"k": {"label": "a"}}
    with pytest.raises(ContractError, match="annotationData: expected content or s3Uri"):
        g.AnnotationData.from_dict({}, "annotationData")
    with pytest.raises(ContractError, match="dataObject: expected s3Uri or content"):
        g.ConsolidationRequestItem.from_dict({**_item([]), "dataObject": {}})


def test_worker_response_file() -> None:
    # Shape of the real [SMEX] worker-response file quoted in CONTRACTS.md 3.6, plus newer keys.
    d = {
        "answers": [
            {
                "answerContent": {"crowd-image-classifier": {"label": "Falcon"}},
                "submissionTime": "2019-04-18T16:11:15Z",
                "workerId": "public.us-east-1.PHMFOWIIICWDF3ZS5HORERJV6Y",
            },
            {
                "acceptanceTime": "2021-03-08T23:05:49.112Z",
                "answerContent": {"c": {"label": "Owl"}},
                "submissionTime": "2021-03-08T23:06:49.112Z",
                "timeSpentInSeconds": 60.0,
                "workerId": "private.us-west-2.ef7294f850a3d9d1",
                "workerMetadata": {
                    "identityData": {
                        "identityProviderType": "Oidc",
                        "issuer": "https://i",
                        "sub": "s",
                    }
                },
            },
        ]
    }
    wr = g.WorkerResponse.from_dict(d)
    assert json.dumps(wr.to_dict()) == json.dumps(d)
    item = wr.to_request_item("5", g.DataObject.from_manifest_line({"source-ref": "s3://b/5.jpg"}))
    assert item.to_dict()["annotations"][0] == {
        "workerId": "public.us-east-1.PHMFOWIIICWDF3ZS5HORERJV6Y",
        "annotationData": {"content": '{"crowd-image-classifier":{"label":"Falcon"}}'},
    }
    assert [a for _, a in item.worker_answers()] == [x["answerContent"] for x in d["answers"]]
    with pytest.raises(ContractError, match=r"answers\[0\]\.answerContent: expected an object"):
        g.WorkerResponse.from_dict({"answers": [{**d["answers"][0], "answerContent": "{}"}]})


def test_consolidation_response_is_strict() -> None:
    meta = output.failure_metadata("x")
    lab, md = output.image_classification_label(
        1, "cat", job_name="labeling-job/j", creation_date="2024-09-27T21:31:32.051349"
    )
    item = g.ConsolidationResponseItem.for_label("5", "bg", lab, md)
    d = item.to_dict()
    assert list(d["consolidatedAnnotation"]["content"]) == ["bg", "bg-metadata"]
    assert g.ConsolidationResponseItem.from_dict(d) == item and item.label("bg") == 1
    with pytest.raises(ContractError, match="datasetObjectId: expected a string"):
        g.ConsolidationResponseItem.from_dict({**d, "datasetObjectId": 5})
    with pytest.raises(ContractError, match="extra: unknown field"):
        g.ConsolidationResponseItem.from_dict({**d, "extra": 1})
    with pytest.raises(ContractError, match="consolidatedAnnotation.content: empty"):
        g.ConsolidationResponseItem.from_dict({**d, "consolidatedAnnotation": {"content": {}}})
    with pytest.raises(ContractError, match="content.bg-metadata: expected an object"):
        g.ConsolidationResponseItem.from_dict(
            {**d, "consolidatedAnnotation": {"content": {"bg": 1, "bg-metadata": "x"}}}
        )
    with pytest.raises(ContractError, match=r"\[1\]\.datasetObjectId: duplicate"):
        g.ConsolidationResponse.from_list([d, d])
    with pytest.raises(ContractError, match="expected an array"):
        g.ConsolidationResponse.from_list(d)
    resp = g.ConsolidationResponse(
        (item, g.ConsolidationResponseItem.for_label("6", "bg", None, meta))
    )
    assert resp.missing_ids(["5", "6", "7"]) == ["7"]
    assert g.ConsolidationResponse.from_list(resp.to_list()) == resp


def test_job_name_from_arn() -> None:
    assert g.job_name_from_arn(JOB_ARN) == "test-labeling-job-20211118t021255"
