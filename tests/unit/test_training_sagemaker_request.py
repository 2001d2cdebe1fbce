"""The CreateTrainingJob request for the built-in Object Detection algorithm (no AWS call)."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.stub import Stubber

from gtflow.errors import UsageError
from gtflow.training.manifests import ManifestStats
from gtflow.training.naming import NAME_PATTERN
from gtflow.training.sagemaker_job import (
    REGION_ACCOUNTS,
    ObjectDetectionHyperParameters,
    PreviousModel,
    TrainingJobSpec,
    build_create_training_job_request,
    training_image_uri,
)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def _spec(**kw):
    hp = kw.pop("hp", ObjectDetectionHyperParameters(num_classes=3, num_training_samples=120,
                                                      mini_batch_size=16, epochs=10,
                                                      learning_rate=0.0001))
    base = dict(role_arn=ROLE, region="us-east-1", train_manifest="s3://bucket/round-2/train.manifest",
                validation_manifest="s3://bucket/round-2/validation.manifest",
                label_attribute="bounding-box", output_path="s3://bucket/output",
                hyperparameters=hp,
                previous_model=PreviousModel("s3://bucket/output/job-1/output/model.tar.gz",
                                             num_classes=3, base_network="resnet-50"))
    base.update(kw)
    return TrainingJobSpec(**base)


# What the algorithm's documentation asks for (Object Detection - MXNet: augmented manifest in Pipe
# mode, RecordIO wrapping, AttributeNames image first; incremental "model" channel in File mode,
# application/x-sagemaker-model; use_pretrained_model=0 with the same num_classes/base_network).
EXPECTED = {
    "AlgorithmSpecification": {
        "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/object-detection:1",
        "TrainingInputMode": "Pipe",
    },
    "RoleArn": ROLE,
    "HyperParameters": {
        "num_classes": "3",
        "num_training_samples": "120",
        "base_network": "resnet-50",
        "use_pretrained_model": "0",
        "epochs": "10",
        "mini_batch_size": "16",
        "learning_rate": "0.0001",
        "image_shape": "300",
        "label_width": "350",
    },
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {
                "S3DataType": "AugmentedManifestFile",
                "S3Uri": "s3://bucket/round-2/train.manifest",
                "S3DataDistributionType": "FullyReplicated",
                "AttributeNames": ["source-ref", "bounding-box"],
            }},
            "ContentType": "application/x-recordio",
            "RecordWrapperType": "RecordIO",
            "CompressionType": "None",
            "InputMode": "Pipe",
        },
        {
            "ChannelName": "validation",
            "DataSource": {"S3DataSource": {
                "S3DataType": "AugmentedManifestFile",
                "S3Uri": "s3://bucket/round-2/validation.manifest",
                "S3DataDistributionType": "FullyReplicated",
                "AttributeNames": ["source-ref", "bounding-box"],
            }},
            "ContentType": "application/x-recordio",
            "RecordWrapperType": "RecordIO",
            "CompressionType": "None",
            "InputMode": "Pipe",
        },
        {
            "ChannelName": "model",
            "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": "s3://bucket/output/job-1/output/model.tar.gz",
                "S3DataDistributionType": "FullyReplicated",
            }},
            "ContentType": "application/x-sagemaker-model",
            "CompressionType": "None",
            "InputMode": "File",
        },
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
    "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "StoppingCondition": {"MaxRuntimeInSeconds": 14400},
}


def test_three_channel_incremental_request_matches_the_documentation_field_for_field():
    req = build_create_training_job_request(_spec())
    name = req.pop("TrainingJobName")
    assert req == EXPECTED
    assert NAME_PATTERN.match(name) and len(name) <= 63 and name.startswith("gtflow-od-")


def test_request_passes_stubber_validation_against_the_service_model():
    req = build_create_training_job_request(_spec(tags=(("project", "gtflow"),)))
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("create_training_job",
                          {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{req['TrainingJobName']}"},
                          copy.deepcopy(req))
        client.create_training_job(**req)
        stub.assert_no_pending_responses()


def test_stubber_would_reject_a_broken_request():
    # the check above can fail: a misspelt key or a wrong type is caught by the service model
    req = build_create_training_job_request(_spec())
    req["InputDataConfig"][0]["RecordWrapper"] = req["InputDataConfig"][0].pop("RecordWrapperType")
    client = boto3.client("sagemaker", region_name="us-east-1")
    from botocore.exceptions import ParamValidationError

    with Stubber(client) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": "arn:x"}, req)
        with pytest.raises(ParamValidationError):
            client.create_training_job(**req)


def test_job_name_is_deterministic_and_changes_with_inputs():
    a = build_create_training_job_request(_spec())["TrainingJobName"]
    b = build_create_training_job_request(_spec())["TrainingJobName"]
    c = build_create_training_job_request(_spec(train_manifest="s3://bucket/round-3/train.manifest"))["TrainingJobName"]
    assert a == b != c
    long = build_create_training_job_request(_spec(base_job_name="x" * 100))["TrainingJobName"]
    assert len(long) == 63 and NAME_PATTERN.match(long)


def test_fresh_job_has_two_channels_and_pretrained_base():
    req = build_create_training_job_request(_spec(previous_model=None))
    assert [c["ChannelName"] for c in req["InputDataConfig"]] == ["train", "validation"]
    assert req["HyperParameters"]["use_pretrained_model"] == "1"


def test_incremental_job_checks_num_classes_and_base_network():
    with pytest.raises(UsageError, match="num_classes 4 != 3"):
        _spec(previous_model=PreviousModel("s3://bucket/m/model.tar.gz", num_classes=4, base_network="resnet-50"))
    with pytest.raises(UsageError, match="base_network"):
        _spec(previous_model=PreviousModel("s3://bucket/m/model.tar.gz", num_classes=3, base_network="vgg-16"))


@pytest.mark.parametrize("kw", [
    {"learning_rate": 0.0}, {"learning_rate": 1.5}, {"momentum": 0.0}, {"weight_decay": 1.0},
    {"image_shape": 256}, {"optimizer": "lamb"}, {"base_network": "mobilenet"},
    {"lr_scheduler_step": "10;20"}, {"lr_scheduler_step": "1,,2"}, {"mini_batch_size": 0},
    {"nms_threshold": 0}, {"early_stopping_tolerance": 1.5}, {"use_pretrained_model": 2},
    {"label_width": 5}, {"kv_store": "local"},
])
def test_hyperparameter_ranges(kw):
    with pytest.raises(UsageError):
        ObjectDetectionHyperParameters(num_classes=2, num_training_samples=10, epochs=30, **kw)


def test_hyperparameters_from_data_and_strings():
    stats = ManifestStats(num_images=500, num_boxes=900, max_boxes_per_image=80,
                          boxes_per_class={0: 500, 1: 400}, class_map={0: "a", 1: "b"})
    hp = ObjectDetectionHyperParameters.for_data(stats, epochs=5)
    assert (hp.num_classes, hp.num_training_samples, hp.label_width) == (2, 500, 402)
    assert ObjectDetectionHyperParameters.for_data(
        ManifestStats(10, 10, 3, {0: 10}, {0: "a"})).label_width == 350
    with pytest.raises(UsageError, match="label_width"):
        ObjectDetectionHyperParameters.for_data(stats, label_width=350)
    again = ObjectDetectionHyperParameters.from_strings(hp.to_dict())
    assert again.to_dict() == hp.to_dict()
    assert ObjectDetectionHyperParameters.from_strings({"num_classes": "2", "num_training_samples": "3",
                                                        "early_stopping": "True"}).to_dict()["early_stopping"] == "True"
    with pytest.raises(UsageError):
        ObjectDetectionHyperParameters.from_strings({"num_classes": "x", "num_training_samples": "3"})


def test_image_uri_per_region():
    assert training_image_uri("eu-west-1") == "685385470294.dkr.ecr.eu-west-1.amazonaws.com/object-detection:1"
    assert training_image_uri("ap-northeast-1") == "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/object-detection:1"
    assert training_image_uri("cn-northwest-1").endswith(".amazonaws.com.cn/object-detection:1")
    assert len(REGION_ACCOUNTS) >= 20
    with pytest.raises(UsageError):
        training_image_uri("mars-north-1")


def test_names_pattern_matches_botocore():
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    meta = model.shape_for("TrainingJobName").metadata
    assert NAME_PATTERN.pattern == f"^{meta['pattern']}$" and meta["max"] == 63
