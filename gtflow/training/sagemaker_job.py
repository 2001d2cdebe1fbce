"""SageMaker built-in Object Detection (MXNet SSD) training jobs through boto3.

A typed :class:`TrainingJobSpec` becomes the ``CreateTrainingJob`` request the algorithm's
documentation asks for (TRAINING.md 1, CONTRACTS.md 3.7):

- image ``<account>.dkr.ecr.<region>.amazonaws.com/object-detection:1``;
- ``train`` and ``validation`` channels: ``AugmentedManifestFile`` in **Pipe** mode with
  ``RecordWrapperType: RecordIO``, ``ContentType: application/x-recordio`` and
  ``AttributeNames: ["source-ref", <label attribute>]`` (image first);
- for incremental training a ``model`` channel (``application/x-sagemaker-model``, File mode,
  the previous ``model.tar.gz``) with ``use_pretrained_model=0``; the previous model's
  ``num_classes`` and ``base_network`` must match (checked here, before AWS fails the job);
- hyperparameters validated against the documented ranges; ``num_training_samples`` and
  ``label_width`` come from the data (:meth:`ObjectDetectionHyperParameters.for_data`).

The job name derives from the request, so a rerun finds the same job: ``ResourceInUse`` means
"attach to it". Promotion creates a model and an endpoint config, then updates (or creates) the
endpoint, remembering the previous config for :func:`rollback_endpoint`.

Every function takes the ``sagemaker`` boto3 client as an argument.

    >>> hp = ObjectDetectionHyperParameters(num_classes=4, num_training_samples=800)
    >>> spec = TrainingJobSpec(role_arn="arn:aws:iam::123456789012:role/sm", region="eu-west-1",
    ...     train_manifest="s3://bkt/train.manifest", validation_manifest="s3://bkt/val.manifest",
    ...     label_attribute="bounding-box", output_path="s3://bkt/output", hyperparameters=hp)
    >>> req = build_create_training_job_request(spec)
    >>> req["AlgorithmSpecification"]["TrainingImage"]
    '685385470294.dkr.ecr.eu-west-1.amazonaws.com/object-detection:1'
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gtflow.errors import ConflictError, ServiceError, UsageError
from gtflow.logs import get_logger
from gtflow.training.manifests import ManifestStats
from gtflow.training.naming import check_name, derive_name
from gtflow.uris import S3Uri

__all__ = [
    "REGION_ACCOUNTS",
    "training_image_uri",
    "ObjectDetectionHyperParameters",
    "PreviousModel",
    "TrainingJobSpec",
    "TrainingJobResult",
    "Promotion",
    "build_create_training_job_request",
    "start_training_job",
    "wait_for_training_job",
    "previous_model_from_job",
    "promote_model",
    "rollback_endpoint",
    "PREVIOUS_CONFIG_TAG",
]

log = get_logger(__name__)

#: ECR accounts of the ``object-detection:1`` image (sagemaker-python-sdk
#: ``image_uri_config/object-detection.json``; us-east-1, eu-west-1 and ap-northeast-1 were
#: also checked with sagemaker 3.27 ``image_uris.retrieve``).
REGION_ACCOUNTS: Mapping[str, str] = {
    "af-south-1": "455444449433",
    "ap-east-1": "286214385809",
    "ap-northeast-1": "501404015308",
    "ap-northeast-2": "306986355934",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "991648021394",
    "ap-southeast-1": "475088953585",
    "ap-southeast-2": "544295431143",
    "ca-central-1": "469771592824",
    "cn-north-1": "390948362332",
    "cn-northwest-1": "387376663083",
    "eu-central-1": "813361260812",
    "eu-north-1": "669576153137",
    "eu-south-1": "257386234256",
    "eu-west-1": "685385470294",
    "eu-west-2": "644912444149",
    "eu-west-3": "749696950732",
    "me-south-1": "249704162688",
    "sa-east-1": "855470959533",
    "us-east-1": "811284229777",
    "us-east-2": "825641698319",
    "us-gov-west-1": "226302683700",
    "us-west-1": "632365934929",
    "us-west-2": "433757028032",
}
PREVIOUS_CONFIG_TAG = "gtflow:previous-endpoint-config"
_TERMINAL = ("Completed", "Failed", "Stopped")


def training_image_uri(region: str) -> str:
    """The built-in Object Detection image for ``region`` (training and inference).

    >>> training_image_uri("cn-north-1")
    '390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/object-detection:1'
    """
    account = REGION_ACCOUNTS.get(region)
    if account is None:
        raise UsageError(f"no object-detection image known for region {region!r}; pass image_uri "
                         f"(known: {', '.join(sorted(REGION_ACCOUNTS))})", field="region")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/object-detection:1"


def _num(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    bad = value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi)
    if bad:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise UsageError(f"{name}={value} is outside {lb}{lo}, {hi}{rb}", field=name)


@dataclass(frozen=True)
class ObjectDetectionHyperParameters:
    """The algorithm's hyperparameters (documented names, ranges and defaults).

    ``to_dict()`` writes the required ones, the ones gtflow always sets, and any other that
    differs from the algorithm's default - as strings, as ``CreateTrainingJob`` wants them.
    """

    num_classes: int
    num_training_samples: int
    base_network: str = "resnet-50"
    #: None: 1 for a fresh job, 0 for an incremental one (the spec decides)
    use_pretrained_model: int | None = None
    epochs: int = 30
    mini_batch_size: int = 32
    learning_rate: float = 0.001
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0005
    lr_scheduler_step: str | None = None
    lr_scheduler_factor: float = 0.1
    image_shape: int = 300
    label_width: int = 350
    nms_threshold: float = 0.45
    overlap_threshold: float = 0.5
    freeze_layer_pattern: str | None = None
    early_stopping: bool = False
    early_stopping_min_epochs: int = 10
    early_stopping_patience: int = 5
    early_stopping_tolerance: float = 0.0
    kv_store: str | None = None

    _ALWAYS = ("num_classes", "num_training_samples", "base_network", "use_pretrained_model",
               "epochs", "mini_batch_size", "learning_rate", "image_shape", "label_width")

    def __post_init__(self) -> None:
        for name in ("num_classes", "num_training_samples", "epochs", "mini_batch_size",
                     "early_stopping_min_epochs", "early_stopping_patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"{name} must be a positive integer, not {v!r}", field=name)
        if self.base_network not in ("vgg-16", "resnet-50"):
            raise UsageError("base_network must be 'vgg-16' or 'resnet-50'", field="base_network")
        if self.use_pretrained_model not in (None, 0, 1):
            raise UsageError("use_pretrained_model must be 0 or 1", field="use_pretrained_model")
        if self.optimizer not in ("sgd", "adam", "rmsprop", "adadelta"):
            raise UsageError("optimizer must be sgd, adam, rmsprop or adadelta", field="optimizer")
        _num("learning_rate", self.learning_rate, 0, 1, lo_open=True)
        _num("momentum", self.momentum, 0, 1, lo_open=True)
        _num("weight_decay", self.weight_decay, 0, 1, lo_open=True, hi_open=True)
        _num("lr_scheduler_factor", self.lr_scheduler_factor, 0, 1, lo_open=True, hi_open=True)
        _num("nms_threshold", self.nms_threshold, 0, 1, lo_open=True)
        _num("overlap_threshold", self.overlap_threshold, 0, 1, lo_open=True)
        _num("early_stopping_tolerance", self.early_stopping_tolerance, 0, 1)
        if self.image_shape < 300:
            raise UsageError("image_shape must be >= 300", field="image_shape")
        if self.label_width < 7:
            raise UsageError("label_width must be >= 7 (2 header values + 5 per object)", field="label_width")
        if self.lr_scheduler_step is not None and not re.fullmatch(r"\d+(,\d+)*", self.lr_scheduler_step):
            # AWS documents only "a comma-separated list of epochs" (a string); steps at or past
            # `epochs` simply never fire, so the post's lr_scheduler_step=3,6 with epochs=1 is valid.
            raise UsageError(f"lr_scheduler_step={self.lr_scheduler_step!r} is not a comma-separated list of "
                             "epochs, e.g. '10,20'", field="lr_scheduler_step")
        if self.kv_store not in (None, "dist_sync", "dist_async"):
            raise UsageError("kv_store must be dist_sync or dist_async", field="kv_store")
        if self.freeze_layer_pattern is not None:
            try:
                re.compile(self.freeze_layer_pattern)
            except re.error as exc:
                raise UsageError(f"freeze_layer_pattern is not a regex: {exc}", field="freeze_layer_pattern") from exc

    @classmethod
    def for_data(cls, stats: ManifestStats, **overrides: Any) -> ObjectDetectionHyperParameters:
        """``num_classes``, ``num_training_samples`` and ``label_width`` from the training data.

        ``label_width`` stays at the default 350 unless an image has more than 69 boxes.
        """
        base: dict[str, Any] = {
            "num_classes": stats.num_classes,
            "num_training_samples": stats.num_images,
            "label_width": max(350, stats.label_width),
        }
        base.update(overrides)
        hp = cls(**base)
        if hp.label_width < stats.label_width:
            raise UsageError(f"label_width {hp.label_width} < {stats.label_width} needed for "
                             f"{stats.max_boxes_per_image} boxes in one image", field="label_width")
        return hp

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every documented hyperparameter name, sorted."""
        return tuple(sorted(f.name for f in fields(cls)))

    @classmethod
    def from_strings(cls, values: Mapping[str, str]) -> ObjectDetectionHyperParameters:
        """Parse ``name=value`` strings (CLI ``--hp``, or a job's ``HyperParameters``).

        Unknown names are refused with the list of documented ones.

            >>> hp = ObjectDetectionHyperParameters.from_strings(
            ...     {"num_classes": "20", "num_training_samples": "16551", "epochs": "1",
            ...      "lr_scheduler_step": "3,6"})
            >>> hp.to_dict()["lr_scheduler_step"]
            '3,6'
        """
        kinds = {f.name: str(f.type) for f in fields(cls)}
        unknown = sorted(k for k in values if k not in kinds)
        if unknown:
            raise UsageError(f"unknown hyperparameter{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)}; the Object Detection algorithm documents: "
                             f"{', '.join(cls.names())}", field=unknown[0])
        out: dict[str, Any] = {}
        for k, v in values.items():
            t = kinds[k]
            text = str(v).strip()
            try:
                if "bool" in t:
                    if text.lower() not in ("true", "false"):
                        raise ValueError(text)
                    out[k] = text.lower() == "true"
                elif "int" in t:
                    out[k] = int(text)
                elif "float" in t:
                    out[k] = float(text)
                else:
                    out[k] = text
            except ValueError as exc:
                kind = "True or False" if "bool" in t else "an integer" if "int" in t else "a number"
                raise UsageError(f"{k}={text!r} is not {kind}", field=k) from exc
        return cls(**out)

    def to_dict(self, *, use_pretrained_model: int | None = None) -> dict[str, str]:
        out: dict[str, str] = {}
        defaults = {f.name: f.default for f in fields(self)}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "use_pretrained_model":
                v = v if v is not None else (use_pretrained_model if use_pretrained_model is not None else 1)
            if v is None:
                continue
            if f.name in self._ALWAYS or v != defaults[f.name]:
                out[f.name] = ("True" if v else "False") if isinstance(v, bool) else str(v)
        return out


