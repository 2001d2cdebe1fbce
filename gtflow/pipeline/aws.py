"""Retraining services on AWS: A2I answers in S3, SageMaker built-in Object Detection, endpoints.

    from gtflow.backends.aws import AwsBackend
    services = aws_services(AwsBackend(GtflowConfig(backend="aws")), config)
    retrain(config, services)          # raises TrainingInProgress while the job still runs

What each stage does here:

- **answers**: the ``output.json`` files of the flow definition ``config.answers["flow_definition"]``
  (its ``S3OutputPath``, via :class:`~gtflow.a2i.AwsHumanLoops`), or of an ``output_prefix``.
  A loop is completed at the latest ``submissionTime`` of its workers. Answers completed less
  than ``answers["settle_seconds"]`` (default 300) ago are left for the next run, so an
  ``output.json`` that S3 shows a little after its submission time is not passed by the watermark;
- **convert / merge**: the same code as the local backend (:mod:`gtflow.pipeline.local`);
- **train**: a SageMaker built-in Object Detection job named after the run id (``ResourceInUse``
  attaches to it), incremental from the current model through a ``model`` channel. When
  ``training["wait_seconds"]`` passes and the job still runs, :class:`TrainingInProgress` is
  raised: the stage is not recorded, and the next scheduled run attaches to the same job;
- **evaluate**: there is no local predictor for the MXNet model, so the candidate's score is the
  job's final ``validation:mAP`` on its ``validation`` channel, which is ``heldout_manifest``;
  the current model's score is the metric recorded in its registry entry (or, when absent, its
  training job's ``validation:mAP`` if that job also validated on ``heldout_manifest``);
- **promote**: the registry pointer, and with ``training["endpoint_name"]`` a deploy hook
  (:func:`~gtflow.training.sagemaker_job.promote_model`: model + endpoint config + endpoint
  update). Rolling back re-deploys the previous entry the same way.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gtflow.errors import ConfigError, GtflowError, ServiceError, UsageError
from gtflow.logs import get_logger
from gtflow.pipeline.local import completed_from_outputs, merge_into, to_records_from_outputs
from gtflow.pipeline.registry import ModelRegistry
from gtflow.pipeline.retrain import RetrainConfig, RetrainServices
from gtflow.pipeline.watermark import CompletedAnswer
from gtflow.quarantine import Quarantine
from gtflow.store.base import ObjectStore

__all__ = ["aws_services", "AwsTrainingSettings", "TrainingInProgress", "AWS_METRICS"]

log = get_logger(__name__)

#: metric names the AWS backend can report (both are the job's final ``validation:mAP``)
AWS_METRICS = ("map50", "validation:mAP")
_TERMINAL = ("Completed", "Failed", "Stopped")


class TrainingInProgress(GtflowError):
    """The run's training job is still running after ``wait_seconds``; run again later.

    The train stage is not recorded, so the next run (same watermark, same claimed answers,
    same run id) attaches to the same job instead of starting another.
    """

    def __init__(self, job_name: str, status: str, *, run_id: str | None = None) -> None:
        super().__init__(f"training job is {status}; run again later to continue", path=job_name)
        self.job_name = job_name
        self.status = status
        self.run_id = run_id or job_name

    def to_dict(self) -> dict[str, Any]:
        return {"status": "in-progress", "run_id": self.run_id, "job_name": self.job_name,
                "training_status": self.status}


@dataclass(frozen=True)
class AwsTrainingSettings:
    """``config.training`` on the AWS backend (every key is optional except ``role_arn``)."""

    role_arn: str
    instance_type: str = "ml.p3.2xlarge"
    instance_count: int = 1
    volume_size_gb: int = 50
    max_runtime_seconds: int = 4 * 3600
    image_uri: str | None = None
    #: algorithm hyperparameters over the ones derived from the data (epochs, learning_rate, ...)
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    #: None: wait until the job ends; else raise TrainingInProgress after this many seconds
    wait_seconds: float | None = None
    poll_seconds: float = 30.0
    #: 0: the job is named after the run id; N > 0: ``<run id>-rN`` (start over after a failed job)
    retry: int = 0
    endpoint_name: str | None = None
    endpoint_instance_type: str = "ml.m5.xlarge"
    endpoint_instance_count: int = 1

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any]) -> AwsTrainingSettings:
        """Read ``config.training``; errors name ``training.<key>``.

        >>> AwsTrainingSettings.from_mapping({"role_arn": "arn:aws:iam::123456789012:role/sm"}).retry
        0
        """
        known = set(cls.__dataclass_fields__)
        for key in d:
            if key not in known:
                raise ConfigError(f"unknown key for the AWS backend (known: {', '.join(sorted(known))})",
                                  field=f"training.{key}")
        if not d.get("role_arn"):
            raise ConfigError("the AWS backend needs the SageMaker execution role", field="training.role_arn")
        kinds = {"instance_count": int, "volume_size_gb": int, "max_runtime_seconds": int, "retry": int,
                 "endpoint_instance_count": int, "poll_seconds": float, "wait_seconds": float}
        values: dict[str, Any] = {}
        for key, value in d.items():
            kind = kinds.get(key)
            if kind is not None and value is not None:
                try:
                    value = kind(value)
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"expected a number, not {value!r}", field=f"training.{key}") from exc
                if value < 0:
                    raise ConfigError("must be >= 0", field=f"training.{key}")
            values[key] = value
        if not isinstance(values.get("hyperparameters", {}), Mapping):
            raise ConfigError("a mapping of hyperparameter names to values", field="training.hyperparameters")
        return cls(**values)


def _clients(backend_or_clients: Any) -> tuple[Callable[[str], Any], ObjectStore]:
    if isinstance(backend_or_clients, Mapping):
        clients = dict(backend_or_clients)
        from gtflow.store.s3 import S3Store

        def get(service: str) -> Any:
            return clients.get(service)

        return get, S3Store(clients["s3"])
    backend = backend_or_clients
    return backend.client, backend.store


def _hyperparameters(settings: AwsTrainingSettings, stats: Any, num_classes: int) -> Any:
    from gtflow.training.sagemaker_job import ObjectDetectionHyperParameters

    values = {"num_classes": num_classes, "num_training_samples": stats.num_images,
              "label_width": max(350, stats.label_width), **dict(settings.hyperparameters)}
    try:
        hp = ObjectDetectionHyperParameters.from_strings({k: str(v) for k, v in values.items()})
    except UsageError as exc:
        raise ConfigError(exc.message, field=f"training.hyperparameters.{exc.field or ''}".rstrip(".")) from exc
    if hp.label_width < stats.label_width:
        raise ConfigError(f"label_width {hp.label_width} < {stats.label_width} needed for "
                          f"{stats.max_boxes_per_image} boxes in one image", field="training.hyperparameters.label_width")
    return hp


def _job_of_model(model_uri: str, output_prefix: str) -> str | None:
    """``<output_prefix>/<job>/output/model.tar.gz`` -> ``<job>`` (SageMaker's layout)."""
    base = output_prefix.rstrip("/") + "/"
    if not model_uri.startswith(base) or not model_uri.endswith("/output/model.tar.gz"):
        return None
    job = model_uri[len(base):-len("/output/model.tar.gz")]
    return job if job and "/" not in job else None


def aws_services(
    backend_or_clients: Any,
    config: RetrainConfig,
    *,
    progress: bool = False,
    wait_seconds: float | None = None,
    clock: Callable[[], _dt.datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> RetrainServices:
    """The AWS backend's :class:`~gtflow.pipeline.retrain.RetrainServices` for ``config``.

    ``backend_or_clients`` is an :class:`~gtflow.backends.aws.AwsBackend` or a mapping of boto3
    clients ``{"s3": ..., "sagemaker": ..., "sagemaker-a2i-runtime": ...}``. ``wait_seconds``
    caps ``training["wait_seconds"]`` (the Lambda entry point passes its remaining time).

        >>> cfg = RetrainConfig.from_dict({"name": "od", "state_prefix": "s3://bkt/state",
        ...     "models_prefix": "s3://bkt/models", "output_prefix": "s3://bkt/jobs", "label_attribute": "bbox",
        ...     "class_map": ["cat"], "training_manifest": "s3://bkt/t.manifest",
        ...     "heldout_manifest": "s3://bkt/h.manifest", "answers": {"output_prefix": "s3://bkt/a2i/od/"},
        ...     "backend": "aws", "training": {}})
        >>> aws_services({"s3": None, "sagemaker": None}, cfg)
        Traceback (most recent call last):
        ...
        gtflow.errors.ConfigError: training.role_arn: the AWS backend needs the SageMaker execution role
    """
    from gtflow.training.sagemaker_job import (
        PreviousModel,
        TrainingJobResult,
        TrainingJobSpec,
        previous_model_from_job,
        promote_model,
        start_training_job,
        training_image_uri,
        wait_for_training_job,
    )

    settings = AwsTrainingSettings.from_mapping(config.training)
    if config.metric not in AWS_METRICS:
        raise ConfigError(f"the AWS backend reports {' or '.join(AWS_METRICS)} (the job's validation:mAP), "
                          f"not {config.metric!r}", field="metric")
    flow = config.answers.get("flow_definition")
    prefix = config.answers.get("output_prefix")
    if not flow and not prefix:
        raise ConfigError("answers needs flow_definition or output_prefix", field="answers")
    try:
        settle = float(config.answers.get("settle_seconds", 300))
    except (TypeError, ValueError) as exc:
        raise ConfigError("a number of seconds", field="answers.settle_seconds") from exc
    limit = settings.wait_seconds
    if wait_seconds is not None:
        limit = wait_seconds if limit is None else min(limit, wait_seconds)

    client, store = _clients(backend_or_clients)
    if client("s3") is None or client("sagemaker") is None:
        raise UsageError("aws_services needs the s3 and sagemaker clients")
    sm = client("sagemaker")
    region = str(getattr(getattr(sm, "meta", None), "region_name", None) or "us-east-1")
    image = settings.image_uri or training_image_uri(region)
    class_map = {int(k): v for k, v in config.class_map.items()}
    now = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))

    def deploy(entry: Mapping[str, Any], current: Mapping[str, Any] | None) -> Mapping[str, Any]:
        assert settings.endpoint_name is not None
        promotion = promote_model(sm, model_data_url=str(entry["model_uri"]), role_arn=settings.role_arn,
                                  endpoint_name=settings.endpoint_name, image_uri=image,
                                  instance_type=settings.endpoint_instance_type,
                                  initial_instance_count=settings.endpoint_instance_count)
        return asdict(promotion)

    registry = ModelRegistry(store, config.models_prefix, deploy=deploy if settings.endpoint_name else None)

    def completed() -> list[CompletedAnswer]:
        from gtflow.a2i.aws import AwsHumanLoops
        from gtflow.a2i.collect import collect_outputs

        errors: list[GtflowError] = []
        if flow:
            outputs = AwsHumanLoops(client("sagemaker-a2i-runtime"), sm, store).collect(flow, errors=errors)
        else:
            outputs = collect_outputs(store, str(prefix), errors=errors)
        answers = completed_from_outputs(outputs, errors=errors)
        quarantine = Quarantine(store, config.state_prefix)
        for e in errors:  # an unreadable output.json is never an answer: quarantined, read again next run
            quarantine.add(stage="collect", source=str(e.path or "?"), reason=str(e))
        cutoff = now() - _dt.timedelta(seconds=settle)
        ready = [a for a in answers if a.completed_at <= cutoff]
        if len(ready) < len(answers):
            log.info("%d answers completed in the last %.0fs are left for the next run", len(answers) - len(ready), settle)
        return ready

    def previous_model(base: str, hp: Any) -> Any:
        entry = registry.current()
        job = entry.get("job_name") if entry and entry.get("model_uri") == base else None
        job = job or _job_of_model(base, config.output_prefix)
        if job:
            try:
                return previous_model_from_job(sm, job)
            except UsageError:
                raise
            except Exception as exc:  # not a SageMaker job of this account: use the entry's settings
                log.info("no training job %s to read the base model's settings from (%s)", job, type(exc).__name__)
        info = entry if entry and entry.get("model_uri") == base else {}
        return PreviousModel(model_data_url=base, num_classes=int(info.get("num_classes", hp.num_classes)),
                             base_network=str(info.get("base_network", hp.base_network)),
                             image_shape=int(info.get("image_shape", hp.image_shape)), job_name=job)

    def describe(name: str) -> TrainingJobResult:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return TrainingJobResult.from_describe(sm.describe_training_job(TrainingJobName=name))
        except (BotoCoreError, ClientError) as exc:
            raise ServiceError(f"DescribeTrainingJob failed: {exc}", path=name) from exc

    def train(job: str, train_uri: str, heldout: str, base: str | None) -> dict[str, Any]:
        from gtflow.training.manifests import manifest_stats, read_manifest

        name = job if settings.retry == 0 else f"{job}-r{settings.retry}"
        stats = manifest_stats(read_manifest(store, train_uri), config.label_attribute)
        hp = _hyperparameters(settings, stats, len(class_map))
        spec = TrainingJobSpec(
            role_arn=settings.role_arn, region=region, train_manifest=train_uri, validation_manifest=heldout,
            label_attribute=config.label_attribute, output_path=config.output_prefix, hyperparameters=hp,
            previous_model=previous_model(base, hp) if base else None, instance_type=settings.instance_type,
            instance_count=settings.instance_count, volume_size_gb=settings.volume_size_gb,
            max_runtime_seconds=settings.max_runtime_seconds, job_name=name, image_uri=settings.image_uri,
            tags=(("gtflow:pipeline", config.name), ("gtflow:run", job)),
        )
        name, attached = start_training_job(sm, spec)
        try:
            result = wait_for_training_job(sm, name, poll_seconds=settings.poll_seconds, timeout_seconds=limit,
                                           progress=progress, sleep=sleep, clock=monotonic)
        except ServiceError as exc:
            status = describe(name).status
            if status not in _TERMINAL:
                raise TrainingInProgress(name, status, run_id=job) from exc
            raise
        if result.status != "Completed" or not result.model_artifacts:
            raise ServiceError(
                f"training job ended {result.status}: {result.failure_reason or 'no reason given'}; its name is "
                f"fixed by the run, so set training.retry to {settings.retry + 1} to start a new job for this run",
                path=name)
        # whether this attempt attached is logged, not recorded: a rerun ends in the same state
        log.info("training job %s %s: %s", name, "attached" if attached else "created", result.status)
        return {"job_name": name, "model_uri": result.model_artifacts, "metrics": dict(result.metrics),
                "base_model": base}

    def job_metric(name: str, manifest: str) -> float | None:
        desc = sm.describe_training_job(TrainingJobName=name)
        channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in desc.get("InputDataConfig") or []}
        if channels.get("validation") != manifest:
            raise UsageError(f"training job {name!r} validated on {channels.get('validation')!r}, not on {manifest!r}; "
                             "its validation:mAP cannot be compared", path=name)
        return TrainingJobResult.from_describe(desc).validation_map

    def evaluate(model_uri: str, manifest: str) -> dict[str, Any]:
        if manifest != config.heldout_manifest:
            raise UsageError("the AWS backend can only report the held-out (validation channel) metric",
                             path=manifest)
        entry = registry.current()
        if entry and entry.get("model_uri") == model_uri:
            recorded = (entry.get("metrics") or {}).get(config.metric)
            if recorded is not None:
                return {"map50": float(recorded), "validation:mAP": float(recorded), "source": "registry"}
            job = entry.get("job_name") or _job_of_model(model_uri, config.output_prefix)
        else:
            job = _job_of_model(model_uri, config.output_prefix)
        value = job_metric(job, manifest) if job else None
        if value is None:
            raise UsageError(f"no {config.metric} for {model_uri}: neither its registry entry nor a training job "
                             f"records one on {manifest}; promote it with metrics={{{config.metric!r}: ...}}",
                             path=model_uri)
        return {"map50": value, "validation:mAP": value, "source": f"training-job:{job}"}

    return RetrainServices(
        store=store,
        completed_answers=completed,
        to_records=lambda answers: to_records_from_outputs(store, answers, class_map, config.label_attribute),
        merge=lambda prev, reviewed, out: merge_into(store, config, prev, reviewed, out),
        train=train,
        evaluate=evaluate,
        registry=registry,
        clock=now,
    )
