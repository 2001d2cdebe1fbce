"""Name rules of labeling jobs, checked locally with the patterns of botocore's service model.

    >>> validate_label_attribute_name("cat-ground-truth")
    'cat-ground-truth'
    >>> validate_label_attribute_name("cat_gt")
    Traceback (most recent call last):
    gtflow.errors.UsageError: LabelAttributeName: 'cat_gt' must match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,126} (letters, digits and single hyphens; no '_' or '.')
"""

from __future__ import annotations

import re

from gtflow.errors import UsageError

__all__ = [
    "LABELING_JOB_NAME_PATTERN",
    "LABEL_ATTRIBUTE_NAME_PATTERN",
    "LAMBDA_ARN_PATTERN",
    "WORKTEAM_ARN_PATTERN",
    "ROLE_ARN_PATTERN",
    "REF_TASK_TYPES",
    "validate_labeling_job_name",
    "validate_label_attribute_name",
    "validate_lambda_arn",
    "validate_workteam_arn",
    "validate_role_arn",
]

# Copied from botocore's sagemaker service-2.json; tests/unit/test_labeling_names.py asserts
# they still match the installed model, so drift is caught on upgrade.
LABELING_JOB_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
LABEL_ATTRIBUTE_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}"
LAMBDA_ARN_PATTERN = r"arn:aws[a-z\-]*:lambda:[a-z0-9\-]*:[0-9]{12}:function:.*"
WORKTEAM_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*"
ROLE_ARN_PATTERN = r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
#: Task types whose label attribute must end with -ref (CONTRACTS.md 3.1).
REF_TASK_TYPES = frozenset({
    "semantic-segmentation", "video-frame-object-detection", "video-frame-object-tracking",
    "3d-point-cloud-semantic-segmentation", "3d-point-cloud-object-tracking",
})


def _full(pattern: str, value: object, field: str, hint: str, max_len: int) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value) or len(value) > max_len:
        raise UsageError(f"{value!r} must match {pattern}{hint}", field=field)
    return value


def validate_labeling_job_name(name: str) -> str:
    """1-63 letters, digits and single hyphens (GT treats names case-insensitively)."""
    return _full(LABELING_JOB_NAME_PATTERN, name, "LabelingJobName", " (letters, digits and hyphens; at most 63)", 63)


def validate_label_attribute_name(name: str, *, task_type: str = "custom") -> str:
    """The label attribute rules: the pattern, not ``-metadata``, ``-ref`` only for the task types that need it."""
    _full(LABEL_ATTRIBUTE_NAME_PATTERN, name, "LabelAttributeName",
          " (letters, digits and single hyphens; no '_' or '.')", 127)
    if name.endswith("-metadata"):
        raise UsageError(f"{name!r} must not end with -metadata", field="LabelAttributeName")
    if task_type in REF_TASK_TYPES and not name.endswith("-ref"):
        raise UsageError(f"{name!r} must end with -ref for {task_type} jobs", field="LabelAttributeName")
    if task_type not in REF_TASK_TYPES and name.endswith("-ref"):
        raise UsageError(f"{name!r} must not end with -ref for {task_type} jobs", field="LabelAttributeName")
    return name


def validate_lambda_arn(arn: str, field: str = "PreHumanTaskLambdaArn") -> str:
    return _full(LAMBDA_ARN_PATTERN, arn, field, "", 2048)


def validate_workteam_arn(arn: str) -> str:
    return _full(WORKTEAM_ARN_PATTERN, arn, "WorkteamArn", "", 256)


def validate_role_arn(arn: str) -> str:
    if isinstance(arn, str) and len(arn) < 20:
        raise UsageError(f"{arn!r} is shorter than 20 characters", field="RoleArn")
    return _full(ROLE_ARN_PATTERN, arn, "RoleArn", "", 2048)