@dataclass(frozen=True)
class PreviousModel:
    """The model an incremental job starts from (its ``model.tar.gz`` and what it was built with)."""

    model_data_url: str
    num_classes: int
    base_network: str
    image_shape: int | None = None
    job_name: str | None = None

    def __post_init__(self) -> None:
        S3Uri.parse(self.model_data_url, require_key=True)


@dataclass(frozen=True)
class TrainingJobSpec:
    """Everything ``CreateTrainingJob`` needs for the built-in Object Detection algorithm."""

    role_arn: str
    region: str
    train_manifest: str
    validation_manifest: str
    label_attribute: str
    output_path: str
    hyperparameters: ObjectDetectionHyperParameters
    previous_model: PreviousModel | None = None
    instance_type: str = "ml.p3.2xlarge"
    instance_count: int = 1
    volume_size_gb: int = 50
    max_runtime_seconds: int = 4 * 3600
    base_job_name: str = "gtflow-od"
    job_name: str | None = None
    image_uri: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("train_manifest", "validation_manifest"):
            S3Uri.parse(getattr(self, name), require_key=True)
        S3Uri.parse(self.output_path)
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", self.role_arn):
            raise UsageError(f"role_arn {self.role_arn!r} is not an IAM role ARN", field="role_arn")
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}", self.label_attribute) or \
                self.label_attribute.endswith("-metadata"):
            raise UsageError(f"label_attribute {self.label_attribute!r} is not a GT label attribute name",
                             field="label_attribute")
        if self.job_name is not None:
            check_name(self.job_name, field="job_name")
        if self.instance_count < 1 or self.volume_size_gb < 1 or self.max_runtime_seconds < 1:
            raise UsageError("instance_count, volume_size_gb and max_runtime_seconds must be >= 1")
        prev, hp = self.previous_model, self.hyperparameters
        if prev is not None:
            problems = []
            if prev.num_classes != hp.num_classes:
                problems.append(f"num_classes {prev.num_classes} != {hp.num_classes}")
            if prev.base_network != hp.base_network:
                problems.append(f"base_network {prev.base_network!r} != {hp.base_network!r}")
            if prev.image_shape is not None and prev.image_shape != hp.image_shape:
                problems.append(f"image_shape {prev.image_shape} != {hp.image_shape}")
            if problems:
                raise UsageError("incremental training needs the previous model's settings: " + "; ".join(problems),
                                 path=prev.model_data_url)

    @property
    def image(self) -> str:
        return self.image_uri or training_image_uri(self.region)


