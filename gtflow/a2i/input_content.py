"""``HumanLoopInput.InputContent`` for the bundled ``object-detection-review`` template.

The contract (CONTRACTS_LOCAL, "Object detection review")::

    {"taskObject": "s3://bucket/img.jpg", "labels": ["circle", "square"],
     "initialValue": [{"label": "circle", "left": 10, "top": 20, "width": 30, "height": 40}],
     "scores": [0.42], "header": "optional text"}

``initialValue`` is in integer pixels (origin top-left), so the image size is needed; the
model's corners are normalised. InputContent is serialised canonically (sorted keys, compact),
so the same prediction always gives the same string, hence the same loop name.

    >>> from gtflow.routing import Prediction
    >>> p = Prediction.from_response("s3://b/1.jpg", {"prediction": [[1, 0.42, 0.1, 0.2, 0.5, 0.6]]})
    >>> review_input(p, {0: "circle", 1: "square"}, (200, 100))["initialValue"]
    [{'label': 'square', 'left': 20, 'top': 20, 'width': 80, 'height': 40}]
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from gtflow.a2i.names import MAX_INPUT_CONTENT_CHARS
from gtflow.errors import ContractError, MissingExtraError, UsageError
from gtflow.routing import Prediction

__all__ = ["review_input", "encode_input_content", "image_size"]


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


def review_input(
    prediction: Prediction,
    class_map: Mapping[int, str],
    image_size: tuple[int, int],
    *,
    min_score: float = 0.0,
    max_boxes: int | None = None,
    header: str | None = None,
) -> dict[str, Any]:
    """The task input a reviewer sees: the image, all labels, the model's boxes in pixels.

    ``image_size`` is ``(width, height)``. Boxes below ``min_score`` are left out, and at most
    ``max_boxes`` of the best are kept. A detection whose class is not in ``class_map`` is an
    error (the widget refuses an initial value whose label is not in ``labels``).
    """
    width, height = image_size
    if width <= 0 or height <= 0:
        raise UsageError(f"image size must be positive, not {width}x{height}", field="image_size")
    labels = [class_map[k] for k in sorted(class_map)]
    boxes: list[dict[str, Any]] = []
    scores: list[float] = []
    kept = prediction.kept(min_score)
    if max_boxes is not None:
        kept = kept[:max_boxes]
    for i, d in enumerate(kept):
        if d.class_id not in class_map:
            raise ContractError(
                f"class id {d.class_id} is not in the class map", path=prediction.source_ref,
                field=f"prediction[{i}][0]",
            )
        x0, y0 = round(_clamp(d.xmin) * width), round(_clamp(d.ymin) * height)
        x1, y1 = round(_clamp(d.xmax) * width), round(_clamp(d.ymax) * height)
        boxes.append(
            {"label": class_map[d.class_id], "left": x0, "top": y0, "width": max(0, x1 - x0), "height": max(0, y1 - y0)}
        )
        scores.append(round(d.score, 6))
    out: dict[str, Any] = {
        "taskObject": prediction.source_ref,
        "labels": labels,
        "initialValue": boxes,
        "scores": scores,
    }
    if header is not None:
        out["header"] = header
    return out


def encode_input_content(obj: Mapping[str, Any]) -> str:
    """The InputContent string: canonical JSON, checked against the 3 MiB limit.

    >>> encode_input_content({"b": 1, "a": "x"})
    '{"a":"x","b":1}'
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_INPUT_CONTENT_CHARS:
        raise ContractError(
            f"InputContent is {len(text):,} characters; A2I accepts at most {MAX_INPUT_CONTENT_CHARS:,}",
            field="HumanLoopInput.InputContent",
        )
    return text


def image_size(store: Any, uri: str) -> tuple[int, int]:
    """``(width, height)`` of an image in the store."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingExtraError.for_module("pillow", "local") from exc
    data = store.get_bytes(uri)  # S3 bodies cannot seek, which PIL needs
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception as exc:
        raise ContractError(f"cannot read image size: {type(exc).__name__}", path=uri) from exc
    return int(w), int(h)
