"""Post-annotation: fuse several workers' boxes into a ``groundtruth/object-detection`` label.

Options: ``widget`` (the crowd-bounding-box name; found automatically by default), ``labels``
(class order when the event has no ``labelCategories``), ``iou_threshold`` (0.5),
``min_votes`` (half the workers, rounded up), ``workers_per_object`` (fewer usable answers fail
the object; default the event's ``maxHumanWorkersPerDataObject``, else 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.boxes import consolidate_boxes
from gtflow.handlers.post._common import load
from gtflow.handlers.runtime import check_options

__all__ = ["handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ("widget", "labels", "iou_threshold", "min_votes", "workers_per_object", "engine")


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> list[dict[str, Any]]:
    opts = check_options(options, OPTIONS, "post/bounding-boxes")
    _, objects, ctx = load(event, store, opts)
    opts.pop("workers_per_object", None)
    return consolidate_boxes(objects, ctx, **opts)