def _manifest_channel(name: str, uri: str, attribute: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "AugmentedManifestFile",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
                "AttributeNames": ["source-ref", attribute],
            }
        },
        "ContentType": "application/x-recordio",
        "RecordWrapperType": "RecordIO",
        "CompressionType": "None",
        "InputMode": "Pipe",
    }


def _model_channel(uri: str) -> dict[str, Any]:
    return {
        "ChannelName": "model",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "application/x-sagemaker-model",
        "CompressionType": "None",
        "InputMode": "File",
    }


def build_create_training_job_request(spec: TrainingJobSpec) -> dict[str, Any]:
    """The ``CreateTrainingJob`` keyword arguments for ``spec`` (pure; no AWS call)."""
    channels = [
        _manifest_channel("train", spec.train_manifest, spec.label_attribute),
        _manifest_channel("validation", spec.validation_manifest, spec.label_attribute),
    ]
    if spec.previous_model is not None:
        channels.append(_model_channel(spec.previous_model.model_data_url))
    req: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": spec.image, "TrainingInputMode": "Pipe"},
        "RoleArn": spec.role_arn,
        "HyperParameters": spec.hyperparameters.to_dict(
            use_pretrained_model=0 if spec.previous_model is not None else 1),
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": spec.output_path},
        "ResourceConfig": {
            "InstanceType": spec.instance_type,
            "InstanceCount": spec.instance_count,
            "VolumeSizeInGB": spec.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_seconds},
    }
    name = spec.job_name or derive_name(spec.base_job_name, req)
    out = {"TrainingJobName": name, **req}
    if spec.tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in spec.tags]
    return out


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _same_job(req: Mapping[str, Any], desc: Mapping[str, Any]) -> bool:
    def uris(chs: Any) -> list[tuple[str, str]]:
        return sorted((c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in chs or [])

    return (
        desc.get("AlgorithmSpecification", {}).get("TrainingImage") == req["AlgorithmSpecification"]["TrainingImage"]
        and dict(desc.get("HyperParameters") or {}) == dict(req["HyperParameters"])
        and uris(desc.get("InputDataConfig")) == uris(req["InputDataConfig"])
    )


def start_training_job(client: Any, spec: TrainingJobSpec | Mapping[str, Any]) -> tuple[str, bool]:
    """Create the job; ``(name, attached)``. ``ResourceInUse`` attaches to the job of that name
    when it was made from the same image, hyperparameters and channels (else ConflictError)."""
    from botocore.exceptions import BotoCoreError, ClientError

    req = build_create_training_job_request(spec) if isinstance(spec, TrainingJobSpec) else dict(spec)
    name = req["TrainingJobName"]
    try:
        client.create_training_job(**req)
        log.info("created training job %s (%d channels)", name, len(req["InputDataConfig"]))
        return name, False
    except ClientError as exc:
        if _code(exc) not in ("ResourceInUse", "ResourceInUseException"):
            raise ServiceError(f"CreateTrainingJob failed: {exc}", path=name) from exc
    except BotoCoreError as exc:
        raise ServiceError(f"CreateTrainingJob failed: {exc}", path=name) from exc
    desc = client.describe_training_job(TrainingJobName=name)
    if not _same_job(req, desc):
        raise ConflictError(f"training job {name!r} exists with other inputs", path=name)
    log.info("attached to existing training job %s (%s)", name, desc.get("TrainingJobStatus"))
    return name, True


@dataclass(frozen=True)
class TrainingJobResult:
    """A finished job: status, model artifact and final metrics (``validation:mAP``)."""

    job_name: str
    status: str
    secondary_status: str
    model_artifacts: str | None
    metrics: Mapping[str, float]
    failure_reason: str | None = None
    hyperparameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def validation_map(self) -> float | None:
        return self.metrics.get("validation:mAP")

    @classmethod
    def from_describe(cls, desc: Mapping[str, Any]) -> TrainingJobResult:
        return cls(
            job_name=desc["TrainingJobName"],
            status=desc.get("TrainingJobStatus", ""),
            secondary_status=desc.get("SecondaryStatus", ""),
            model_artifacts=(desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
            metrics={m["MetricName"]: float(m["Value"]) for m in desc.get("FinalMetricDataList") or []},
            failure_reason=desc.get("FailureReason"),
            hyperparameters=dict(desc.get("HyperParameters") or {}),
        )

    def raise_for_status(self) -> TrainingJobResult:
        if self.status != "Completed":
            raise ServiceError(f"training job ended {self.status}: {self.failure_reason or 'no reason given'}",
                               path=self.job_name)
        return self


def wait_for_training_job(
    client: Any,
    job_name: str,
    *,
    poll_seconds: float = 30.0,
    timeout_seconds: float | None = None,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TrainingJobResult:
    """Poll ``DescribeTrainingJob`` until the job ends; show the secondary status as it moves."""
    from rich.console import Console

    console = Console(stderr=True, quiet=not progress)
    start = clock()
    last = None
    with console.status(f"training job {job_name}") as status:
        while True:
            desc = client.describe_training_job(TrainingJobName=job_name)
            state, sec = desc.get("TrainingJobStatus", ""), desc.get("SecondaryStatus", "")
            if (state, sec) != last:
                msg = (desc.get("SecondaryStatusTransitions") or [{}])[-1].get("StatusMessage", "")
                console.log(f"{job_name}: {state} / {sec} {msg}".rstrip())
                status.update(f"training job {job_name}: {sec or state}")
                last = (state, sec)
            if state in _TERMINAL:
                result = TrainingJobResult.from_describe(desc)
                if result.validation_map is not None:
                    console.log(f"{job_name}: validation:mAP = {result.validation_map:.4f}")
                return result
            if timeout_seconds is not None and clock() - start > timeout_seconds:
                raise ServiceError(f"still {state} after {timeout_seconds:.0f}s", path=job_name)
            sleep(poll_seconds)


def previous_model_from_job(client: Any, job_name: str) -> PreviousModel:
    """The model a finished job produced, with its ``num_classes``/``base_network``/``image_shape``."""
    desc = client.describe_training_job(TrainingJobName=job_name)
    result = TrainingJobResult.from_describe(desc)
    if result.status != "Completed" or not result.model_artifacts:
        raise UsageError(f"training job {job_name!r} is {result.status}, not Completed with a model",
                         path=job_name)
    hp = result.hyperparameters
    try:
        return PreviousModel(
            model_data_url=result.model_artifacts,
            num_classes=int(hp["num_classes"]),
            base_network=hp.get("base_network", "vgg-16"),
            image_shape=int(hp.get("image_shape", 300)),
            job_name=job_name,
        )
    except (KeyError, ValueError) as exc:
        raise UsageError(f"training job {job_name!r} has no usable num_classes hyperparameter", path=job_name) from exc


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote_model` did; keep it to roll back."""

    endpoint_name: str
    model_name: str
    endpoint_config_name: str
    previous_endpoint_config_name: str | None
    action: str  # "created" | "updated" | "unchanged"


def _exists_error(exc: Exception) -> bool:
    msg = str(exc)
    return _code(exc) in ("ResourceInUse", "ValidationException") and ("already exist" in msg or "existing" in msg)


def promotion_names(endpoint_name: str, *, image_uri: str, model_data_url: str, instance_type: str,
                    initial_instance_count: int) -> tuple[str, str]:
    """``(model name, endpoint config name)`` derived from the inputs (a rerun reuses them)."""
    check_name(endpoint_name, field="endpoint_name")
    model_name = derive_name(f"{endpoint_name}-m", {"image": image_uri, "data": model_data_url})
    config_name = derive_name(f"{endpoint_name}-c", {"model": model_name, "type": instance_type,
                                                     "count": initial_instance_count})
    return model_name, config_name


def promote_model(
    client: Any,
    *,
    model_data_url: str,
    role_arn: str,
    endpoint_name: str,
    image_uri: str,
    instance_type: str = "ml.m5.xlarge",
    initial_instance_count: int = 1,
) -> Promotion:
    """Serve ``model_data_url`` on ``endpoint_name``: model + endpoint config, then update or create.

    Names derive from the inputs, so promoting the same model twice changes nothing. The new
    endpoint config carries the previous config's name in the tag ``gtflow:previous-endpoint-config``.
    """
    from botocore.exceptions import ClientError

    model_name, config_name = promotion_names(endpoint_name, image_uri=image_uri, model_data_url=model_data_url,
                                              instance_type=instance_type,
                                              initial_instance_count=initial_instance_count)
    previous: str | None = None
    try:
        previous = client.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    except ClientError as exc:
        if "Could not find" not in str(exc):
            raise ServiceError(f"DescribeEndpoint failed: {exc}", path=endpoint_name) from exc
    if previous == config_name:
        log.info("endpoint %s already serves %s", endpoint_name, config_name)
        return Promotion(endpoint_name, model_name, config_name, None, "unchanged")
    try:
        client.create_model(ModelName=model_name, ExecutionRoleArn=role_arn,
                            PrimaryContainer={"Image": image_uri, "ModelDataUrl": model_data_url})
    except ClientError as exc:
        if not _exists_error(exc):
            raise ServiceError(f"CreateModel failed: {exc}", path=model_name) from exc
    tags = [{"Key": PREVIOUS_CONFIG_TAG, "Value": previous}] if previous else []
    try:
        client.create_endpoint_config(
            EndpointConfigName=config_name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model_name,
                                 "InitialInstanceCount": initial_instance_count,
                                 "InstanceType": instance_type, "InitialVariantWeight": 1.0}],
            **({"Tags": tags} if tags else {}),
        )
    except ClientError as exc:
        if not _exists_error(exc):
            raise ServiceError(f"CreateEndpointConfig failed: {exc}", path=config_name) from exc
    try:
        if previous is None:
            client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
            action = "created"
        else:
            client.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
            action = "updated"
    except ClientError as exc:
        raise ServiceError(f"{'CreateEndpoint' if previous is None else 'UpdateEndpoint'} failed: {exc}",
                           path=endpoint_name) from exc
    log.info("endpoint %s %s: %s -> %s", endpoint_name, action, previous, config_name)
    return Promotion(endpoint_name, model_name, config_name, previous, action)


def rollback_endpoint(client: Any, endpoint_name: str, to_config: str | None = None) -> str:
    """Point ``endpoint_name`` back at ``to_config`` (default: the config the current one replaced)."""
    from botocore.exceptions import ClientError

    try:
        if to_config is None:
            current = client.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
            arn = client.describe_endpoint_config(EndpointConfigName=current)["EndpointConfigArn"]
            tags = client.list_tags(ResourceArn=arn).get("Tags", [])
            to_config = next((t["Value"] for t in tags if t["Key"] == PREVIOUS_CONFIG_TAG), None)
            if to_config is None:
                raise UsageError(f"endpoint config {current!r} records no previous config to roll back to",
                                 path=endpoint_name)
        client.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=to_config)
    except ClientError as exc:
        raise ServiceError(f"rollback failed: {exc}", path=endpoint_name) from exc
    log.info("endpoint %s rolled back to %s", endpoint_name, to_config)
    return to_config


def with_previous(spec: TrainingJobSpec, previous: PreviousModel) -> TrainingJobSpec:
    """``spec`` continued from ``previous`` (same num_classes/base_network, checked)."""
    return replace(spec, previous_model=previous)
