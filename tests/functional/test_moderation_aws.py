"""Comprehend and Rekognition calls, checked by botocore's Stubber against the real models."""

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from gtflow.errors import ServiceError, UsageError
from gtflow.moderation.adapter import AdapterData, start_adapter_training
from gtflow.moderation.classifiers import ComprehendToxicity, EndpointToxicity, split_segments
from gtflow.moderation.image import CategoryPolicy, RekognitionModerator, activation_conditions
from gtflow.moderation.prompt import PromptModerator
from gtflow.moderation.rules import Rule, RuleFilter


def comprehend():
    return boto3.client("comprehend", region_name="us-east-1")


def result(tox, labels=()):
    return {"Toxicity": tox, "Labels": [{"Name": n, "Score": s} for n, s in labels]}


def test_batches_of_ten_segments_and_one_kb():
    client = comprehend()
    long_text = "word " * 500  # ~2.5 KB -> 3 segments
    texts = [f"prompt {i}" for i in range(9)] + [long_text]
    segs = 9 + len(split_segments(long_text))
    assert segs == 12
    with Stubber(client) as stub:
        stub.add_response("detect_toxic_content", {"ResultList": [result(0.1)] * 10},
                          {"TextSegments": ANY, "LanguageCode": "en"})
        stub.add_response("detect_toxic_content", {"ResultList": [result(0.9, [("INSULT", 0.9)]), result(0.2)]},
                          {"TextSegments": ANY, "LanguageCode": "en"})
        scores = ComprehendToxicity(client, sleep=lambda s: None).classify(texts)
        stub.assert_no_pending_responses()
    assert len(scores) == 10
    assert scores[-1].toxicity == 0.9 and scores[-1].labels == {"INSULT": 0.9}  # worst segment wins
    assert scores[0].toxicity == 0.1


def test_every_segment_within_limits():
    for text in ["x" * 5000, "é" * 3000, ("ab " * 2000)]:
        for s in split_segments(text):
            assert 0 < len(s.encode()) <= 1024


def test_throttling_is_retried_validation_is_not():
    client = comprehend()
    slept = []
    with Stubber(client) as stub:
        stub.add_client_error("detect_toxic_content", "ThrottlingException", http_status_code=400)
        stub.add_response("detect_toxic_content", {"ResultList": [result(0.3)]})
        assert ComprehendToxicity(client, sleep=slept.append).classify(["hello"])[0].toxicity == 0.3
    assert len(slept) == 1
    with Stubber(client) as stub:
        stub.add_client_error("detect_toxic_content", "InvalidRequestException", http_status_code=400)
        with pytest.raises(ServiceError):
            ComprehendToxicity(client, sleep=slept.append).classify(["hello"])
        stub.assert_no_pending_responses()
    with pytest.raises(UsageError):
        ComprehendToxicity(client, language="fr")


def test_rules_and_comprehend_combined():
    client = comprehend()
    mod = PromptModerator(RuleFilter([Rule("gore", ("gore",), "violence", "review")]), ComprehendToxicity(client))
    with Stubber(client) as stub:
        stub.add_response("detect_toxic_content", {"ResultList": [result(0.95, [("VIOLENCE_OR_THREAT", 0.95)]), result(0.01)]})
        bad, ok = mod.moderate_many(["a g0re scene that threatens", "a cat on a sofa"])
    assert bad.action == "block" and {r.source for r in bad.reasons} == {"rule", "classifier"}
    assert ok.action == "allow" and ok.reasons == ()


def test_endpoint_classifier():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": json.dumps([{"toxicity": 0.7, "labels": {"x": 0.7}}, 0.1]).encode()},
                          {"EndpointName": "tox", "ContentType": "application/json", "Accept": "application/json", "Body": ANY})
        scores = EndpointToxicity(client, "tox").classify(["a", "b"])
    assert [s.toxicity for s in scores] == [0.7, 0.1]


