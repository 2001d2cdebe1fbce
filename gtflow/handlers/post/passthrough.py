"""Post-annotation pass-through: every worker's raw annotation under the label attribute.

The label is ``{"annotationsFromAllWorkers": [<the request's annotations, as sent>]}``, the
form of the aws-samples recipe. Each ``datasetObjectId`` appears once (duplicates merged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.request import response_item
from gtflow.errors import ContractError
from gtflow.handlers.runtime import check_options, read_json
from gtflow.wire.gt_lambda import PostAnnotationEvent

__all__ = ["consolidate", "handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ()


def consolidate(request: Any, label_attribute_name: str) -> list[dict[str, Any]]:
    if not isinstance(request, list):
        raise ContractError("the consolidation request must be a JSON array")
    merged: dict[str, list[Any]] = {}
    for i, item in enumerate(request):
        if not isinstance(item, Mapping) or not isinstance(item.get("datasetObjectId"), str):
            raise ContractError("missing datasetObjectId", field=f"[{i}].datasetObjectId")
        anns = merged.setdefault(item["datasetObjectId"], [])
        for a in item.get("annotations") or []:
            if a not in anns:
                anns.append(a)
    return [response_item(oid, {label_attribute_name: {"annotationsFromAllWorkers": anns}})
            for oid, anns in merged.items()]


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> list[dict[str, Any]]:
    check_options(options, OPTIONS, "post/passthrough")
    ev = PostAnnotationEvent.from_dict(event)
    return consolidate(read_json(store, ev.payload_s3_uri), ev.label_attribute_name)
