"""Responses of a SageMaker built-in Object Detection (SSD) endpoint (CONTRACTS.md 3.7).

Default (``accept: application/json``)::

    {"prediction": [[class_id, score, xmin, ymin, xmax, ymax], ...]}   # corners normalised to [0, 1]

With ``accept: application/json;annotation=1``::

    {"image_size": [{"width", "height", "depth"}],
     "annotations": [{"class_id", "score", "left", "top", "width", "height"}]}   # pixels

    >>> r = DetectionResponse.from_dict({"prediction": [[1.0, 0.9, 0.1, 0.2, 0.5, 0.6]]})
    >>> r.to_initial_value(["circle", "square"], width=200, height=100)
    [{'label': 'square', 'left': 20, 'top': 20, 'width': 80, 'height': 40}]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    expect_list,
    expect_object,
    fail,
    index,
    type_name,
    wire,
)
from gtflow.wire.output import ImageSize

__all__ = [
    "Prediction",
    "DetectionResponse",
    "AnnotatedDetection",
    "AnnotatedDetectionResponse",
    "parse_endpoint_response",
]


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


@dataclass(frozen=True, slots=True)
class Prediction:
    """One ``[class_id, score, xmin, ymin, xmax, ymax]`` row (class id arrives as a float)."""

    class_id: float
    score: float
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @classmethod
    def from_list(cls, row: Any, path: str = "") -> Prediction:
        items = expect_list(row, path)
        if len(items) != 6:
            raise fail(
                path, f"expected [class_id, score, xmin, ymin, xmax, ymax], got {len(items)} values"
            )
        for i, v in enumerate(items):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise fail(index(path, i), f"expected a number, got {type_name(v)}")
            if isinstance(v, float) and not math.isfinite(v):
                raise fail(index(path, i), f"expected a finite number, got {v!r}")
        if float(items[0]) != int(items[0]) or items[0] < 0:
            raise fail(index(path, 0), f"class id {items[0]!r} is not a non-negative integer")
        return cls(*items)

    def to_list(self) -> list[float]:
        return [self.class_id, self.score, self.xmin, self.ymin, self.xmax, self.ymax]

    @property
    def class_index(self) -> int:
        return int(self.class_id)

    def to_pixels(self, width: int, height: int) -> dict[str, int]:
        """``{left, top, width, height}`` in integer pixels, corners clipped to the image."""
        x0, y0 = round(_clip(self.xmin) * width), round(_clip(self.ymin) * height)
        x1, y1 = round(_clip(self.xmax) * width), round(_clip(self.ymax) * height)
        return {"left": x0, "top": y0, "width": max(0, x1 - x0), "height": max(0, y1 - y0)}


@dataclass(frozen=True, slots=True)
class DetectionResponse(WireValue):
    """The default endpoint response: ``{"prediction": [[...], ...]}``."""

    predictions: tuple[Prediction, ...] = wire(
        "prediction",
        parse=lambda v, p: tuple(
            Prediction.from_list(r, index(p, i)) for i, r in enumerate(expect_list(v, p))
        ),
    )
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("prediction",)

    def to_dict(self) -> dict[str, Any]:
        out = {"prediction": [p.to_list() for p in self.predictions]}
        return _ordered(out, self.extra, self.key_order)

    def above(self, threshold: float) -> list[Prediction]:
        """Predictions with ``score >= threshold``, best first."""
        return sorted((p for p in self.predictions if p.score >= threshold), key=lambda p: -p.score)

    @property
    def top_score(self) -> float:
        """The best score (0.0 when nothing was detected)."""
        return max((p.score for p in self.predictions), default=0.0)

    def to_initial_value(
        self, labels: Sequence[str], *, width: int, height: int, threshold: float = 0.0
    ) -> list[dict[str, Any]]:
        """Boxes for a crowd-bounding-box ``initial-value`` (``{label, left, top, width, height}``),
        best first; a class id without a label raises ContractError."""
        out = []
        for p in self.above(threshold):
            if p.class_index >= len(labels):
                raise fail(
                    "prediction", f"class id {p.class_index} has no label (have {len(labels)})"
                )
            out.append({"label": labels[p.class_index], **p.to_pixels(width, height)})
        return out

    def scores(self, threshold: float = 0.0) -> list[float]:
        """Scores aligned with :meth:`to_initial_value` (the ``scores`` key of the OD review input)."""
        return [p.score for p in self.above(threshold)]


def _ordered(
    values: dict[str, Any], extra: Mapping[str, Any], order: Sequence[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in order:
        if k in values:
            out[k] = values.pop(k)
        elif k in extra:
            out[k] = extra[k]
    out.update(values)
    for k, v in extra.items():
        out.setdefault(k, v)
    return out


@dataclass(frozen=True, slots=True)
class AnnotatedDetection(WireValue):
    """One ``annotations[i]`` of the ``annotation=1`` response (pixels, with a score)."""

    class_id: int = wire()
    score: float = wire()
    left: float = wire()
    top: float = wire()
    width: float = wire()
    height: float = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("class_id", "score", "left", "top", "width", "height")


@dataclass(frozen=True, slots=True)
class AnnotatedDetectionResponse(WireValue):
    """The ``accept: application/json;annotation=1`` response."""

    image_size: tuple[ImageSize, ...] = wire()
    annotations: tuple[AnnotatedDetection, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("image_size", "annotations")


def parse_endpoint_response(
    body: bytes | str | Mapping[str, Any],
) -> DetectionResponse | AnnotatedDetectionResponse:
    """Parse an endpoint body (bytes, text or a decoded object) into its response type.

    >>> type(parse_endpoint_response(b'{"prediction": []}')).__name__
    'DetectionResponse'
    """
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise fail("", f"endpoint response is not JSON: {exc}") from exc
    d = expect_object(body, "")
    if "prediction" in d:
        return DetectionResponse.from_dict(d)
    return AnnotatedDetectionResponse.from_dict(d)
