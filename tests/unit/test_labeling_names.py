"""Our name patterns and limits equal botocore's service model (drift is caught on upgrade)."""

from __future__ import annotations

import botocore.session
import pytest

from gtflow.errors import UsageError
from gtflow.labeling import names


def _shape(path: list[str]) -> dict[str, object]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateLabelingJob").input_shape
    for part in path:
        shape = shape.members[part]
    return dict(shape.metadata)


@pytest.mark.parametrize(("path", "ours", "max_len"), [
    (["LabelingJobName"], names.LABELING_JOB_NAME_PATTERN, 63),
    (["LabelAttributeName"], names.LABEL_ATTRIBUTE_NAME_PATTERN, 127),
    (["HumanTaskConfig", "PreHumanTaskLambdaArn"], names.LAMBDA_ARN_PATTERN, 2048),
    (["HumanTaskConfig", "WorkteamArn"], names.WORKTEAM_ARN_PATTERN, 256),
    (["RoleArn"], names.ROLE_ARN_PATTERN, 2048),
])
def test_patterns_match_the_service_model(path: list[str], ours: str, max_len: int) -> None:
    meta = _shape(path)
    assert meta["pattern"] == ours
    assert meta["max"] == max_len


@pytest.mark.parametrize("bad", ["a_b", "a.b", "-ab", "ab-", "x" * 128, "cat-metadata", "cat-ref", ""])
def test_bad_label_attribute_names(bad: str) -> None:
    with pytest.raises(UsageError):
        names.validate_label_attribute_name(bad)


def test_ref_rule_by_task_type() -> None:
    assert names.validate_label_attribute_name("seg-ref", task_type="semantic-segmentation") == "seg-ref"
    with pytest.raises(UsageError, match="-ref"):
        names.validate_label_attribute_name("seg", task_type="semantic-segmentation")


def test_job_names_and_arns() -> None:
    assert names.validate_labeling_job_name("Cat-QA-2024") == "Cat-QA-2024"
    for bad in ("cat_qa", "x" * 64, "a--"):
        with pytest.raises(UsageError):
            names.validate_labeling_job_name(bad)
    names.validate_lambda_arn("arn:aws:lambda:us-east-1:123456789012:function:gt-SageMaker-pre")
    with pytest.raises(UsageError):
        names.validate_lambda_arn("arn:aws:lambda:us-east-1:12345:function:f")
