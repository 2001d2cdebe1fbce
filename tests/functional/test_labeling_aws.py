"""CreateLabelingJob requests checked by botocore's Stubber against the real service model."""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from gtflow.errors import ConflictError, ServiceError, UsageError
from gtflow.labeling.aws import (
    LabelingJobSpec,
    build_request,
    create_labeling_job,
    describe_labeling_job,
    wait_for_labeling_job,
)
from gtflow.store import LocalStore

ACCOUNT = "111122223333"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:labeling-job/cat-qa"


def spec(**kw: Any) -> LabelingJobSpec:
    base = LabelingJobSpec(
        name="cat-qa", input_manifest="s3://my-bucket/qa/in.manifest", output_path="s3://my-bucket/qa/out",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/gt-execution",
        workteam_arn=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/qa-team",
        task_title="Check cat labels", task_description="Uncheck the images that are not cats",
        template="<crowd-form></crowd-form>",
        pre_lambda_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gtflow-SageMaker-pre-bulk-qa",
        post_lambda_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gtflow-SageMaker-post-bulk-qa-verdicts",
        label_attribute_name="cat-qa-verdicts", label_categories=["cat"], workers_per_object=3,
        task_availability_lifetime_seconds=86400, task_keywords=["images", "QA"],
    )
    return replace(base, **kw)


@pytest.fixture
def sm() -> Any:
    return boto3.client("sagemaker", region_name="us-east-1")


def test_create_sends_a_request_the_service_model_accepts(sm: Any, tmp_path: Any) -> None:
    store = LocalStore(tmp_path)
    with Stubber(sm) as stub:
        stub.add_response("create_labeling_job", {"LabelingJobArn": ARN}, {
            "LabelingJobName": "cat-qa",
            "LabelAttributeName": "cat-qa-verdicts",
            "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://my-bucket/qa/in.manifest"}}},
            "OutputConfig": {"S3OutputPath": "s3://my-bucket/qa/out"},
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/gt-execution",
            "LabelCategoryConfigS3Uri": ANY,
            "HumanTaskConfig": {
                "WorkteamArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/qa-team",
                "UiConfig": {"UiTemplateS3Uri": ANY},
                "PreHumanTaskLambdaArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gtflow-SageMaker-pre-bulk-qa",
                "TaskKeywords": ["images", "QA"],
                "TaskTitle": "Check cat labels",
                "TaskDescription": "Uncheck the images that are not cats",
                "NumberOfHumanWorkersPerDataObject": 3,
                "TaskTimeLimitInSeconds": 300,
                "TaskAvailabilityLifetimeInSeconds": 86400,
                "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn":
                    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gtflow-SageMaker-post-bulk-qa-verdicts"},
            },
        })
        assert create_labeling_job(sm, store, spec()) == ARN
        stub.assert_no_pending_responses()
    uploaded = sorted(o.uri for o in store.list("s3://my-bucket/qa/out/gtflow-ui/"))
    assert len(uploaded) == 2 and uploaded[0].endswith(".liquid.html")
    assert store.get_text(uploaded[0]) == "<crowd-form></crowd-form>"
    assert '"labels":[{"label":"cat"}]' in store.get_text(uploaded[1])


