"""Pre-annotation for bulk label QA: the batch file named by ``source-ref`` becomes ``taskInput``.

The manifest line is ``{"source-ref": "s3://.../batches/cat-0003.json", "label": "cat",
"batchId": "cat-0003", "itemCount": 25}``; the response's ``taskInput`` is the batch object
``{"label", "batchId", "items": [{"image", "confidence"}, ...]}`` plus ``"source-ref"``.
A batch with no items needs no human (``isHumanAnnotationRequired: false``).

The model's confidence stays out of ``taskInput`` unless the ``show_confidence`` option is true
(``showConfidence`` tells the template whether to show it): a worker who sees the score is
anchored by it, which biases the per-bucket analysis. The post-annotation handler reads the
confidence from the batch file, so the verdicts keep it either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.verification import parse_batch
from gtflow.errors import ConfigError, ContractError
from gtflow.handlers.runtime import check_options, read_json
from gtflow.wire.gt_pre import PreAnnotationEvent, PreAnnotationResponse

__all__ = ["prepare", "handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ("header", "show_confidence")


def prepare(event: PreAnnotationEvent, batch: Any, *, header: str | None = None,
            show_confidence: bool = False) -> PreAnnotationResponse:
    """Pure part: the batch object (already read) → the response."""
    src = event.data_object.get("source-ref")
    try:
        task_input = parse_batch(batch)
    except ValueError as exc:
        raise ContractError(str(exc), path=str(src)) from exc
    task_input["source-ref"] = src
    task_input["showConfidence"] = show_confidence
    if not show_confidence:
        task_input["items"] = [{k: v for k, v in it.items() if k != "confidence"} for it in task_input["items"]]
    if header is not None:
        task_input["header"] = header
    return PreAnnotationResponse(task_input, bool(task_input["items"]))


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> dict[str, Any]:
    opts = check_options(options, OPTIONS, "pre/bulk-qa")
    ev = PreAnnotationEvent.from_dict(event)
    src = ev.data_object.get("source-ref")
    if not isinstance(src, str):
        raise ContractError("the manifest line has no source-ref naming a batch file", field="dataObject.source-ref")
    show = opts.get("show_confidence", False)
    if not isinstance(show, bool):
        raise ConfigError("show_confidence must be true or false", field="show_confidence")
    return prepare(ev, read_json(store, src), header=opts.get("header"), show_confidence=show).to_dict()
