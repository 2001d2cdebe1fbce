"""Pre-annotation pass-through: ``taskInput`` is the manifest line itself.

    >>> handle({"version": "2018-10-06", "labelingJobArn": "arn:aws:sagemaker:us-east-1:1:labeling-job/j",
    ...         "dataObject": {"source-ref": "s3://b/k.jpg"}})
    {'taskInput': {'source-ref': 's3://b/k.jpg'}, 'isHumanAnnotationRequired': True}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.handlers.runtime import check_options
from gtflow.wire.gt_pre import PreAnnotationEvent, PreAnnotationResponse

__all__ = ["prepare", "handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ()


def prepare(event: PreAnnotationEvent) -> PreAnnotationResponse:
    """The template reads ``task.input.source-ref`` or ``task.input.source``."""
    return PreAnnotationResponse(dict(event.data_object), True)


def handle(event: Mapping[str, Any], *, store: Any = None, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> dict[str, Any]:
    check_options(options, OPTIONS, "pre/passthrough")
    return prepare(PreAnnotationEvent.from_dict(event)).to_dict()
