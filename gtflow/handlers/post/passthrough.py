"""Post-annotation pass-through: every worker's raw annotation under the label attribute.

The label is ``{"annotationsFromAllWorkers": [<the request's annotations, as sent>]}``, the
form of the aws-samples recipe. Each ``datasetObjectId`` appears once (duplicates merged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.request import response_item
from gtflow.handlers.runtime import check_options, read_json
from gtflow.wire.gt_lambda import ConsolidationRequest, PostAnnotationEvent

__all__ = ["consolidate", "handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ()


def consolidate(request: Any, label_attribute_name: str) -> list[dict[str, Any]]:
    """Read through :class:`gtflow.wire.ConsolidationRequest` (ContractError naming the
    field); each annotation is written back as it was sent (unknown keys and key order kept)."""
    merged: dict[str, list[Any]] = {}
    for item in ConsolidationRequest.from_list(request).items:
        anns = merged.setdefault(item.dataset_object_id, [])
        for ann in item.annotations:
            a = ann.to_dict()
            if a not in anns:
                anns.append(a)
    return [response_item(oid, {label_attribute_name: {"annotationsFromAllWorkers": anns}})
            for oid, anns in merged.items()]


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> list[dict[str, Any]]:
    check_options(options, OPTIONS, "post/passthrough")
    ev = PostAnnotationEvent.from_dict(event)
    return consolidate(read_json(store, ev.payload_s3_uri), ev.label_attribute_name)