def test_retry_with_the_same_request_converges_and_a_different_one_conflicts(sm: Any, tmp_path: Any) -> None:
    store = LocalStore(tmp_path)
    s = spec()
    from gtflow.labeling.aws import upload_ui

    req = build_request(upload_ui(store, s))
    described = {
        "LabelingJobStatus": "InProgress", "LabelCounters": {}, "CreationTime": _dt.datetime(2024, 1, 1),
        "LastModifiedTime": _dt.datetime(2024, 1, 1), "JobReferenceCode": "x", "LabelingJobName": "cat-qa",
        "LabelingJobArn": ARN, "LabelAttributeName": req["LabelAttributeName"], "InputConfig": req["InputConfig"],
        "OutputConfig": req["OutputConfig"], "RoleArn": req["RoleArn"], "HumanTaskConfig": req["HumanTaskConfig"],
    }
    with Stubber(sm) as stub:
        stub.add_client_error("create_labeling_job", "ResourceInUse", http_status_code=400)
        stub.add_response("describe_labeling_job", described, {"LabelingJobName": "cat-qa"})
        assert create_labeling_job(sm, store, s) == ARN
        stub.add_client_error("create_labeling_job", "ResourceInUse", http_status_code=400)
        stub.add_response("describe_labeling_job", described, {"LabelingJobName": "cat-qa"})
        with pytest.raises(ConflictError):
            create_labeling_job(sm, store, replace(s, template="<crowd-form>v2</crowd-form>"))
        stub.add_client_error("create_labeling_job", "ValidationException", http_status_code=400)
        with pytest.raises(ServiceError):
            create_labeling_job(sm, store, s)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "cat_qa"}, "LabelingJobName"),
    ({"label_attribute_name": "cat-metadata"}, "LabelAttributeName"),
    ({"label_attribute_name": "cat-ref"}, "LabelAttributeName"),
    ({"pre_lambda_arn": "arn:aws:lambda:us-east-1:1:function:x"}, "HumanTaskConfig.PreHumanTaskLambdaArn"),
    ({"workteam_arn": "arn:aws:sagemaker:us-east-1:1:workteam/x"}, "WorkteamArn"),
    ({"workers_per_object": 10}, "HumanTaskConfig.NumberOfHumanWorkersPerDataObject"),
    ({"task_time_limit_seconds": 10}, "HumanTaskConfig.TaskTimeLimitInSeconds"),
    ({"task_availability_lifetime_seconds": 59}, "HumanTaskConfig.TaskAvailabilityLifetimeInSeconds"),
    ({"template_uri": None, "template": None}, "HumanTaskConfig.UiConfig"),
    ({"task_keywords": ["a"] * 6}, "HumanTaskConfig.TaskKeywords"),
])
def test_invalid_requests_are_refused_locally(change: dict[str, Any], field: str) -> None:
    s = replace(spec(template=None, template_uri="s3://my-bucket/t.liquid.html"), **change)
    with pytest.raises(UsageError) as err:
        build_request(s)
    assert err.value.field == field


def test_wait_reports_progress_until_done(sm: Any) -> None:
    def desc(status: str, labeled: int) -> dict[str, Any]:
        d = {
            "LabelingJobStatus": status, "CreationTime": _dt.datetime(2024, 1, 1),
            "LabelCounters": {"TotalLabeled": labeled, "HumanLabeled": labeled, "MachineLabeled": 0,
                              "FailedNonRetryableError": 1, "Unlabeled": 10 - labeled},
            "LastModifiedTime": _dt.datetime(2024, 1, 1), "JobReferenceCode": "x", "LabelingJobName": "cat-qa",
            "LabelingJobArn": ARN, "LabelAttributeName": "cat-qa",
            "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://my-bucket/in.manifest"}}},
            "OutputConfig": {"S3OutputPath": "s3://my-bucket/out"}, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
            "HumanTaskConfig": {"WorkteamArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/t",
                                "UiConfig": {"UiTemplateS3Uri": "s3://my-bucket/t.html"}, "TaskTitle": "t",
                                "TaskDescription": "d", "NumberOfHumanWorkersPerDataObject": 1,
                                "TaskTimeLimitInSeconds": 300},
        }
        if status == "Completed":
            d["LabelingJobOutput"] = {"OutputDatasetS3Uri": "s3://my-bucket/out/cat-qa/manifests/output/output.manifest"}
        return d

    seen: list[str] = []
    sleeps: list[float] = []
    with Stubber(sm) as stub:
        for status, n in [("InProgress", 0), ("InProgress", 5), ("Completed", 9)]:
            stub.add_response("describe_labeling_job", desc(status, n), {"LabelingJobName": "cat-qa"})
        final = wait_for_labeling_job(sm, "cat-qa", poll_seconds=7, on_progress=lambda p: seen.append(str(p)),
                                      sleep=sleeps.append)
        stub.assert_no_pending_responses()
    assert final.done and final.labeled == 9 and final.failed == 1
    assert final.output_manifest.endswith("manifests/output/output.manifest")
    assert seen[1] == "cat-qa: InProgress 5/11 labeled, 1 failed, 5 unlabeled"
    assert sleeps == [7, 7]
    with Stubber(sm) as stub:
        stub.add_response("describe_labeling_job", desc("InProgress", 1), {"LabelingJobName": "cat-qa"})
        with pytest.raises(ServiceError, match="still InProgress"):
            wait_for_labeling_job(sm, "cat-qa", timeout_seconds=0, sleep=sleeps.append)
    assert describe_labeling_job.__name__ == "describe_labeling_job"
