"""Flow definitions (``CreateFlowDefinition``, CONTRACTS.md 4.2): who reviews, with which UI,
and where answers go.

    >>> fd = FlowDefinition(
    ...     name="od-review", output_path="s3://bucket/a2i-results",
    ...     human_task_ui_arn="arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/od-review-ui",
    ...     role_arn="arn:aws:iam::111122223333:role/a2i-od-review",
    ...     workteam_arn="arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/reviewers",
    ...     task_title="Check the boxes", task_description="Fix or confirm the model's boxes")
    >>> fd.to_request()["HumanLoopConfig"]["TaskCount"]
    1

Custom task types have no activation conditions (the client routes: :mod:`gtflow.routing`),
so neither ``HumanLoopRequestSource`` nor ``HumanLoopActivationConfig`` is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gtflow.a2i._retry import call_with_retry, error_code
from gtflow.a2i.names import validate_resource_name
from gtflow.errors import ConflictError, ServiceError, UsageError
from gtflow.logs import get_logger
from gtflow.uris import S3Uri

__all__ = [
    "FlowDefinition",
    "create_flow_definition",
    "wait_for_active",
    "flow_role_policy",
    "flow_trust_policy",
    "caller_policy",
    "local_arn",
]

log = get_logger(__name__)

_WORKTEAM_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*$")
_UI_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:[0-9]{12}:human-task-ui/.*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_OUTPUT = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
_TEXT = re.compile(r"^[\t\n\r -\uD7FF\uE000-\uFFFD]*$")
_KEYWORD = re.compile(r"^[A-Za-z0-9]+( [A-Za-z0-9]+)*$")
LOCAL_ACCOUNT = "000000000000"


def local_arn(kind: str, name: str) -> str:
    """The ARN a local-backend resource reports (region ``local``, account 0).

    >>> local_arn("flow-definition", "od-review")
    'arn:aws:sagemaker:local:000000000000:flow-definition/od-review'
    """
    return f"arn:aws:sagemaker:local:{LOCAL_ACCOUNT}:{kind}/{name}"


def _bad(field: str, message: str) -> UsageError:
    return UsageError(message, field=field)


@dataclass(frozen=True)
class FlowDefinition:
    """A custom-task-type flow definition. ``role_arn`` and ``workteam_arn`` are required on
    AWS and ignored by the local backend."""

    name: str
    output_path: str
    human_task_ui_arn: str
    task_title: str
    task_description: str
    role_arn: str | None = None
    workteam_arn: str | None = None
    task_count: int = 1
    task_availability_lifetime_seconds: int | None = None
    task_time_limit_seconds: int | None = None
    task_keywords: tuple[str, ...] = ()
    kms_key_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def validate(self, *, aws: bool = True) -> FlowDefinition:
        """Check names, patterns and limits as the service model states them."""
        validate_resource_name(self.name, "FlowDefinitionName")
        if len(self.output_path) > 1024 or not _OUTPUT.match(self.output_path):
            raise _bad("OutputConfig.S3OutputPath", f"not an s3:// or https:// path: {self.output_path!r:.100}")
        if self.output_path.startswith("s3://"):
            S3Uri.parse(self.output_path)
        if not 1 <= len(self.task_title) <= 128 or not _TEXT.match(self.task_title):
            raise _bad("HumanLoopConfig.TaskTitle", "1-128 printable characters")
        if not 1 <= len(self.task_description) <= 255 or not _TEXT.match(self.task_description):
            raise _bad("HumanLoopConfig.TaskDescription", "1-255 printable characters")
        if isinstance(self.task_count, bool) or not isinstance(self.task_count, int) or not 1 <= self.task_count <= 3:
            raise _bad("HumanLoopConfig.TaskCount", f"must be 1-3, not {self.task_count!r}")
        if self.task_availability_lifetime_seconds is not None and self.task_availability_lifetime_seconds < 1:
            raise _bad("HumanLoopConfig.TaskAvailabilityLifetimeInSeconds", "must be at least 1")
        if self.task_time_limit_seconds is not None and self.task_time_limit_seconds < 30:
            raise _bad("HumanLoopConfig.TaskTimeLimitInSeconds", "must be at least 30")
        if self.task_keywords and not 1 <= len(self.task_keywords) <= 5:
            raise _bad("HumanLoopConfig.TaskKeywords", "1-5 keywords")
        for i, kw in enumerate(self.task_keywords):
            if not 1 <= len(kw) <= 30 or not _KEYWORD.match(kw):
                raise _bad(f"HumanLoopConfig.TaskKeywords[{i}]", "1-30 letters/digits, single spaces")
        if len(self.tags) > 50:
            raise _bad("Tags", "at most 50 tags")
        if aws:
            if not self.role_arn or not 20 <= len(self.role_arn) <= 2048 or not _ROLE_ARN.match(self.role_arn):
                raise _bad("RoleArn", f"not an IAM role ARN: {self.role_arn!r:.100}")
            if not self.workteam_arn or len(self.workteam_arn) > 256 or not _WORKTEAM_ARN.match(self.workteam_arn):
                raise _bad("HumanLoopConfig.WorkteamArn", f"not a workteam ARN: {self.workteam_arn!r:.100}")
            if not _UI_ARN.match(self.human_task_ui_arn):
                raise _bad("HumanLoopConfig.HumanTaskUiArn", f"not a human task UI ARN: {self.human_task_ui_arn!r:.100}")
        return self

    def human_loop_config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "WorkteamArn": self.workteam_arn,
            "HumanTaskUiArn": self.human_task_ui_arn,
            "TaskTitle": self.task_title,
            "TaskDescription": self.task_description,
            "TaskCount": self.task_count,
        }
        if self.task_availability_lifetime_seconds is not None:
            cfg["TaskAvailabilityLifetimeInSeconds"] = self.task_availability_lifetime_seconds
        if self.task_time_limit_seconds is not None:
            cfg["TaskTimeLimitInSeconds"] = self.task_time_limit_seconds
        if self.task_keywords:
            cfg["TaskKeywords"] = list(self.task_keywords)
        return cfg

    def output_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"S3OutputPath": self.output_path}
        if self.kms_key_id:
            out["KmsKeyId"] = self.kms_key_id
        return out

    def to_request(self) -> dict[str, Any]:
        """The CreateFlowDefinition parameters (validated for AWS)."""
        self.validate(aws=True)
        req: dict[str, Any] = {
            "FlowDefinitionName": self.name,
            "HumanLoopConfig": self.human_loop_config(),
            "OutputConfig": self.output_config(),
            "RoleArn": self.role_arn,
        }
        if self.tags:
            req["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        return req

    def matches(self, described: Mapping[str, Any]) -> bool:
        """Whether a DescribeFlowDefinition answer is this definition (ignoring tags)."""
        hlc = dict(described.get("HumanLoopConfig") or {})
        mine = self.human_loop_config()
        return (
            all(hlc.get(k) == v for k, v in mine.items())
            and (described.get("OutputConfig") or {}).get("S3OutputPath", "").rstrip("/") == self.output_path.rstrip("/")
            and described.get("RoleArn") == self.role_arn
        )


def create_flow_definition(sagemaker: Any, fd: FlowDefinition, *, wait: bool = True, **retry: Any) -> str:
    """Create the flow definition (and wait until it is Active); return its ARN.

    An existing definition with the same settings is reused; one with other settings raises
    :class:`ConflictError` (flow definitions cannot be updated, only deleted and re-created).
    """
    req = fd.to_request()
    try:
        resp = call_with_retry(
            sagemaker.create_flow_definition, passthrough=frozenset({"ResourceInUse"}), **retry, **req
        )
        arn = str(resp["FlowDefinitionArn"])
        log.info("created flow definition %s", fd.name)
    except Exception as exc:
        if error_code(exc) != "ResourceInUse":
            raise
        desc = call_with_retry(sagemaker.describe_flow_definition, FlowDefinitionName=fd.name, **retry)
        if not fd.matches(desc):
            raise ConflictError(
                f"flow definition {fd.name!r} exists with different settings", field="FlowDefinitionName"
            ) from None
        arn = str(desc["FlowDefinitionArn"])
        log.info("flow definition %s exists with the same settings", fd.name)
    if wait:
        wait_for_active(sagemaker, fd.name, **retry)
    return arn


def wait_for_active(
    sagemaker: Any,
    name: str,
    *,
    timeout: float = 600.0,
    poll: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    **retry: Any,
) -> dict[str, Any]:
    """Poll DescribeFlowDefinition until ``Active``; ``Failed`` or a timeout raise ServiceError."""
    deadline = clock() + timeout
    while True:
        desc: dict[str, Any] = call_with_retry(sagemaker.describe_flow_definition, FlowDefinitionName=name, sleep=sleep, **retry)
        status = desc.get("FlowDefinitionStatus")
        if status == "Active":
            return desc
        if status in ("Failed", "Deleting"):
            raise ServiceError(f"flow definition {name!r} is {status}: {desc.get('FailureReason', '')}")
        if clock() >= deadline:
            raise ServiceError(f"flow definition {name!r} still {status} after {timeout:g} s")
        sleep(poll)


# -- least-privilege IAM (STYLE_AND_RELIABILITY S3; docs/human-loops.md) ------------------------
def _bucket_arns(uri: str) -> tuple[str, str]:
    u = S3Uri.parse(uri)
    prefix = u.key.strip("/")
    objects = f"arn:aws:s3:::{u.bucket}/{prefix + '/' if prefix else ''}*"
    return f"arn:aws:s3:::{u.bucket}", objects


def flow_role_policy(input_prefixes: Sequence[str], output_path: str, *, kms_key_arn: str | None = None) -> dict[str, Any]:
    """The flow definition role's permissions: read the images, write the answers.

    >>> p = flow_role_policy(["s3://imgs/in/"], "s3://out/a2i")
    >>> [s["Action"] for s in p["Statement"]]
    [['s3:GetObject'], ['s3:PutObject']]
    """
    reads = sorted({_bucket_arns(p)[1] for p in input_prefixes})
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadTaskObjects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": reads},
        {"Sid": "WriteHumanLoopOutput", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [_bucket_arns(output_path)[1]]},
    ]
    if kms_key_arn:
        statements.append(
            {"Sid": "EncryptOutput", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [kms_key_arn]}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def flow_trust_policy(account_id: str, region: str) -> dict[str, Any]:
    """Trust for ``sagemaker.amazonaws.com`` limited to this account's flow definitions
    (confused-deputy protection)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:sagemaker:{region}:{account_id}:flow-definition/*"},
                },
            }
        ],
    }


def caller_policy(account_id: str, region: str, flow_name: str, output_path: str) -> dict[str, Any]:
    """What the code that starts and collects loops needs (gtflow loop names start with the
    flow's name, so one prefix covers them)."""
    bucket, objects = _bucket_arns(S3Uri.parse(output_path).join(flow_name).__str__() + "/")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "HumanLoops",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:StartHumanLoop", "sagemaker:DescribeHumanLoop",
                    "sagemaker:StopHumanLoop", "sagemaker:ListHumanLoops",
                ],
                "Resource": [
                    f"arn:aws:sagemaker:{region}:{account_id}:human-loop/{flow_name[:42]}*",
                    f"arn:aws:sagemaker:{region}:{account_id}:flow-definition/{flow_name}",
                ],
            },
            {
                "Sid": "DescribeFlow",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeFlowDefinition"],
                "Resource": [f"arn:aws:sagemaker:{region}:{account_id}:flow-definition/{flow_name}"],
            },
            {"Sid": "ReadAnswers", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [objects]},
            {
                "Sid": "ListAnswers", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": [S3Uri.parse(output_path).join(flow_name).key + "/*"]}},
            },
        ],
    }
