"""Typed values for every documented GT/A2I payload (see ``docs/wire.md``).

Each value is a frozen dataclass with ``from_dict(d)`` / ``to_dict()`` and keys spelled as AWS
spells them. What AWS sends is read tolerantly (unknown keys are kept in ``extra`` and written
back, in their place); what gtflow writes is checked strictly (``ContractError`` names the
field path, e.g. ``annotations[2].annotationData.content``).

    >>> from gtflow.wire import HumanLoopOutput
    >>> HumanLoopOutput.from_dict({"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd",
    ...     "humanAnswers": [], "humanLoopName": "l", "inputContent": {}}).flow_definition_name
    'fd'

Modules: :mod:`gtflow.wire.a2i` (output.json, EventBridge event, Start/DescribeHumanLoop,
activation conditions), :mod:`gtflow.wire.gt_lambda` (pre/post-annotation events and responses,
consolidation request/response files, worker-response files), :mod:`gtflow.wire.crowd` (outputs
of the crowd HTML elements and a submission checker), :mod:`gtflow.wire.od` (Object Detection
endpoint responses),
:mod:`gtflow.wire.output` (output-manifest labels and ``-metadata``), :mod:`gtflow.wire.worker`
(one worker's answer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Loaded on first use (PEP 562): a Lambda handler that needs the consolidation types does not
# pay for the A2I, crowd-element or endpoint modules.
_MODULE_OF: dict[str, str] = {
    "ActivationConditions": "a2i",
    "DescribeHumanLoopResponse": "a2i",
    "HumanLoopOutput": "a2i",
    "HumanLoopOutputRef": "a2i",
    "HumanLoopStatus": "a2i",
    "HumanLoopStatusChangeDetail": "a2i",
    "HumanLoopStatusChangeEvent": "a2i",
    "StartHumanLoopRequest": "a2i",
    "StartHumanLoopResponse": "a2i",
    "output_json_uri": "a2i",
    "validate_human_loop_name": "a2i",
    "BoundingBox": "crowd",
    "BoundingBoxOutput": "crowd",
    "CheckedValues": "crowd",
    "ClassifierOutput": "crowd",
    "Entity": "crowd",
    "EntityAnnotationOutput": "crowd",
    "InputImageProperties": "crowd",
    "InstanceSegmentationOutput": "crowd",
    "KeypointOutput": "crowd",
    "LineOutput": "crowd",
    "MultiSelectOutput": "crowd",
    "PolygonOutput": "crowd",
    "PolylineOutput": "crowd",
    "SemanticSegmentationOutput": "crowd",
    "form_to_dict": "crowd",
    "parse_form_output": "crowd",
    "unwrap_docs_sample": "crowd",
    "validate_element_output": "crowd",
    "AnnotationData": "gt_lambda",
    "ConsolidatedAnnotation": "gt_lambda",
    "ConsolidationRequest": "gt_lambda",
    "ConsolidationRequestItem": "gt_lambda",
    "ConsolidationResponse": "gt_lambda",
    "ConsolidationResponseItem": "gt_lambda",
    "DataObject": "gt_lambda",
    "PayloadRef": "gt_lambda",
    "PostAnnotationEvent": "gt_lambda",
    "PreAnnotationEvent": "gt_pre",
    "PreAnnotationResponse": "gt_pre",
    "WorkerAnnotation": "gt_lambda",
    "WorkerAnswer": "gt_lambda",
    "WorkerResponse": "gt_lambda",
    "job_name_from_arn": "gt_pre",
    "AnnotatedDetection": "od",
    "AnnotatedDetectionResponse": "od",
    "DetectionResponse": "od",
    "Prediction": "od",
    "parse_endpoint_response": "od",
    "BoundingBoxAnnotation": "output",
    "FailureMetadata": "output",
    "ImageClassificationMetadata": "output",
    "ImageSize": "output",
    "LabelMetadata": "output",
    "LabelVerificationMetadata": "output",
    "Metadata": "output",
    "MultiLabelClassificationMetadata": "output",
    "ObjectConfidence": "output",
    "ObjectDetectionLabel": "output",
    "ObjectDetectionMetadata": "output",
    "OutputLabel": "output",
    "WorkerFeedback": "output",
    "a2i_job_ref": "output",
    "custom_label": "output",
    "failure_metadata": "output",
    "format_creation_date": "output",
    "image_classification_label": "output",
    "label_attributes": "output",
    "label_verification_label": "output",
    "labeling_job_ref": "output",
    "metadata_key": "output",
    "multilabel_classification_label": "output",
    "object_detection_label": "output",
    "parse_creation_date": "output",
    "parse_metadata": "output",
    "HumanAnswer": "worker",
    "IdentityData": "worker",
    "WorkerMetadata": "worker",
}

if TYPE_CHECKING:
    from gtflow.wire.a2i import (
        ActivationConditions,
        DescribeHumanLoopResponse,
        HumanLoopOutput,
        HumanLoopOutputRef,
        HumanLoopStatus,
        HumanLoopStatusChangeDetail,
        HumanLoopStatusChangeEvent,
        StartHumanLoopRequest,
        StartHumanLoopResponse,
        output_json_uri,
        validate_human_loop_name,
    )
    from gtflow.wire.crowd import (
        BoundingBox,
        BoundingBoxOutput,
        CheckedValues,
        ClassifierOutput,
        Entity,
        EntityAnnotationOutput,
        InputImageProperties,
        InstanceSegmentationOutput,
        KeypointOutput,
        LineOutput,
        MultiSelectOutput,
        PolygonOutput,
        PolylineOutput,
        SemanticSegmentationOutput,
        form_to_dict,
        parse_form_output,
        unwrap_docs_sample,
        validate_element_output,
    )
    from gtflow.wire.gt_lambda import (
        AnnotationData,
        ConsolidatedAnnotation,
        ConsolidationRequest,
        ConsolidationRequestItem,
        ConsolidationResponse,
        ConsolidationResponseItem,
        DataObject,
        PayloadRef,
        PostAnnotationEvent,
        PreAnnotationEvent,
        PreAnnotationResponse,
        WorkerAnnotation,
        WorkerAnswer,
        WorkerResponse,
        job_name_from_arn,
    )
    from gtflow.wire.od import (
        AnnotatedDetection,
        AnnotatedDetectionResponse,
        DetectionResponse,
        Prediction,
        parse_endpoint_response,
    )
    from gtflow.wire.output import (
        BoundingBoxAnnotation,
        FailureMetadata,
        ImageClassificationMetadata,
        ImageSize,
        LabelMetadata,
        LabelVerificationMetadata,
        Metadata,
        MultiLabelClassificationMetadata,
        ObjectConfidence,
        ObjectDetectionLabel,
        ObjectDetectionMetadata,
        OutputLabel,
        WorkerFeedback,
        a2i_job_ref,
        custom_label,
        failure_metadata,
        format_creation_date,
        image_classification_label,
        label_attributes,
        label_verification_label,
        labeling_job_ref,
        metadata_key,
        multilabel_classification_label,
        object_detection_label,
        parse_creation_date,
        parse_metadata,
    )
    from gtflow.wire.worker import HumanAnswer, IdentityData, WorkerMetadata


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'gtflow.wire' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"gtflow.wire.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    # worker answers (A2I humanAnswers[], GT worker-response answers[])
    "HumanAnswer",
    "WorkerMetadata",
    "IdentityData",
    # A2I
    "HumanLoopOutput",
    "HumanLoopStatus",
    "HumanLoopOutputRef",
    "HumanLoopStatusChangeDetail",
    "HumanLoopStatusChangeEvent",
    "StartHumanLoopRequest",
    "StartHumanLoopResponse",
    "DescribeHumanLoopResponse",
    "validate_human_loop_name",
    "output_json_uri",
    "ActivationConditions",
    # GT Lambdas
    "PreAnnotationEvent",
    "PreAnnotationResponse",
    "PayloadRef",
    "PostAnnotationEvent",
    "DataObject",
    "AnnotationData",
    "WorkerAnnotation",
    "ConsolidationRequestItem",
    "ConsolidationRequest",
    "ConsolidatedAnnotation",
    "ConsolidationResponseItem",
    "ConsolidationResponse",
    "WorkerAnswer",
    "WorkerResponse",
    "job_name_from_arn",
    # crowd element outputs
    "InputImageProperties",
    "BoundingBox",
    "BoundingBoxOutput",
    "KeypointOutput",
    "PolygonOutput",
    "LineOutput",
    "PolylineOutput",
    "CheckedValues",
    "ClassifierOutput",
    "MultiSelectOutput",
    "Entity",
    "EntityAnnotationOutput",
    "SemanticSegmentationOutput",
    "InstanceSegmentationOutput",
    "validate_element_output",
    "parse_form_output",
    "form_to_dict",
    "unwrap_docs_sample",
    # Object Detection endpoint responses
    "Prediction",
    "DetectionResponse",
    "AnnotatedDetection",
    "AnnotatedDetectionResponse",
    "parse_endpoint_response",
    # output manifest
    "BoundingBoxAnnotation",
    "ImageSize",
    "ObjectDetectionLabel",
    "ObjectConfidence",
    "ObjectDetectionMetadata",
    "ImageClassificationMetadata",
    "MultiLabelClassificationMetadata",
    "WorkerFeedback",
    "LabelVerificationMetadata",
    "LabelMetadata",
    "FailureMetadata",
    "Metadata",
    "OutputLabel",
    "parse_metadata",
    "label_attributes",
    "metadata_key",
    "format_creation_date",
    "parse_creation_date",
    "labeling_job_ref",
    "a2i_job_ref",
    "object_detection_label",
    "image_classification_label",
    "multilabel_classification_label",
    "label_verification_label",
    "custom_label",
    "failure_metadata",
]
