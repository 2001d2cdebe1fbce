"""A simulated reviewer that answers bounding-box reviews from the synthetic truth.

It signs in to the portal like a person and answers through the same HTTP submission path
(:class:`gtflow.portal.client.PortalClient`), producing exactly what the ``crowd-bounding-box``
element submits. It makes configurable mistakes, deterministic per image: a missed box, a
circle/ellipse swap, and a few pixels of jitter on every box.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SimulatedReviewer", "truth_by_image"]

_CONFUSED = {"circle": "ellipse", "ellipse": "circle"}


def truth_by_image(records: Sequence[Mapping[str, Any]], label_attribute: str) -> dict[str, dict[str, Any]]:
    """``{source-ref: {"boxes": [{label,left,top,width,height}], "width", "height"}}`` from a manifest."""
    from gtflow.wire.output import ObjectDetectionLabel, ObjectDetectionMetadata, metadata_key

    out = {}
    meta_key = metadata_key(label_attribute)
    for rec in records:
        label = ObjectDetectionLabel.from_dict(rec[label_attribute], label_attribute)
        cmap = ObjectDetectionMetadata.from_dict(rec[meta_key], meta_key).class_map
        size = label.image_size[0]
        boxes = [{"label": cmap[str(a.class_id)], "left": a.left, "top": a.top,
                  "width": a.width, "height": a.height} for a in label.annotations]
        out[rec["source-ref"]] = {"boxes": boxes, "width": size.width, "height": size.height}
    return out


@dataclass
class SimulatedReviewer:
    truth: Mapping[str, Mapping[str, Any]]
    miss_rate: float = 0.03  # chance of leaving out one true box
    swap_rate: float = 0.03  # chance of calling a circle an ellipse (and back)
    jitter: int = 2  # pixels
    seed: int = 0
    mistakes: int = 0

    def _rng(self, image: str) -> random.Random:
        return random.Random(int(hashlib.sha256(f"{self.seed}:{image}".encode()).hexdigest()[:12], 16))

    def answer(self, task_input: Mapping[str, Any]) -> dict[str, Any]:
        """The ``crowd-bounding-box`` output for one review task."""
        image = task_input["taskObject"]
        t = self.truth[image]
        rng = self._rng(image)
        boxes = []
        for b in t["boxes"]:
            if rng.random() < self.miss_rate:
                self.mistakes += 1
                continue
            label = b["label"]
            if label in _CONFUSED and rng.random() < self.swap_rate:
                label = _CONFUSED[label]
                self.mistakes += 1
            j = self.jitter
            left = min(max(0, b["left"] + rng.randint(-j, j)), t["width"] - 1)
            top = min(max(0, b["top"] + rng.randint(-j, j)), t["height"] - 1)
            width = max(1, min(b["width"] + rng.randint(-j, j), t["width"] - left))
            height = max(1, min(b["height"] + rng.randint(-j, j), t["height"] - top))
            boxes.append({"height": height, "label": label, "left": left, "top": top, "width": width})
        initial = [{k: b[k] for k in ("label", "left", "top", "width", "height")} for b in task_input.get("initialValue", [])]
        mine = [{k: b[k] for k in ("label", "left", "top", "width", "height")} for b in boxes]
        from gtflow.wire.crowd import BoundingBox, BoundingBoxOutput, InputImageProperties

        return {"annotatedResult": BoundingBoxOutput(
            bounding_boxes=tuple(BoundingBox(**b) for b in boxes),
            input_image_properties=InputImageProperties(height=t["height"], width=t["width"]),
            initial_value_modified=sorted(map(str, mine)) != sorted(map(str, initial)),
        ).to_dict()}

    def review_all(self, client: Any, queue: Any, queue_name: str) -> int:
        """Answer every task the portal gives this worker; returns how many."""
        return int(client.answer_all(queue_name, lambda task: self.answer(queue.task(queue_name, task.task_id).task_input)))
