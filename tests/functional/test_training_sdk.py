"""The SageMaker Python SDK v3 bridge (``gtflow[sdk]``), offline.

The request ``ModelTrainer.train`` sends through the SDK session's client equals gtflow's boto3
request but for the two things the SDK decides itself (its timestamped job name and
``OutputDataConfig.CompressionType: GZIP``): botocore's Stubber checks it field for field.
The SDK is heavy (sagemaker-train pulls 54 packages and pins older rich/protobuf) and is not in
the project's shared test environment, so the SDK tests run where it is installed
(``pip install 'gtflow[sdk]'``); here the missing-extra message and the import boundary are tested.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from gtflow.training.sagemaker_job import (
    ObjectDetectionHyperParameters,
    PreviousModel,
    TrainingJobSpec,
    build_create_training_job_request,
)


def _spec() -> TrainingJobSpec:
    hp = ObjectDetectionHyperParameters(num_classes=3, num_training_samples=120, epochs=1, lr_scheduler_step="3,6")
    return TrainingJobSpec(
        role_arn="arn:aws:iam::111122223333:role/sm", region="us-east-1", train_manifest="s3://bkt/t.manifest",
        validation_manifest="s3://bkt/v.manifest", label_attribute="bounding-box", output_path="s3://bkt/out",
        hyperparameters=hp, previous_model=PreviousModel("s3://bkt/prev/model.tar.gz", 3, "resnet-50"))


def test_core_and_training_cli_never_import_the_sdk():
    code = ("import sys, gtflow, gtflow.training.sagemaker_job, gtflow.cli.train, gtflow.handlers; "
            "print([m for m in sys.modules if m == 'sagemaker' or m.startswith('sagemaker.')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_the_sdk_the_message_names_the_extra():
    try:
        import sagemaker.train  # noqa: F401
    except ImportError:
        from gtflow.errors import MissingExtraError
        from gtflow.training.sdk import input_channels

        with pytest.raises(MissingExtraError, match=r"gtflow\[sdk\]"):
            input_channels(_spec())
    else:
        pytest.skip("the sdk extra is installed here: test_sdk_request_equals_gtflows covers it")


def test_sdk_request_equals_gtflows(monkeypatch):
    pytest.importorskip("sagemaker.train", reason="the sdk extra is not installed in this environment")
    import boto3
    from botocore.stub import ANY, Stubber
    from sagemaker.core.helper.session_helper import Session

    from gtflow.training.sdk import input_channels, model_trainer

    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    spec = _spec()
    session = Session(boto_session=boto3.Session(region_name="us-east-1", aws_access_key_id="offline",
                                                 aws_secret_access_key="offline"), default_bucket="bkt")
    expected = build_create_training_job_request(spec)
    expected = {**expected, "TrainingJobName": ANY,
                "OutputDataConfig": {**expected["OutputDataConfig"], "CompressionType": "GZIP"}}
    # ModelTrainer calls TrainingJob.create(session=<the boto session>), which sends through
    # sagemaker-core's client cached for that session: stub that one
    from sagemaker.core.resources import Base

    client = Base.get_sagemaker_client(session=session.boto_session, region_name=None, service_name="sagemaker")
    with Stubber(client) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:"
                                                                    "training-job/gtflow-od-1"}, expected)
        stub.add_response("describe_training_job", {
            "TrainingJobName": "gtflow-od-1", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:training-job/gtflow-od-1",
            "TrainingJobStatus": "InProgress", "SecondaryStatus": "Starting", "ModelArtifacts": {"S3ModelArtifacts": ""},
            "AlgorithmSpecification": {"TrainingInputMode": "Pipe", "TrainingImage": spec.image},
            "ResourceConfig": expected["ResourceConfig"], "StoppingCondition": expected["StoppingCondition"],
            "CreationTime": "2026-01-01T00:00:00Z"}, {"TrainingJobName": ANY})
        model_trainer(spec, session).train(input_data_config=input_channels(spec), wait=False, logs=False)
        stub.assert_no_pending_responses()  # the one CreateTrainingJob was sent, and matched
    channels = [c["ChannelName"] for c in expected["InputDataConfig"]]
    assert channels == ["train", "validation", "model"]


class _Recorder:
    """A sagemaker client for promote_model that records each call (no endpoint exists yet)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def describe_endpoint(self, **kw):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ValidationException", "Message": "Could not find endpoint"}},
                          "DescribeEndpoint")

    def __getattr__(self, name):
        return lambda **kw: self.calls.append((name, kw)) or {}


def test_sdk_promotion_sends_what_promote_model_sends(monkeypatch):
    pytest.importorskip("sagemaker.core.resources", reason="the sdk extra is not installed in this environment")
    import datetime as dt

    import boto3
    from botocore.stub import ANY, Stubber
    from sagemaker.core.resources import Base

    from gtflow.training.sagemaker_job import promote_model, training_image_uri
    from gtflow.training.sdk import promote_with_sdk

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    args = {"model_data_url": "s3://bkt/out/job-1/output/model.tar.gz", "role_arn": "arn:aws:iam::111122223333:role/sm",
            "endpoint_name": "od-endpoint", "image_uri": training_image_uri("us-east-1")}
    rec = _Recorder()
    promote_model(rec, **args)
    sent = dict(rec.calls)
    assert list(sent) == ["create_model", "create_endpoint_config", "create_endpoint"]

    boto_session = boto3.Session(region_name="us-east-1", aws_access_key_id="offline", aws_secret_access_key="offline")
    client = Base.get_sagemaker_client(session=boto_session, region_name=None, service_name="sagemaker")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    arn = "arn:aws:sagemaker:us-east-1:111122223333:"
    model, config = sent["create_model"]["ModelName"], sent["create_endpoint_config"]["EndpointConfigName"]
    with Stubber(client) as stub:
        stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint",
                              expected_params={"EndpointName": "od-endpoint"})
        stub.add_response("create_model", {"ModelArn": f"{arn}model/{model}"}, sent["create_model"])
        stub.add_response("describe_model", {"ModelName": model, "ModelArn": f"{arn}model/{model}",
                                             "CreationTime": now}, {"ModelName": model})
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": f"{arn}endpoint-config/{config}"},
                          sent["create_endpoint_config"])
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": config, "EndpointConfigArn": f"{arn}endpoint-config/{config}", "CreationTime": now,
            "ProductionVariants": sent["create_endpoint_config"]["ProductionVariants"]}, {"EndpointConfigName": config})
        stub.add_response("create_endpoint", {"EndpointArn": f"{arn}endpoint/od-endpoint"}, sent["create_endpoint"])
        stub.add_response("describe_endpoint", {
            "EndpointName": "od-endpoint", "EndpointArn": f"{arn}endpoint/od-endpoint", "EndpointConfigName": config,
            "EndpointStatus": "Creating", "CreationTime": now, "LastModifiedTime": now}, {"EndpointName": ANY})
        assert promote_with_sdk(boto_session, **args) == "created"
        stub.assert_no_pending_responses()
