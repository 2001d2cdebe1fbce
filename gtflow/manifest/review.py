"""Reviewed lines checked before they are written: boxes clipped or dropped, and the lint passed.

Human reviewers draw boxes with a tool that lets a box leave the image or collapse to nothing.
:func:`check_reviewed_line` clips a box partly outside the image to it (counted ``clipped``),
drops a box of zero or negative size or wholly outside it (counted ``degenerate``), refuses a
line whose boxes are *all* degenerate (it would silently become an image with "no objects"),
and runs the object-detection lint on the result, so a line it returns is never one the lint
rejects. Used by ``gtflow retrain`` (:mod:`gtflow.pipeline.intake`), ``manifest from-a2i`` and
``loops collect --manifest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.errors import ContractError
from gtflow.manifest.object_detection import ObjectDetectionLint

__all__ = ["check_reviewed_line"]


def check_reviewed_line(line: Mapping[str, Any], label_attribute: str, num_classes: int | None) -> tuple[dict[str, Any], int, int]:
    """The line with reviewer boxes clipped to the image, and (clipped, degenerate) counts.

    Raises :class:`~gtflow.errors.ContractError` when every box is degenerate or the line still
    breaks the object-detection lint (so nothing the lint rejects is written).

    >>> ok, clipped, bad = check_reviewed_line({"source-ref": "s3://b/1.jpg", "bb": {"image_size": [
    ...     {"width": 10, "height": 10, "depth": 3}], "annotations": [
    ...     {"class_id": 0, "left": -2, "top": 0, "width": 5, "height": 5},
    ...     {"class_id": 0, "left": 3, "top": 3, "width": 0, "height": 4}]},
    ...     "bb-metadata": {"class-map": {"0": "a"}, "objects": [{"confidence": 1}, {"confidence": 1}]}}, "bb", 1)
    >>> ok["bb"]["annotations"], clipped, bad
    ([{'class_id': 0, 'left': 0, 'top': 0, 'width': 3, 'height': 5}], 1, 1)
    """
    out = dict(line)
    label = out.get(label_attribute)
    clipped = degenerate = 0
    if isinstance(label, Mapping) and isinstance(label.get("annotations"), list) and isinstance(
            label.get("image_size"), list) and label["image_size"] and isinstance(label["image_size"][0], Mapping):
        size = label["image_size"][0]
        width, height = size.get("width"), size.get("height")
        anns = label["annotations"]
        if type(width) is int and type(height) is int and all(
                isinstance(a, Mapping) and all(type(a.get(k)) is int for k in ("left", "top", "width", "height"))
                for a in anns):
            keep, new_anns = [], []
            for j, a in enumerate(anns):
                x1, y1 = max(0, a["left"]), max(0, a["top"])
                x2, y2 = min(width, a["left"] + a["width"]), min(height, a["top"] + a["height"])
                if a["width"] <= 0 or a["height"] <= 0 or x2 <= x1 or y2 <= y1:
                    degenerate += 1
                    continue
                if (x1, y1, x2 - x1, y2 - y1) != (a["left"], a["top"], a["width"], a["height"]):
                    clipped += 1
                keep.append(j)
                new_anns.append({**a, "left": x1, "top": y1, "width": x2 - x1, "height": y2 - y1})
            if anns and not new_anns:
                raise ContractError(
                    f"all {len(anns)} reviewer boxes are degenerate (zero or negative size, or outside the "
                    f"{width}x{height} image); not used as an image with no objects",
                    field=f"{label_attribute}.annotations")
            if degenerate or clipped:
                out[label_attribute] = {**label, "annotations": new_anns}
                meta_key = f"{label_attribute}-metadata"
                meta = out.get(meta_key)
                if isinstance(meta, Mapping) and isinstance(meta.get("objects"), list) and len(meta["objects"]) == len(anns):
                    out[meta_key] = {**meta, "objects": [meta["objects"][j] for j in keep]}
    problems: list[str] = []

    def add(n: int | None, fld: str, message: str, severity: str) -> None:
        if severity == "error":
            problems.append(f"{fld}: {message}" if fld else message)

    lint = ObjectDetectionLint(add, label_attribute=label_attribute, num_classes=num_classes, empty_policy="warn")
    lint.check(out, 1)
    if problems:
        raise ContractError(f"the object-detection lint rejects the line: {problems[0]}")
    return out, clipped, degenerate
