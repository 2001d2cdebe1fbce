"""Training jobs, models, endpoint configs and endpoints: moto where it models the call,
Stubber (validated against the real service model) where it does not (UpdateEndpoint,
ResourceInUse, status sequences)."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import ANY, Stubber

from gtflow.errors import ConflictError, ServiceError, UsageError
from gtflow.training.sagemaker_job import (
    PREVIOUS_CONFIG_TAG,
    ObjectDetectionHyperParameters,
    PreviousModel,
    TrainingJobSpec,
    build_create_training_job_request,
    previous_model_from_job,
    promote_model,
    rollback_endpoint,
    start_training_job,
    training_image_uri,
    wait_for_training_job,
)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = training_image_uri("us-east-1")


def _spec(previous=None, **kw):
    hp = ObjectDetectionHyperParameters(num_classes=4, num_training_samples=200, epochs=5)
    return TrainingJobSpec(role_arn=ROLE, region="us-east-1", train_manifest="s3://bucket/train.manifest",
                           validation_manifest="s3://bucket/val.manifest", label_attribute="bounding-box",
                           output_path="s3://bucket/output", hyperparameters=hp, previous_model=previous, **kw)


@pytest.fixture
def sm(aws):
    return boto3.client("sagemaker", region_name="us-east-1")


def test_moto_training_job_roundtrip_and_previous_model(sm):
    name, attached = start_training_job(sm, _spec())
    assert not attached
    desc = sm.describe_training_job(TrainingJobName=name)
    assert desc["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert [c["ChannelName"] for c in desc["InputDataConfig"]] == ["train", "validation"]
    assert desc["InputDataConfig"][0]["DataSource"]["S3DataSource"]["AttributeNames"] == ["source-ref", "bounding-box"]
    result = wait_for_training_job(sm, name, progress=False, sleep=lambda s: None)
    assert result.status == "Completed"
    prev = previous_model_from_job(sm, name)
    assert (prev.num_classes, prev.base_network, prev.job_name) == (4, "resnet-50", name)
    inc = build_create_training_job_request(_spec(previous=prev))
    assert inc["InputDataConfig"][2]["DataSource"]["S3DataSource"]["S3Uri"] == prev.model_data_url
    assert inc["HyperParameters"]["use_pretrained_model"] == "0"
    name2, _ = start_training_job(sm, inc)
    assert name2 != name
    assert len(sm.describe_training_job(TrainingJobName=name2)["InputDataConfig"]) == 3


def _in_use(stub, req):
    stub.add_client_error("create_training_job", service_error_code="ResourceInUse",
                          service_message="Training job names must be unique", expected_params=req)


def _describe(req, status="InProgress", secondary="Training", metrics=None):
    d = {
        "TrainingJobName": req["TrainingJobName"],
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/" + req["TrainingJobName"],
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
        "AlgorithmSpecification": req["AlgorithmSpecification"],
        "HyperParameters": req["HyperParameters"],
        "InputDataConfig": req["InputDataConfig"],
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://bucket/output/{req['TrainingJobName']}/output/model.tar.gz"},
        "ResourceConfig": req["ResourceConfig"],
        "StoppingCondition": req["StoppingCondition"],
        "CreationTime": dt.datetime(2026, 1, 1),
    }
    if metrics:
        d["FinalMetricDataList"] = [{"MetricName": k, "Value": v, "Timestamp": dt.datetime(2026, 1, 1)}
                                    for k, v in metrics.items()]
    return d


def test_resource_in_use_attaches_to_the_same_job():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    req = build_create_training_job_request(_spec())
    with Stubber(sm) as stub:
        _in_use(stub, req)
        stub.add_response("describe_training_job", _describe(req), {"TrainingJobName": req["TrainingJobName"]})
        assert start_training_job(sm, _spec()) == (req["TrainingJobName"], True)


def test_resource_in_use_with_other_inputs_is_a_conflict():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    spec = _spec(job_name="fixed-name")
    req = build_create_training_job_request(spec)
    other = dict(req, HyperParameters={**req["HyperParameters"], "epochs": "99"})
    with Stubber(sm) as stub:
        _in_use(stub, req)
        stub.add_response("describe_training_job", _describe(other), {"TrainingJobName": "fixed-name"})
        with pytest.raises(ConflictError):
            start_training_job(sm, spec)


def test_other_client_errors_are_service_errors():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm) as stub:
        stub.add_client_error("create_training_job", service_error_code="ValidationException",
                              service_message="bad", expected_params=None)
        with pytest.raises(ServiceError, match="CreateTrainingJob"):
            start_training_job(sm, _spec())


def test_wait_reads_validation_map_and_reports_failure():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    req = build_create_training_job_request(_spec())
    q = {"TrainingJobName": req["TrainingJobName"]}
    sleeps = []
    with Stubber(sm) as stub:
        stub.add_response("describe_training_job", _describe(req, "InProgress", "Starting"), q)
        stub.add_response("describe_training_job", _describe(req, "InProgress", "Training"), q)
        stub.add_response("describe_training_job",
                          _describe(req, "Completed", "Completed", {"validation:mAP": 0.61, "train:progress": 100.0}), q)
        res = wait_for_training_job(sm, req["TrainingJobName"], poll_seconds=7, progress=False, sleep=sleeps.append)
    assert res.validation_map == pytest.approx(0.61)
    assert sleeps == [7, 7]
    assert res.raise_for_status() is res
    failed = _describe(req, "Failed", "Failed")
    failed["FailureReason"] = "ClientError: Invalid parameter value 'label_width'"
    with Stubber(sm) as stub:
        stub.add_response("describe_training_job", failed, q)
        res = wait_for_training_job(sm, req["TrainingJobName"], progress=False, sleep=lambda s: None)
    with pytest.raises(ServiceError, match="label_width"):
        res.raise_for_status()


def test_wait_times_out():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    req = build_create_training_job_request(_spec())
    ticks = iter([0.0, 5.0, 100.0])
    with Stubber(sm) as stub:
        for _ in range(2):
            stub.add_response("describe_training_job", _describe(req), {"TrainingJobName": req["TrainingJobName"]})
        with pytest.raises(ServiceError, match="still InProgress"):
            wait_for_training_job(sm, req["TrainingJobName"], timeout_seconds=50, progress=False,
                                  sleep=lambda s: None, clock=lambda: next(ticks))


def test_previous_model_must_be_completed(sm):
    name, _ = start_training_job(sm, _spec())
    # moto completes at once; a Stubber job that failed has no usable model
    sm2 = boto3.client("sagemaker", region_name="us-east-1")
    req = build_create_training_job_request(_spec())
    with Stubber(sm2) as stub:
        stub.add_response("describe_training_job", _describe(req, "Failed", "Failed"), None)
        with pytest.raises(UsageError, match="Failed"):
            previous_model_from_job(sm2, req["TrainingJobName"])
    assert previous_model_from_job(sm, name).num_classes == 4


def test_promote_creates_model_config_and_endpoint_with_moto(sm):
    url = "s3://bucket/output/job-a/output/model.tar.gz"
    p = promote_model(sm, model_data_url=url, role_arn=ROLE, endpoint_name="od-endpoint", image_uri=IMAGE)
    assert p.action == "created" and p.previous_endpoint_config_name is None
    model = sm.describe_model(ModelName=p.model_name)
    assert model["PrimaryContainer"]["ModelDataUrl"] == url
    cfg = sm.describe_endpoint_config(EndpointConfigName=p.endpoint_config_name)
    assert cfg["ProductionVariants"][0]["ModelName"] == p.model_name
    assert sm.describe_endpoint(EndpointName="od-endpoint")["EndpointConfigName"] == p.endpoint_config_name
    again = promote_model(sm, model_data_url=url, role_arn=ROLE, endpoint_name="od-endpoint", image_uri=IMAGE)
    assert again.action == "unchanged" and again.endpoint_config_name == p.endpoint_config_name


def test_promote_updates_endpoint_and_rolls_back_with_stubber():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    url = "s3://bucket/output/job-b/output/model.tar.gz"
    with Stubber(sm) as stub:
        stub.add_response("describe_endpoint", {
            "EndpointName": "od-endpoint", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/od-endpoint",
            "EndpointConfigName": "od-endpoint-c-old", "EndpointStatus": "InService",
            "CreationTime": dt.datetime(2026, 1, 1), "LastModifiedTime": dt.datetime(2026, 1, 1)},
            {"EndpointName": "od-endpoint"})
        stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/m"},
                          {"ModelName": ANY, "ExecutionRoleArn": ROLE,
                           "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": url}})
        stub.add_response("create_endpoint_config",
                          {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c"},
                          {"EndpointConfigName": ANY, "ProductionVariants": ANY,
                           "Tags": [{"Key": PREVIOUS_CONFIG_TAG, "Value": "od-endpoint-c-old"}]})
        stub.add_response("update_endpoint", {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/od-endpoint"},
                          {"EndpointName": "od-endpoint", "EndpointConfigName": ANY})
        p = promote_model(sm, model_data_url=url, role_arn=ROLE, endpoint_name="od-endpoint", image_uri=IMAGE)
        stub.assert_no_pending_responses()
    assert p.action == "updated" and p.previous_endpoint_config_name == "od-endpoint-c-old"

    with Stubber(sm) as stub:
        stub.add_response("describe_endpoint", {
            "EndpointName": "od-endpoint", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/od-endpoint",
            "EndpointConfigName": p.endpoint_config_name, "EndpointStatus": "InService",
            "CreationTime": dt.datetime(2026, 1, 1), "LastModifiedTime": dt.datetime(2026, 1, 1)},
            {"EndpointName": "od-endpoint"})
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{p.endpoint_config_name}"
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": p.endpoint_config_name, "EndpointConfigArn": arn,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": p.model_name}],
            "CreationTime": dt.datetime(2026, 1, 1)}, {"EndpointConfigName": p.endpoint_config_name})
        stub.add_response("list_tags", {"Tags": [{"Key": PREVIOUS_CONFIG_TAG, "Value": "od-endpoint-c-old"}]},
                          {"ResourceArn": arn})
        stub.add_response("update_endpoint", {"EndpointArn": "arn:x:endpoint/od-endpoint"},
                          {"EndpointName": "od-endpoint", "EndpointConfigName": "od-endpoint-c-old"})
        assert rollback_endpoint(sm, "od-endpoint") == "od-endpoint-c-old"
        stub.assert_no_pending_responses()


def test_promoted_config_records_previous_in_tags_with_moto(sm):
    # moto has no UpdateEndpoint: check the tag that rollback reads on a config made over an endpoint
    url1 = "s3://bucket/output/job-a/output/model.tar.gz"
    p1 = promote_model(sm, model_data_url=url1, role_arn=ROLE, endpoint_name="od-endpoint", image_uri=IMAGE)
    sm.update_endpoint = lambda **kw: {"EndpointArn": "arn"}  # the one call moto lacks
    p2 = promote_model(sm, model_data_url="s3://bucket/output/job-b/output/model.tar.gz", role_arn=ROLE,
                       endpoint_name="od-endpoint", image_uri=IMAGE)
    assert p2.previous_endpoint_config_name == p1.endpoint_config_name
    arn = sm.describe_endpoint_config(EndpointConfigName=p2.endpoint_config_name)["EndpointConfigArn"]
    tags = sm.list_tags(ResourceArn=arn)["Tags"]
    assert {"Key": PREVIOUS_CONFIG_TAG, "Value": p1.endpoint_config_name} in tags


def test_rollback_without_record_is_a_usage_error(sm):
    promote_model(sm, model_data_url="s3://bucket/o/model.tar.gz", role_arn=ROLE, endpoint_name="ep-one",
                  image_uri=IMAGE)
    with pytest.raises(UsageError, match="no previous config"):
        rollback_endpoint(sm, "ep-one")


def test_incremental_spec_from_moto_job(sm):
    name, _ = start_training_job(sm, _spec())
    prev = previous_model_from_job(sm, name)
    assert isinstance(prev, PreviousModel)
    with pytest.raises(UsageError):
        TrainingJobSpec(role_arn=ROLE, region="us-east-1", train_manifest="s3://bucket/t.manifest",
                        validation_manifest="s3://bucket/v.manifest", label_attribute="bounding-box",
                        output_path="s3://bucket/o",
                        hyperparameters=ObjectDetectionHyperParameters(num_classes=5, num_training_samples=9),
                        previous_model=prev)
