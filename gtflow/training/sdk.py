"""The SageMaker Python SDK v3 bridge (optional: ``pip install 'gtflow[sdk]'``).

The :class:`~gtflow.training.sagemaker_job.TrainingJobSpec` gtflow builds becomes the SDK's own
objects: a ``sagemaker.train.ModelTrainer`` for the built-in Object Detection image with the
spec's hyperparameters, and ``Channel`` values for the Pipe-mode augmented-manifest channels
(``AttributeNames``, ``RecordWrapperType: RecordIO``) and the incremental ``model`` channel.
``ModelTrainer.train`` then sends the same ``CreateTrainingJob`` as gtflow's boto3 path, but
for what the SDK always decides itself: the job name (``<base_job_name>-<timestamp>``; gtflow
derives one from the request) and ``OutputDataConfig.CompressionType: GZIP`` (AWS's default).
Tested offline with botocore's Stubber on the SDK session's client.

Only this module imports ``sagemaker``; the core and the Lambdas never do. SDK v3 checks the
role with IAM inside ``train()`` unless ``SAGEMAKER_VALIDATE_ROLE=false``.

    # trainer = model_trainer(spec, session)                      # sagemaker.core Session
    # trainer.train(input_data_config=input_channels(spec), wait=False, logs=False)
"""

from __future__ import annotations

from typing import Any

from gtflow.errors import MissingExtraError
from gtflow.training.sagemaker_job import (
    PREVIOUS_CONFIG_TAG,
    TrainingJobSpec,
    build_create_training_job_request,
    promotion_names,
)

__all__ = ["model_trainer", "input_channels", "sdk_differences", "promote_with_sdk"]


def _sdk() -> Any:
    try:
        import sagemaker.train as train
        import sagemaker.train.configs as configs
    except ImportError as exc:
        raise MissingExtraError.for_module("sagemaker", "sdk") from exc
    return train, configs


def input_channels(spec: TrainingJobSpec) -> list[Any]:
    """The spec's channels as ``sagemaker.train.configs.Channel`` values (field for field)."""
    _, configs = _sdk()
    out = []
    for ch in build_create_training_job_request(spec)["InputDataConfig"]:
        src = ch["DataSource"]["S3DataSource"]
        s3 = configs.S3DataSource(s3_data_type=src["S3DataType"], s3_uri=src["S3Uri"],
                                  s3_data_distribution_type=src["S3DataDistributionType"],
                                  **({"attribute_names": list(src["AttributeNames"])} if "AttributeNames" in src else {}))
        extra = {"record_wrapper_type": ch["RecordWrapperType"]} if "RecordWrapperType" in ch else {}
        out.append(configs.Channel(channel_name=ch["ChannelName"], data_source=configs.DataSource(s3_data_source=s3),
                                   content_type=ch["ContentType"], compression_type=ch["CompressionType"],
                                   input_mode=ch["InputMode"], **extra))
    return out


def model_trainer(spec: TrainingJobSpec, session: Any) -> Any:
    """A ``ModelTrainer`` that sends the spec's ``CreateTrainingJob`` (``session``: a
    ``sagemaker.core.helper.session_helper.Session``)."""
    train, configs = _sdk()
    req = build_create_training_job_request(spec)
    res, stop = req["ResourceConfig"], req["StoppingCondition"]
    return train.ModelTrainer(
        sagemaker_session=session,
        role=spec.role_arn,
        training_image=spec.image,
        base_job_name=spec.base_job_name,
        training_input_mode=req["AlgorithmSpecification"]["TrainingInputMode"],
        compute=configs.Compute(instance_type=res["InstanceType"], instance_count=res["InstanceCount"],
                                volume_size_in_gb=res["VolumeSizeInGB"]),
        stopping_condition=configs.StoppingCondition(max_runtime_in_seconds=stop["MaxRuntimeInSeconds"]),
        output_data_config=configs.OutputDataConfig(s3_output_path=req["OutputDataConfig"]["S3OutputPath"]),
        hyperparameters=dict(req["HyperParameters"]),
    )


def sdk_differences(gtflow_request: dict[str, Any], sdk_request: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys whose values differ between the two requests (for tests and docs)."""
    keys = set(gtflow_request) | set(sdk_request)
    return {k: (gtflow_request.get(k), sdk_request.get(k)) for k in sorted(keys)
            if gtflow_request.get(k) != sdk_request.get(k)}


def promote_with_sdk(boto_session: Any, *, model_data_url: str, role_arn: str, endpoint_name: str, image_uri: str,
                     instance_type: str = "ml.m5.xlarge", initial_instance_count: int = 1) -> str:
    """Serve a finished job's model the SDK's way (``sagemaker.core.resources`` ``Model``,
    ``EndpointConfig``, ``Endpoint``), with the names, variant and rollback tag of
    :func:`~gtflow.training.sagemaker_job.promote_model`. Returns ``created``, ``updated`` or
    ``unchanged``."""
    try:
        from botocore.exceptions import ClientError
        from sagemaker.core.resources import Endpoint, EndpointConfig, Model
        from sagemaker.core.shapes import ContainerDefinition, ProductionVariant, Tag
    except ImportError as exc:
        raise MissingExtraError.for_module("sagemaker", "sdk") from exc
    model_name, config_name = promotion_names(endpoint_name, image_uri=image_uri, model_data_url=model_data_url,
                                              instance_type=instance_type,
                                              initial_instance_count=initial_instance_count)
    try:
        endpoint = Endpoint.get(endpoint_name=endpoint_name, session=boto_session)
    except ClientError as exc:
        if "Could not find" not in str(exc):
            raise
        endpoint = None
    previous = endpoint.endpoint_config_name if endpoint is not None else None
    if previous == config_name:
        return "unchanged"
    Model.create(model_name=model_name, execution_role_arn=role_arn,
                 primary_container=ContainerDefinition(image=image_uri, model_data_url=model_data_url),
                 session=boto_session)
    EndpointConfig.create(
        endpoint_config_name=config_name,
        production_variants=[ProductionVariant(variant_name="AllTraffic", model_name=model_name,
                                               initial_instance_count=initial_instance_count,
                                               instance_type=instance_type, initial_variant_weight=1.0)],
        **({"tags": [Tag(key=PREVIOUS_CONFIG_TAG, value=previous)]} if previous else {}),
        session=boto_session)
    if endpoint is None:
        Endpoint.create(endpoint_name=endpoint_name, endpoint_config_name=config_name, session=boto_session)
        return "created"
    endpoint.endpoint_config_name = config_name
    endpoint.update()
    return "updated"
