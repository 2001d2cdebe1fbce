"""Pre-annotation for reviewing (adjusting) earlier boxes: ``taskObject``, ``labels``, ``initialValue``.

The prior boxes come from a GT object-detection label on the manifest line (``prior_attribute``,
or the single attribute whose ``-metadata`` has ``type: groundtruth/object-detection``). Their
``class-map`` names the classes; the metadata's ``objects[].confidence`` become ``scores``.
``labels`` (option) fixes the label list; otherwise the prior class-map's names are used.

    >>> line = {"source-ref": "s3://b/1.jpg",
    ...   "od": {"annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}],
    ...          "image_size": [{"width": 9, "height": 9, "depth": 3}]},
    ...   "od-metadata": {"class-map": {"0": "cat"}, "objects": [{"confidence": 0.4}],
    ...                   "type": "groundtruth/object-detection"}}
    >>> ev = PreAnnotationEvent("arn:aws:sagemaker:us-east-1:1:labeling-job/j", line)
    >>> prepare(ev).task_input["initialValue"]
    [{'label': 'cat', 'left': 1, 'top': 2, 'width': 3, 'height': 4}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.errors import ContractError
from gtflow.handlers.runtime import check_options
from gtflow.wire.gt_lambda import PreAnnotationEvent, PreAnnotationResponse

__all__ = ["prepare", "handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ("labels", "prior_attribute", "header")
_OD = "groundtruth/object-detection"


def _prior_attribute(line: Mapping[str, Any]) -> str | None:
    found = sorted(
        k[: -len("-metadata")] for k, v in line.items()
        if k.endswith("-metadata") and isinstance(v, Mapping) and v.get("type") == _OD
        and k[: -len("-metadata")] in line
    )
    if len(found) > 1:
        raise ContractError(f"several object-detection labels on the line ({', '.join(found)}): set prior_attribute")
    return found[0] if found else None


def prepare(
    event: PreAnnotationEvent,
    *,
    labels: Sequence[str] | None = None,
    prior_attribute: str | None = None,
    header: str | None = None,
) -> PreAnnotationResponse:
    line = event.data_object
    src = line.get("source-ref")
    if not isinstance(src, str):
        raise ContractError("the manifest line has no source-ref", field="dataObject.source-ref")
    attr = prior_attribute or _prior_attribute(line)
    initial: list[dict[str, Any]] = []
    scores: list[float] | None = None
    class_map: dict[str, str] = {}
    if attr is not None:
        value, meta = line.get(attr), line.get(f"{attr}-metadata")
        if not isinstance(value, Mapping) or not isinstance(meta, Mapping):
            raise ContractError("prior label or its metadata is missing", field=f"dataObject.{attr}")
        cm = meta.get("class-map") or {}
        class_map = {str(k): str(v) for k, v in cm.items()} if isinstance(cm, Mapping) else {}
        anns = value.get("annotations") or []
        objs = meta.get("objects")
        for i, a in enumerate(anns):
            if not isinstance(a, Mapping) or str(a.get("class_id")) not in class_map:
                raise ContractError("annotation class_id not in class-map", field=f"dataObject.{attr}.annotations[{i}]")
            initial.append({"label": class_map[str(a["class_id"])], "left": a.get("left"), "top": a.get("top"),
                            "width": a.get("width"), "height": a.get("height")})
        if isinstance(objs, list) and len(objs) == len(anns) and all(
            isinstance(o, Mapping) and isinstance(o.get("confidence"), (int, float)) for o in objs
        ):
            scores = [o["confidence"] for o in objs]
    if labels is None:
        labels = [class_map[k] for k in sorted(class_map, key=lambda s: (len(s), s))]
    if not labels:
        raise ContractError("no labels: set the 'labels' option or give a prior label with a class-map")
    task_input: dict[str, Any] = {"taskObject": src, "labels": list(labels), "initialValue": initial}
    if scores is not None:
        task_input["scores"] = scores
    if header is not None:
        task_input["header"] = header
    return PreAnnotationResponse(task_input, True)


def handle(event: Mapping[str, Any], *, store: Any = None, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> dict[str, Any]:
    opts = check_options(options, OPTIONS, "pre/object-detection-review")
    return prepare(PreAnnotationEvent.from_dict(event), **opts).to_dict()
