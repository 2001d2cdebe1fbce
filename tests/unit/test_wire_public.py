"""gtflow.wire: the public names are locked, every module's docstring examples run, and the
package stays Lambda-light (no boto3, torch, liquid or web framework on import)."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import gtflow.wire

MODULES = [
    "gtflow.wire",
    "gtflow.wire._base",
    "gtflow.wire.worker",
    "gtflow.wire.a2i",
    "gtflow.wire.output",
    "gtflow.wire.gt_lambda",
    "gtflow.wire.crowd",
    "gtflow.wire.od",
]

EXPECTED = {
    "HumanAnswer", "WorkerMetadata", "IdentityData",
    "HumanLoopOutput", "HumanLoopStatus", "HumanLoopOutputRef", "HumanLoopStatusChangeDetail",
    "HumanLoopStatusChangeEvent", "StartHumanLoopRequest", "StartHumanLoopResponse",
    "DescribeHumanLoopResponse", "validate_human_loop_name", "output_json_uri", "ActivationConditions",
    "PreAnnotationEvent", "PreAnnotationResponse", "PayloadRef", "PostAnnotationEvent", "DataObject",
    "AnnotationData", "WorkerAnnotation", "ConsolidationRequestItem", "ConsolidationRequest",
    "ConsolidatedAnnotation", "ConsolidationResponseItem", "ConsolidationResponse", "WorkerAnswer",
    "WorkerResponse", "job_name_from_arn",
    "InputImageProperties", "BoundingBox", "BoundingBoxOutput", "KeypointOutput", "PolygonOutput",
    "LineOutput", "PolylineOutput", "CheckedValues", "ClassifierOutput", "MultiSelectOutput", "Entity",
    "EntityAnnotationOutput", "SemanticSegmentationOutput", "InstanceSegmentationOutput",
    "validate_element_output", "parse_form_output", "form_to_dict", "unwrap_docs_sample",
    "Prediction", "DetectionResponse", "AnnotatedDetection", "AnnotatedDetectionResponse",
    "parse_endpoint_response",
    "BoundingBoxAnnotation", "ImageSize", "ObjectDetectionLabel", "ObjectConfidence",
    "ObjectDetectionMetadata", "ImageClassificationMetadata", "MultiLabelClassificationMetadata",
    "WorkerFeedback", "LabelVerificationMetadata", "LabelMetadata", "FailureMetadata", "Metadata",
    "OutputLabel", "parse_metadata", "label_attributes", "metadata_key", "format_creation_date",
    "parse_creation_date", "labeling_job_ref", "a2i_job_ref", "object_detection_label",
    "image_classification_label", "multilabel_classification_label", "label_verification_label",
    "custom_label", "failure_metadata",
}  # fmt: skip


def test_all_is_locked() -> None:
    assert set(gtflow.wire.__all__) == EXPECTED
    assert len(gtflow.wire.__all__) == len(EXPECTED)
    for name in gtflow.wire.__all__:
        assert hasattr(gtflow.wire, name), name


@pytest.mark.parametrize("module", MODULES)
def test_module_all_names_exist_and_doctests_pass(module: str) -> None:
    mod = importlib.import_module(module)
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), f"{module}.{name}"
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_values_are_frozen() -> None:
    v = gtflow.wire.ImageSize(width=1, height=2)
    with pytest.raises(AttributeError):
        v.width = 3  # type: ignore[misc]


def test_import_is_lambda_light() -> None:
    code = (
        "import gtflow.wire, sys; "
        "print(sorted(m for m in ('boto3','botocore','torch','liquid','starlette','jinja2','numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docs_examples_run() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "wire.md"
    result = doctest.testfile(str(doc), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0
