"""Which GT/A2I payload a decoded JSON value is, told by its keys (``gtflow payload check``
uses it; :mod:`gtflow.payload_check` then parses the value with the wire type of its kind).

    >>> detect_kind({"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd",
    ...              "humanAnswers": [], "humanLoopName": "l", "inputContent": {}})
    'a2i-output'
    >>> detect_kind([{"datasetObjectId": "0", "consolidatedAnnotation": {"content": {}}}])
    'consolidation-response'
    >>> crowd_widgets({"box": {"boundingBoxes": [], "inputImageProperties": {}}, "note": "x"})
    {'box': 'crowd-bounding-box'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.wire.crowd import unwrap_docs_sample

__all__ = ["KINDS", "detect_kind", "element_of", "crowd_widgets"]

#: Every kind ``gtflow payload check`` knows, with a one-line description.
KINDS: dict[str, str] = {
    "manifest": "input or output manifest (JSON Lines; one report per line)",
    "pre-annotation-event": "event GT sends the pre-annotation Lambda",
    "pre-annotation-response": "what the pre-annotation Lambda returns",
    "post-annotation-event": "event GT sends the post-annotation (consolidation) Lambda",
    "consolidation-request": "the file at payload.s3Uri (every worker's answer per object)",
    "consolidation-response": "what the post-annotation Lambda returns",
    "worker-response": "annotations/worker-response/.../<ts>.json",
    "a2i-output": "A2I output.json",
    "a2i-status-change-event": "EventBridge 'SageMaker A2I HumanLoop Status Change' event",
    "start-human-loop-response": "StartHumanLoop response",
    "describe-human-loop-response": "DescribeHumanLoop response",
    "activation-conditions": "HumanLoopActivationConditions",
    "flow-definition": "CreateFlowDefinition request",
    "crowd-output": "a crowd HTML form's submission {name: element output}",
    "endpoint-response": "built-in Object Detection endpoint response",
    "sequence-label": "SeqLabel.json of a video or 3D point cloud sequence job",
}

def _is_list_of(value: Any, *keys: str) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, Mapping) and all(k in x for k in keys) for x in value)
    )


def detect_kind(value: Any) -> str:
    """The kind of one decoded JSON value (a whole file, or one manifest line); ``unknown``
    when it is no payload this module knows.

    >>> detect_kind({"version": "2018-10-06", "labelingJobArn": "arn:...", "dataObject": {}})
    'pre-annotation-event'
    """
    if isinstance(value, list):
        if _is_list_of(value, "datasetObjectId", "consolidatedAnnotation"):
            return "consolidation-response"
        if _is_list_of(value, "datasetObjectId", "annotations"):
            return "consolidation-request"
        inner = unwrap_docs_sample(value)
        if inner is not value and crowd_widgets(inner):
            return "crowd-output"
        return "unknown"
    if not isinstance(value, Mapping):
        return "unknown"
    if "labelingJobArn" in value:
        return "post-annotation-event" if "payload" in value else "pre-annotation-event"
    if "taskInput" in value:
        return "pre-annotation-response"
    if "flowDefinitionArn" in value and "humanAnswers" in value:
        return "a2i-output"
    if value.get("detail-type") == "SageMaker A2I HumanLoop Status Change":
        return "a2i-status-change-event"
    if "FlowDefinitionName" in value and "HumanLoopConfig" in value:
        return "flow-definition"
    if "HumanLoopStatus" in value:
        return "describe-human-loop-response"
    if set(value) == {"HumanLoopArn"}:
        return "start-human-loop-response"
    if "Conditions" in value:
        return "activation-conditions"
    if "source-ref" in value or "source" in value:
        return "manifest"
    if _is_list_of(value.get("answers"), "answerContent"):
        return "worker-response"
    if "prediction" in value or ("image_size" in value and "annotations" in value):
        return "endpoint-response"
    if "tracking-annotations" in value or "detection-annotations" in value:
        return "sequence-label"
    if crowd_widgets(value):
        return "crowd-output"
    return "unknown"


def element_of(value: Any) -> str | None:
    """The crowd element whose documented output ``value`` has, by its keys."""
    if not isinstance(value, Mapping):
        return None
    for key, tag in (
        ("boundingBoxes", "crowd-bounding-box"),
        ("keypoints", "crowd-keypoint"),
        ("polygons", "crowd-polygon"),
        ("polylines", "crowd-polyline"),
        ("lines", "crowd-line"),
        ("entities", "crowd-entity-annotation"),
        ("instances", "crowd-instance-segmentation"),
        ("labelMappings", "crowd-semantic-segmentation"),
        ("labels", "crowd-classifier-multi-select"),
        ("label", "crowd-classifier"),
    ):
        if key in value:
            return tag
    if value and all(isinstance(v, bool) for v in value.values()):
        return "crowd-checkbox"
    return None


def crowd_widgets(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        return {}
    found = {name: element_of(v) for name, v in value.items()}
    return {k: v for k, v in found.items() if v is not None}


