"""Pre-annotation for reviewing (adjusting) earlier boxes: ``taskObject``, ``labels``, ``initialValue``.

The prior boxes come from a GT object-detection label on the manifest line (``prior_attribute``,
or the single attribute whose ``-metadata`` has ``type: groundtruth/object-detection``), read
through :class:`gtflow.wire.OutputLabel`. Their ``class-map`` names the classes; the
metadata's ``objects[].confidence`` become ``scores``.

``labels`` is the job's full label list, the same for every image: the ``labels`` option, or
the label-category file the job was created with (``label_categories_uri``, GT's
``{"labels": [{"label": ...}]}``, read through the store). A prior ``class-map`` is never used
as the list: GT lists there only the classes present in that image. An image without a prior
label, or with no boxes, gets an empty ``initialValue``.

    >>> line = {"source-ref": "s3://b/1.jpg",
    ...   "od": {"annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}],
    ...          "image_size": [{"width": 9, "height": 9, "depth": 3}]},
    ...   "od-metadata": {"class-map": {"0": "cat"}, "objects": [{"confidence": 0.4}],
    ...                   "type": "groundtruth/object-detection"}}
    >>> ev = PreAnnotationEvent("arn:aws:sagemaker:us-east-1:1:labeling-job/j", line)
    >>> prepare(ev, labels=["cat", "dog"]).task_input["initialValue"]
    [{'label': 'cat', 'left': 1, 'top': 2, 'width': 3, 'height': 4}]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.errors import ContractError, UsageError
from gtflow.handlers.runtime import check_options
from gtflow.wire.gt_pre import PreAnnotationEvent, PreAnnotationResponse
from gtflow.wire.output import (
    OD_TYPE,
    ObjectDetectionLabel,
    ObjectDetectionMetadata,
    OutputLabel,
    label_attributes,
)

__all__ = ["prepare", "handle", "OPTIONS", "read_label_categories"]

OPTIONS: tuple[str, ...] = ("labels", "label_categories_uri", "prior_attribute", "header")


def _prior_attribute(line: Mapping[str, Any]) -> str | None:
    found = sorted(
        attr for attr in label_attributes(line)
        if attr in line and isinstance(line.get(f"{attr}-metadata"), Mapping)
        and line[f"{attr}-metadata"].get("type") == OD_TYPE
    )
    if len(found) > 1:
        raise ContractError(f"several object-detection labels on the line ({', '.join(found)}): set prior_attribute")
    return found[0] if found else None


def read_label_categories(text: str, uri: str = "") -> list[str]:
    """The labels of a GT label-category file (``{"labels": [{"label": "cat"}, ...]}``)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ContractError(f"not JSON: {exc}", path=uri or None) from exc
    labels = doc.get("labels") if isinstance(doc, Mapping) else None
    if not isinstance(labels, list) or not all(isinstance(x, Mapping) and isinstance(x.get("label"), str)
                                               for x in labels):
        raise ContractError("expected {\"labels\": [{\"label\": ...}, ...]}", path=uri or None, field="labels")
    return [x["label"] for x in labels]


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
    if not labels:
        raise UsageError(
            "the job's label list is needed: set the 'labels' or 'label_categories_uri' option "
            "(a prior class-map lists only the classes present in that image)",
            field="labels",
        )
    attr = prior_attribute or _prior_attribute(line)
    initial: list[dict[str, Any]] = []
    scores: list[float] | None = None
    if attr is not None:
        prior = OutputLabel.from_line(line, attr, "dataObject")
        value, meta = prior.value, prior.metadata
        if not isinstance(value, ObjectDetectionLabel) or not isinstance(meta, ObjectDetectionMetadata):
            raise ContractError("not an object-detection label", field=f"dataObject.{attr}-metadata.type")
        for i, a in enumerate(value.annotations):
            name = meta.class_map.get(str(a.class_id))
            if name is None:
                raise ContractError("annotation class_id not in class-map",
                                    field=f"dataObject.{attr}.annotations[{i}].class_id")
            initial.append({"label": name, "left": a.left, "top": a.top, "width": a.width, "height": a.height})
        if meta.objects is not None and len(meta.objects) == len(value.annotations):
            scores = [o.confidence for o in meta.objects]
    task_input: dict[str, Any] = {"taskObject": src, "labels": list(labels), "initialValue": initial}
    if scores is not None:
        task_input["scores"] = scores
    if header is not None:
        task_input["header"] = header
    return PreAnnotationResponse(task_input, True)


def handle(event: Mapping[str, Any], *, store: Any = None, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> dict[str, Any]:
    opts = dict(check_options(options, OPTIONS, "pre/object-detection-review"))
    uri = opts.pop("label_categories_uri", None)
    if uri is not None and opts.get("labels") is None:
        if store is None:
            raise UsageError("label_categories_uri needs a store to read it", field="label_categories_uri")
        opts["labels"] = read_label_categories(store.get_text(uri), uri)
    return prepare(PreAnnotationEvent.from_dict(event), **opts).to_dict()
