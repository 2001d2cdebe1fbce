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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gtflow.wire._base import (
    WireValue,
    expect_list,
    expect_object,
    extra_of,
    fail,
    get_int,
    get_number,
    index,
    join,
    parse_list,
    type_name,
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

    predictions: tuple[Prediction, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("predictions", "prediction"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> DetectionResponse:
        d = expect_object(d, path)
        rows = d.get("prediction")
        if "prediction" not in d:
            raise fail(join(path, "prediction"), "missing required field")
        p = join(path, "prediction")
        return cls(
            predictions=tuple(
                Prediction.from_list(r, index(p, i)) for i, r in enumerate(expect_list(rows, p))
            ),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )

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

    class_id: int
    score: float
    left: float
    top: float
    width: float
    height: float
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("class_id", "class_id"),
        ("score", "score"),
        ("left", "left"),
        ("top", "top"),
        ("width", "width"),
        ("height", "height"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> AnnotatedDetection:
        d = expect_object(d, path)
        return cls(
            class_id=get_int(d, "class_id", path),
            score=get_number(d, "score", path),
            left=get_number(d, "left", path),
            top=get_number(d, "top", path),
            width=get_number(d, "width", path),
            height=get_number(d, "height", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class AnnotatedDetectionResponse(WireValue):
    """The ``accept: application/json;annotation=1`` response."""

    image_size: tuple[ImageSize, ...]
    annotations: tuple[AnnotatedDetection, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("image_size", "image_size"),
        ("annotations", "annotations"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> AnnotatedDetectionResponse:
        d = expect_object(d, path)
        return cls(
            image_size=parse_list(d, "image_size", path, ImageSize.from_dict),
            annotations=parse_list(d, "annotations", path, AnnotatedDetection.from_dict),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


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
