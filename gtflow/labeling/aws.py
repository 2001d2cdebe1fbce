"""Ground Truth labeling jobs on AWS: build, validate and create ``CreateLabelingJob``; describe and wait.

    >>> spec = LabelingJobSpec(
    ...     name="cat-qa", input_manifest="s3://my-bucket/in.manifest", output_path="s3://my-bucket/out",
    ...     role_arn="arn:aws:iam::111122223333:role/gt", workteam_arn=
    ...     "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
    ...     template_uri="s3://my-bucket/t.liquid.html", task_title="Check cats",
    ...     task_description="Uncheck images that are not cats")
    >>> req = build_request(spec)
    >>> req["LabelAttributeName"], req["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"]
    ('cat-qa', 1)

:func:`create_labeling_job` uploads the template (and label categories) under
``<S3OutputPath>/gtflow-ui/`` with content-hash names, validates the request and calls the API.
A name already in use by a job made from the same request is accepted (a retry converges);
a different request under that name raises ConflictError. :func:`wait_for_labeling_job` polls
``DescribeLabelingJob`` and reports ``LabelCounters`` as it goes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ConflictError, ServiceError, UsageError
from gtflow.labeling.names import (
    validate_label_attribute_name,
    validate_labeling_job_name,
    validate_lambda_arn,
    validate_role_arn,
    validate_workteam_arn,
)
from gtflow.logs import get_logger
from gtflow.store.s3 import error_code
from gtflow.uris import S3Uri

__all__ = [
    "LabelingJobSpec",
    "LabelingJobProgress",
    "build_request",
    "validate_request",
    "upload_ui",
    "create_labeling_job",
    "describe_labeling_job",
    "wait_for_labeling_job",
    "TERMINAL_STATUSES",
]

log = get_logger(__name__)

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})


@dataclass(frozen=True)
class LabelingJobSpec:
    """Everything a custom GT labeling job needs (one field per request member we set).

    Give the template as ``template`` (text, uploaded by :func:`create_labeling_job`) or as
    ``template_uri`` (already in S3) or ``human_task_ui_arn``.
    """

    name: str
    input_manifest: str
    output_path: str
    role_arn: str
    workteam_arn: str
    task_title: str
    task_description: str
    template: str | None = field(default=None, repr=False)
    template_uri: str | None = None
    human_task_ui_arn: str | None = None
    pre_lambda_arn: str | None = None
    post_lambda_arn: str | None = None
    label_attribute_name: str | None = None
    label_categories: Sequence[str] | None = None
    label_category_config_uri: str | None = None
    workers_per_object: int = 1
    task_time_limit_seconds: int = 300
    task_availability_lifetime_seconds: int | None = None
    max_concurrent_task_count: int | None = None
    task_keywords: Sequence[str] = ()
    kms_key_id: str | None = None
    task_type: str = "custom"
    max_human_labeled_object_count: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def build_request(spec: LabelingJobSpec) -> dict[str, Any]:
    """The ``CreateLabelingJob`` parameters for ``spec`` (validated; no network)."""
    ui: dict[str, Any] = {}
    if spec.human_task_ui_arn:
        ui["HumanTaskUiArn"] = spec.human_task_ui_arn
    elif spec.template_uri:
        ui["UiTemplateS3Uri"] = spec.template_uri
    htc: dict[str, Any] = {"WorkteamArn": spec.workteam_arn, "UiConfig": ui}
    if spec.pre_lambda_arn:
        htc["PreHumanTaskLambdaArn"] = spec.pre_lambda_arn
    if spec.task_keywords:
        htc["TaskKeywords"] = list(spec.task_keywords)
    htc.update(
        TaskTitle=spec.task_title,
        TaskDescription=spec.task_description,
        NumberOfHumanWorkersPerDataObject=spec.workers_per_object,
        TaskTimeLimitInSeconds=spec.task_time_limit_seconds,
    )
    if spec.task_availability_lifetime_seconds is not None:
        htc["TaskAvailabilityLifetimeInSeconds"] = spec.task_availability_lifetime_seconds
    if spec.max_concurrent_task_count is not None:
        htc["MaxConcurrentTaskCount"] = spec.max_concurrent_task_count
    if spec.post_lambda_arn:
        htc["AnnotationConsolidationConfig"] = {"AnnotationConsolidationLambdaArn": spec.post_lambda_arn}
    out: dict[str, Any] = {"S3OutputPath": spec.output_path}
    if spec.kms_key_id:
        out["KmsKeyId"] = spec.kms_key_id
    req: dict[str, Any] = {
        "LabelingJobName": spec.name,
        "LabelAttributeName": spec.label_attribute_name or spec.name,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": spec.input_manifest}}},
        "OutputConfig": out,
        "RoleArn": spec.role_arn,
    }
    if spec.label_category_config_uri:
        req["LabelCategoryConfigS3Uri"] = spec.label_category_config_uri
    if spec.max_human_labeled_object_count is not None:
        req["StoppingConditions"] = {"MaxHumanLabeledObjectCount": spec.max_human_labeled_object_count}
    req["HumanTaskConfig"] = htc
    if spec.tags:
        req["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())]
    validate_request(req, task_type=spec.task_type)
    return req


def validate_request(req: Mapping[str, Any], *, task_type: str = "custom") -> None:
    """Check a request against GT's rules before sending it; UsageError names the member.

    Beyond botocore's own checks: name patterns, the label attribute rules (no ``-metadata``,
    ``-ref`` only where required), Lambda/workteam/role ARNs, worker count 1-9, time limits,
    and exactly one of ``UiTemplateS3Uri``/``HumanTaskUiArn``.
    """
    validate_labeling_job_name(req.get("LabelingJobName", ""))
    validate_label_attribute_name(req.get("LabelAttributeName", ""), task_type=task_type)
    validate_role_arn(req.get("RoleArn", ""))
    ds = req.get("InputConfig", {}).get("DataSource", {})
    manifest = ds.get("S3DataSource", {}).get("ManifestS3Uri")
    if manifest is None and "SnsDataSource" not in ds:
        raise UsageError("an input manifest or SNS data source is required", field="InputConfig")
    if manifest is not None:
        S3Uri.parse(manifest, require_key=True)
    S3Uri.parse(req.get("OutputConfig", {}).get("S3OutputPath", ""))
    htc = req.get("HumanTaskConfig")
    if not isinstance(htc, Mapping):
        raise UsageError("HumanTaskConfig is required", field="HumanTaskConfig")
    validate_workteam_arn(htc.get("WorkteamArn", ""))
    ui = htc.get("UiConfig", {})
    if ("UiTemplateS3Uri" in ui) == ("HumanTaskUiArn" in ui):
        raise UsageError("give exactly one of UiTemplateS3Uri and HumanTaskUiArn", field="HumanTaskConfig.UiConfig")
    if "UiTemplateS3Uri" in ui:
        S3Uri.parse(ui["UiTemplateS3Uri"], require_key=True)
    if "PreHumanTaskLambdaArn" in htc:
        validate_lambda_arn(htc["PreHumanTaskLambdaArn"], "HumanTaskConfig.PreHumanTaskLambdaArn")
    acc = htc.get("AnnotationConsolidationConfig")
    if acc is not None:
        validate_lambda_arn(acc.get("AnnotationConsolidationLambdaArn", ""),
                            "HumanTaskConfig.AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn")
    n = htc.get("NumberOfHumanWorkersPerDataObject")
    if not isinstance(n, int) or not 1 <= n <= 9:
        raise UsageError("must be 1..9", field="HumanTaskConfig.NumberOfHumanWorkersPerDataObject")
    title = htc.get("TaskTitle", "")
    if not isinstance(title, str) or not 1 <= len(title) <= 128:
        raise UsageError("must be 1..128 characters", field="HumanTaskConfig.TaskTitle")
    desc = htc.get("TaskDescription", "")
    if not isinstance(desc, str) or not 1 <= len(desc) <= 255:
        raise UsageError("must be 1..255 characters", field="HumanTaskConfig.TaskDescription")
    limit = htc.get("TaskTimeLimitInSeconds")
    if not isinstance(limit, int) or limit < 30:
        raise UsageError("must be at least 30 seconds", field="HumanTaskConfig.TaskTimeLimitInSeconds")
    life = htc.get("TaskAvailabilityLifetimeInSeconds")
    if life is not None and (not isinstance(life, int) or life < 60):
        raise UsageError("must be at least 60 seconds", field="HumanTaskConfig.TaskAvailabilityLifetimeInSeconds")
    kw = htc.get("TaskKeywords")
    if kw is not None and not 1 <= len(kw) <= 5:
        raise UsageError("give 1..5 keywords", field="HumanTaskConfig.TaskKeywords")


def _sha8(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def upload_ui(store: Any, spec: LabelingJobSpec) -> LabelingJobSpec:
    """Upload the template (and label categories) under ``<S3OutputPath>/gtflow-ui/``.

    Names carry a content hash, so a retry writes the same objects and the request is unchanged.
    """
    from dataclasses import replace

    changes: dict[str, Any] = {}
    base = S3Uri.parse(spec.output_path).join("gtflow-ui")
    if spec.template is not None and not spec.template_uri and not spec.human_task_ui_arn:
        data = spec.template.encode("utf-8")
        uri = str(base.join(f"{spec.name}-{_sha8(data)}.liquid.html"))
        store.put_bytes(uri, data, content_type="text/html")
        changes["template_uri"] = uri
    if spec.label_categories is not None and not spec.label_category_config_uri:
        doc = {"document-version": "2018-11-28", "labels": [{"label": c} for c in spec.label_categories]}
        data = json.dumps(doc, separators=(",", ":")).encode()
        uri = str(base.join(f"{spec.name}-categories-{_sha8(data)}.json"))
        store.put_bytes(uri, data, content_type="application/json")
        changes["label_category_config_uri"] = uri
    return replace(spec, **changes) if changes else spec


def create_labeling_job(client: Any, store: Any, spec: LabelingJobSpec) -> str:
    """Upload the UI, validate and call ``CreateLabelingJob``; returns the job ARN.

    If the name is taken (``ResourceInUse``), the existing job is described: same input
    manifest, output path, attribute and UI → its ARN is returned; otherwise ConflictError.
    """
    spec = upload_ui(store, spec)
    req = build_request(spec)
    try:
        resp = client.create_labeling_job(**req)
    except Exception as exc:
        if error_code(exc) not in ("ResourceInUse", "ResourceInUseException"):
            raise ServiceError(f"CreateLabelingJob failed: {error_code(exc) or type(exc).__name__}",
                               field="LabelingJobName") from exc
        d = client.describe_labeling_job(LabelingJobName=spec.name)
        same = (
            d.get("InputConfig") == req["InputConfig"]
            and d.get("OutputConfig", {}).get("S3OutputPath") == req["OutputConfig"]["S3OutputPath"]
            and d.get("LabelAttributeName") == req["LabelAttributeName"]
            and d.get("HumanTaskConfig", {}).get("UiConfig") == req["HumanTaskConfig"]["UiConfig"]
        )
        if not same:
            raise ConflictError(f"labeling job {spec.name!r} exists with a different request",
                                field="LabelingJobName") from exc
        log.info("labeling job already exists name=%s", spec.name)
        return str(d["LabelingJobArn"])
    log.info("labeling job created name=%s", spec.name)
    return str(resp["LabelingJobArn"])


@dataclass(frozen=True)
class LabelingJobProgress:
    """The parts of ``DescribeLabelingJob`` a caller watches."""

    name: str
    status: str
    total: int
    labeled: int
    human_labeled: int
    machine_labeled: int
    failed: int
    unlabeled: int
    failure_reason: str | None = None
    output_manifest: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def __str__(self) -> str:
        return (f"{self.name}: {self.status} {self.labeled}/{self.total} labeled, "
                f"{self.failed} failed, {self.unlabeled} unlabeled")


def describe_labeling_job(client: Any, name: str) -> LabelingJobProgress:
    d = client.describe_labeling_job(LabelingJobName=name)
    c = d.get("LabelCounters", {})
    return LabelingJobProgress(
        name=d.get("LabelingJobName", name), status=d["LabelingJobStatus"],
        total=c.get("TotalLabeled", 0) + c.get("Unlabeled", 0) + c.get("FailedNonRetryableError", 0),
        labeled=c.get("TotalLabeled", 0), human_labeled=c.get("HumanLabeled", 0),
        machine_labeled=c.get("MachineLabeled", 0), failed=c.get("FailedNonRetryableError", 0),
        unlabeled=c.get("Unlabeled", 0), failure_reason=d.get("FailureReason"),
        output_manifest=d.get("LabelingJobOutput", {}).get("OutputDatasetS3Uri"),
    )


def wait_for_labeling_job(
    client: Any,
    name: str,
    *,
    poll_seconds: float = 30.0,
    timeout_seconds: float | None = None,
    on_progress: Callable[[LabelingJobProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LabelingJobProgress:
    """Poll until the job is Completed, Failed or Stopped; ``on_progress`` sees each poll.

    Raises ServiceError when ``timeout_seconds`` passes first.
    """
    start = clock()
    while True:
        p = describe_labeling_job(client, name)
        if on_progress is not None:
            on_progress(p)
        if p.done:
            return p
        if timeout_seconds is not None and clock() - start >= timeout_seconds:
            raise ServiceError(f"labeling job {name} still {p.status} after {timeout_seconds:.0f}s",
                               field="LabelingJobName")
        sleep(poll_seconds)
