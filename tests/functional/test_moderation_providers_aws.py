"""Moderation inputs (bytes, files, store and S3 URIs), the PII declaration as an option, and the
Bedrock Guardrails provider: requests checked by botocore's Stubber against the service models."""

from __future__ import annotations

import io
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from PIL import Image

from gtflow.errors import ObjectNotFoundError, UsageError
from gtflow.moderation.guardrails import GUARDRAIL_MAX_IMAGE_BYTES, BedrockGuardrail
from gtflow.moderation.image import (
    CONTENT_CLASSIFIERS,
    REKOGNITION_MAX_BYTES,
    CategoryPolicy,
    RekognitionModerator,
)
from gtflow.moderation.inputs import resolve_image
from gtflow.moderation.prompt import PromptModerator
from gtflow.store import LocalStore

FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/moderation"
GUARD = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123def456"


def png(size: int = 32, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def rekognition():
    return boto3.client("rekognition", region_name="us-east-1")


def bedrock():
    return boto3.client("bedrock-runtime", region_name="us-east-1")


LABELS = {"ModerationLabels": [{"Confidence": 88.0, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1}],
          "ModerationModelVersion": "7.0"}


def test_limits_match_the_service_models() -> None:
    s = botocore.session.get_session()
    rek = s.get_service_model("rekognition")
    assert rek.shape_for("Image").members["Bytes"].metadata["max"] == REKOGNITION_MAX_BYTES
    assert tuple(rek.shape_for("HumanLoopDataAttributes").members["ContentClassifiers"].member.enum) == CONTENT_CLASSIFIERS
    br = s.get_service_model("bedrock-runtime")
    # the installed botocore has the image content block of ApplyGuardrail
    image = br.shape_for("GuardrailContentBlock").members["image"]
    assert image.members["format"].enum == ["png", "jpeg"] and "bytes" in image.members["source"].members


@pytest.mark.parametrize("kind", ["bytes", "file", "pathlike", "store"])
def test_rekognition_sends_bytes_for_bytes_files_and_store_uris(kind: str, tmp_path: Path) -> None:
    data = png()
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://bucket/gen/1.png", data)
    (tmp_path / "a.png").write_bytes(data)
    image, mod_store = {"bytes": (data, None), "file": (str(tmp_path / "a.png"), None),
                        "pathlike": (tmp_path / "a.png", None), "store": ("s3://bucket/gen/1.png", store)}[kind]
    client = rekognition()
    mod = RekognitionModerator(client, store=mod_store)
    with Stubber(client) as stub:
        stub.add_response("detect_moderation_labels", LABELS, {"Image": {"Bytes": data}, "MinConfidence": 50.0})
        out = mod.moderate(image)
        stub.assert_no_pending_responses()
    assert out.labels[0].name == "Violence"
    assert out.image == {"bytes": resolve_image(data).name, "file": str(tmp_path / "a.png"),
                         "pathlike": str(tmp_path / "a.png"), "store": "s3://bucket/gen/1.png"}[kind]


def test_rekognition_s3_uri_without_a_store_goes_by_reference() -> None:
    client = rekognition()
    with Stubber(client) as stub:
        stub.add_response("detect_moderation_labels", LABELS,
                          {"Image": {"S3Object": {"Bucket": "bucket", "Name": "img/1.jpg"}}, "MinConfidence": 50.0})
        RekognitionModerator(client).moderate("s3://bucket/img/1.jpg")


def test_rekognition_bytes_limit_is_exact_and_the_error_is_clear(tmp_path: Path) -> None:
    client = rekognition()
    mod = RekognitionModerator(client)
    at_limit = b"\xff\xd8\xff" + b"\0" * (REKOGNITION_MAX_BYTES - 3)
    with Stubber(client) as stub:  # exactly 5 MB is accepted by the model's validation
        stub.add_response("detect_moderation_labels", LABELS, {"Image": {"Bytes": at_limit}, "MinConfidence": 50.0})
        mod.moderate(at_limit)
    big = tmp_path / "big.jpg"
    big.write_bytes(at_limit + b"\0")
    with pytest.raises(UsageError) as err:
        mod.moderate(big)
    assert "5,242,881 bytes" in str(err.value) and "S3Object" in str(err.value) and str(big) in str(err.value)


def test_missing_inputs_are_clear(tmp_path: Path) -> None:
    mod = RekognitionModerator(rekognition(), store=LocalStore(tmp_path))
    with pytest.raises(UsageError, match="no such image file"):
        mod.moderate(str(tmp_path / "nope.png"))
    with pytest.raises(ObjectNotFoundError):
        mod.moderate("s3://bucket/missing.png")
    with pytest.raises(UsageError):
        mod.moderate("https://example.com/a.png")
    with pytest.raises(UsageError):
        mod.moderate(b"")


def test_pii_declaration_is_an_explicit_option() -> None:
    client = rekognition()
    plain = RekognitionModerator(client, flow_definition_arn=FLOW).request("s3://bucket/img/1.jpg")
    assert "DataAttributes" not in plain["HumanLoopConfig"]  # nothing declared unless asked
    declared = RekognitionModerator(client, flow_definition_arn=FLOW,
                                    content_classifiers=["FreeOfPersonallyIdentifiableInformation"])
    req = declared.request("s3://bucket/img/1.jpg")
    assert req["HumanLoopConfig"]["DataAttributes"] == {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}
    with Stubber(client) as stub:  # both requests are valid against the model
        stub.add_response("detect_moderation_labels", LABELS, plain)
        stub.add_response("detect_moderation_labels", LABELS, req)
        RekognitionModerator(client, flow_definition_arn=FLOW).moderate("s3://bucket/img/1.jpg")
        declared.moderate("s3://bucket/img/1.jpg")
    with pytest.raises(UsageError):
        RekognitionModerator(client, flow_definition_arn=FLOW, content_classifiers=["FreeOfPII"])
    with pytest.raises(UsageError):
        RekognitionModerator(client, content_classifiers=["FreeOfAdultContent"])  # no loop to describe


def _assessment(filters: list[tuple[str, str]], *, words: bool = False, intervened: bool = True) -> dict:
    a: dict = {"contentPolicy": {"filters": [
        {"type": t, "confidence": c, "filterStrength": "MEDIUM", "action": "BLOCKED" if c == "HIGH" else "NONE",
         "detected": c != "NONE"} for t, c in filters]}}
    if words:
        a["wordPolicy"] = {"customWords": [], "managedWordLists": [
            {"match": "****", "type": "PROFANITY", "action": "BLOCKED", "detected": True}]}
    return {"usage": {"topicPolicyUnits": 0, "contentPolicyUnits": 1, "wordPolicyUnits": 0,
                      "sensitiveInformationPolicyUnits": 0, "sensitiveInformationPolicyFreeUnits": 0,
                      "contextualGroundingPolicyUnits": 0},
            "action": "GUARDRAIL_INTERVENED" if intervened else "NONE", "outputs": [], "assessments": [a]}


def test_guardrail_text_through_the_prompt_moderator() -> None:
    client = bedrock()
    guard = BedrockGuardrail(client, GUARD, "1", sleep=lambda s: None)
    expected = {"guardrailIdentifier": GUARD, "guardrailVersion": "1", "source": "INPUT", "outputScope": "FULL"}
    with Stubber(client) as stub:
        stub.add_client_error("apply_guardrail", "ThrottlingException", http_status_code=429)
        stub.add_response("apply_guardrail", _assessment([("VIOLENCE", "HIGH"), ("INSULTS", "LOW")], words=True),
                          {**expected, "content": [{"text": {"text": "I will hurt you, ****"}}]})
        stub.add_response("apply_guardrail", _assessment([("VIOLENCE", "NONE"), ("SEXUAL", "MEDIUM")], intervened=False),
                          {**expected, "content": [{"text": {"text": "a suggestive pose"}}]})
        stub.add_response("apply_guardrail", _assessment([("VIOLENCE", "NONE")], intervened=False),
                          {**expected, "content": [{"text": {"text": "a cat on a sofa"}}]})
        bad, borderline, ok = PromptModerator(classifier=guard).moderate_many(
            ["I will hurt you, ****", "a suggestive pose", "a cat on a sofa"])
        stub.assert_no_pending_responses()
    assert bad.action == "block" and bad.toxicity is not None
    assert bad.toxicity.labels == {"VIOLENCE_OR_THREAT": 0.9, "INSULT": 0.45, "PROFANITY": 1.0}
    assert borderline.action == "review" and borderline.categories == ["sexual"]
    assert ok.action == "allow"
    # per-category policy like the others: block on a single label
    with Stubber(client) as stub:
        stub.add_response("apply_guardrail", _assessment([("SEXUAL", "MEDIUM")], intervened=False))
        d = PromptModerator(classifier=guard, label_thresholds={"SEXUAL": 0.6}).moderate("a suggestive pose")
    assert d.action == "block"


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_guardrail_image_request_and_taxonomy(kind: str, tmp_path: Path) -> None:
    data = png() if kind == "png" else jpeg()
    store = LocalStore(tmp_path / "root")
    store.put_bytes(f"s3://bucket/gen/out.{kind}", data)
    client = bedrock()
    guard = BedrockGuardrail(client, GUARD, "DRAFT", source="OUTPUT", store=store)
    with Stubber(client) as stub:
        stub.add_response("apply_guardrail", _assessment([("SEXUAL", "MEDIUM"), ("VIOLENCE", "LOW"), ("HATE", "NONE")]), {
            "guardrailIdentifier": GUARD, "guardrailVersion": "DRAFT", "source": "OUTPUT", "outputScope": "FULL",
            "content": [{"image": {"format": kind, "source": {"bytes": data}}}]})
        out = guard.moderate(f"s3://bucket/gen/out.{kind}")
        stub.assert_no_pending_responses()
    assert {(lab.name, lab.confidence, lab.taxonomy_level) for lab in out.labels} == {("Explicit", 70.0, 1), ("Violence", 45.0, 1)}
    d = CategoryPolicy(block={"Explicit": 60, "*": 80}, review={"*": 40}).decide(out.labels)
    assert d.action == "unsafe" and [r["label"] for r in d.reasons] == ["Explicit", "Violence"]


def test_guardrail_image_limits() -> None:
    guard = BedrockGuardrail(bedrock(), GUARD)
    gif = b"GIF89a" + b"\0" * 20
    with pytest.raises(UsageError, match="PNG or JPEG"):
        guard.moderate(gif)
    with pytest.raises(UsageError, match="4,194,304"):
        guard.moderate(b"\x89PNG\r\n\x1a\n" + b"\0" * GUARDRAIL_MAX_IMAGE_BYTES)
    with pytest.raises(UsageError):
        BedrockGuardrail(bedrock(), GUARD, source="BOTH")