def test_rekognition_request_keeps_taxonomy_and_starts_named_loop():
    client = boto3.client("rekognition", region_name="us-east-1")
    flow = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/moderation"
    mod = RekognitionModerator(client, min_confidence=40, flow_definition_arn=flow, sleep=lambda s: None)
    req = mod.request("s3://bucket/img/1.jpg")
    resp = {
        "ModerationLabels": [
            {"Confidence": 91.0, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1},
            {"Confidence": 91.0, "Name": "Graphic Violence", "ParentName": "Violence", "TaxonomyLevel": 2},
            {"Confidence": 60.0, "Name": "Blood & Gore", "ParentName": "Graphic Violence", "TaxonomyLevel": 3},
        ],
        "ModerationModelVersion": "7.0",
        "HumanLoopActivationOutput": {"HumanLoopArn": "arn:aws:sagemaker:us-east-1:123456789012:human-loop/x",
                                      "HumanLoopActivationReasons": ["ConditionsEvaluation"]},
    }
    with Stubber(client) as stub:
        stub.add_client_error("detect_moderation_labels", "ThrottlingException", http_status_code=400)
        stub.add_response("detect_moderation_labels", resp, req)
        out = mod.moderate("s3://bucket/img/1.jpg")
    assert [lab.taxonomy_level for lab in out.labels] == [1, 2, 3]
    assert out.human_loop_arn.endswith("human-loop/x")
    assert req["HumanLoopConfig"]["HumanLoopName"] == mod.request("s3://bucket/img/1.jpg")["HumanLoopConfig"]["HumanLoopName"]
    # a threshold on the top category applies to the level-3 label below it
    d = CategoryPolicy(block={"Violence": 95, "*": 99}, review={"Violence": 55}).decide(out.labels)
    assert d.action == "review" and {r["label"] for r in d.reasons} == {"Violence", "Graphic Violence", "Blood & Gore"}


def test_activation_conditions_shape():
    doc = json.loads(activation_conditions(CategoryPolicy(block={"*": 90}, review={"Suggestive": 60, "Violence": 50}),
                                           sample_percent=1))
    (top,) = doc["Conditions"]
    assert len(top["Or"]) == 3 and top["Or"][-1]["ConditionType"] == "Sampling"
    band = top["Or"][0]["And"]
    assert band[0]["ConditionParameters"] == {"ModerationLabelName": "Suggestive", "ConfidenceGreaterThanEquals": 60.0}
    assert band[1]["ConditionParameters"] == {"ModerationLabelName": "Suggestive", "ConfidenceLessThan": 90.0}


def test_adapter_training_request_and_attach():
    client = boto3.client("rekognition", region_name="us-east-1")
    data = AdapterData("s3://bkt/mod/adapter-train.manifest", "s3://bkt/mod/adapter-test.manifest", 80, 25, 0, 30, 50)
    project = "arn:aws:rekognition:us-east-1:123456789012:project/mod/1"
    with Stubber(client) as stub:
        stub.add_response("create_project", {"ProjectArn": project},
                          {"ProjectName": "mod", "Feature": "CONTENT_MODERATION", "AutoUpdate": "DISABLED"})
        stub.add_response("create_project_version", {"ProjectVersionArn": project + "/version/v/1"}, {
            "ProjectArn": project, "VersionName": ANY, "OutputConfig": {"S3Bucket": "bkt", "S3KeyPrefix": "adapters"},
            "TrainingData": {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bkt", "Name": "mod/adapter-train.manifest"}}}]},
            "TestingData": {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bkt", "Name": "mod/adapter-test.manifest"}}}]},
        })
        first = start_adapter_training(client, data, project_name="mod", output_prefix="s3://bkt/adapters")
    with Stubber(client) as stub:  # rerun: both exist, attach
        stub.add_client_error("create_project", "ResourceInUseException", http_status_code=400)
        stub.add_response("describe_projects", {"ProjectDescriptions": [{"ProjectArn": project}]})
        stub.add_client_error("create_project_version", "ResourceInUseException", http_status_code=400)
        stub.add_response("describe_project_versions",
                          {"ProjectVersionDescriptions": [{"ProjectVersionArn": first["projectVersionArn"]}]})
        again = start_adapter_training(client, data, project_name="mod", output_prefix="s3://bkt/adapters")
    assert again == first
