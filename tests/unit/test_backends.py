"""One typed Backend: every service under one name on each backend, capabilities declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtflow.backends import open_backend
from gtflow.backends.base import CAPABILITIES, UnsupportedError
from gtflow.config import GtflowConfig


def test_local_backend_declares_and_provides(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(root=tmp_path))
    assert b.supports("portal") and b.supports("task_queue") and b.supports("local_files")
    assert not b.supports("aws_clients")
    with pytest.raises(UnsupportedError) as info:
        b.client("s3")
    assert "local backend" in str(info.value)
    assert b.task_queue.counts("none").total == 0 and list(b.verdicts.items()) == []
    assert b.human_loops.queue is b.task_queue  # one queue, shared by the services


def test_an_s3_store_is_not_local_files(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(root=tmp_path, store="s3://", endpoint_url="http://127.0.0.1:9"))
    assert not b.supports("local_files") and b.supports("portal")


def test_aws_backend_declares_and_refuses(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(backend="aws"))
    assert b.supports("aws_clients") and not b.supports("portal") and not b.supports("task_queue")
    with pytest.raises(UnsupportedError):
        b.task_queue  # noqa: B018
    assert {c for c in CAPABILITIES if b.supports(c)} == set(b.capabilities)


def test_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        open_backend(GtflowConfig()).supports("teleport")


def test_local_labeling_jobs_service_answers_like_describe_labeling_job(tmp_path: Path) -> None:
    import random

    from gtflow.labeling.jobs import LabelingJobs
    from tests.functional.test_labeling_local import answer_all, qa_spec, qa_store

    qa_store(tmp_path / "root")
    b = open_backend(GtflowConfig(root=tmp_path / "root"))
    jobs = b.labeling_jobs
    assert isinstance(jobs, LabelingJobs)
    arn = jobs.create(qa_spec())
    assert arn.endswith(":labeling-job/cat-qa") and jobs.create(qa_spec()) == arn  # a rerun finds it
    p = jobs.describe("Cat-QA")
    assert (p.status, p.done, p.labeled) == ("InProgress", False, 0) and p.total > 0
    from gtflow.labeling.local import LocalLabelingJob

    answer_all(LocalLabelingJob.open("Cat-QA", store=b.store, queue=b.task_queue), random.Random(1))
    p = jobs.describe("Cat-QA")
    assert (p.status, p.done, p.labeled, p.unlabeled) == ("Completed", True, p.total, 0)
    assert p.output_manifest and b.store.exists(p.output_manifest)


def test_aws_labeling_jobs_service_describes_through_sagemaker() -> None:
    import boto3
    from botocore.stub import Stubber

    b = open_backend(GtflowConfig(backend="aws"))
    sm = boto3.client("sagemaker", region_name="us-east-1")
    b.__dict__["_clients"] = {"sagemaker": sm}
    with Stubber(sm) as stub:
        stub.add_response("describe_labeling_job", {
            "LabelingJobStatus": "InProgress", "LabelCounters": {"TotalLabeled": 3, "HumanLabeled": 3, "Unlabeled": 7},
            "CreationTime": 0, "LastModifiedTime": 0, "JobReferenceCode": "x", "LabelingJobName": "job",
            "LabelingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/job", "LabelAttributeName": "l",
            "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://b/m"}}},
            "OutputConfig": {"S3OutputPath": "s3://b/o"}, "RoleArn": "arn:aws:iam::123456789012:role/r",
            "HumanTaskConfig": {"WorkteamArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t",
                                "UiConfig": {"UiTemplateS3Uri": "s3://b/t"}, "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:p",
                                "TaskTitle": "t", "TaskDescription": "d", "NumberOfHumanWorkersPerDataObject": 1,
                                "TaskTimeLimitInSeconds": 300,
                                "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:c"}},
        }, {"LabelingJobName": "job"})
        p = b.labeling_jobs.describe("job")
    assert (p.status, p.labeled, p.total, p.done) == ("InProgress", 3, 10, False)
