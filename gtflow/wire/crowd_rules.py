"""What a crowd element's answer may hold, given the element as a task offered it.

:mod:`gtflow.wire.crowd` types each element's documented output. An answer can have the right
shape and still be impossible for the task it answers: a box outside the image, a label the
element never offered, a checkbox value no box has, a slider past its ``max``, a number that is
not finite. :func:`check_element_answer` applies those rules to one element's value, using the
element's attributes as the rendered template gave them (JSON attributes already parsed) and,
when known, the real size of its image.

    >>> attrs = {"labels": ["cat", "dog"]}
    >>> check_element_answer("crowd-bounding-box", {"boundingBoxes": [{"label": "cat", "left": 1,
    ...     "top": 2, "width": 3, "height": 4}], "inputImageProperties": {"width": 10, "height": 10}},
    ...     attrs, "box").bounding_boxes[0].label
    'cat'
    >>> check_element_answer("crowd-bounding-box", {"boundingBoxes": [{"label": "cow", "left": 1,
    ...     "top": 2, "width": 3, "height": 4}], "inputImageProperties": {"width": 10, "height": 10}},
    ...     attrs, "box")
    Traceback (most recent call last):
    ...
    gtflow.errors.ContractError: box.boundingBoxes[0].label: 'cow' is not one of the offered labels (cat, dog)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gtflow.wire._base import fail, index, join
from gtflow.wire.crowd import validate_element_output

__all__ = ["check_element_answer", "check_finite", "RULES", "CHECKED_ELEMENTS"]

#: Elements whose answers share one object per ``name``, keyed by each element's ``value``.
CHECKED_ELEMENTS = frozenset({"crowd-checkbox", "crowd-radio-button", "crowd-toggle-button"})


def check_finite(value: Any, path: str) -> None:
    """Every number inside ``value`` is finite (JSON allows ``1e999``; Python reads it as inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(path, "expected a finite number")
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_finite(v, join(path, str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_finite(v, index(path, i))


def _names(offered: Any) -> list[str] | None:
    """Label names from a ``labels``/``categories`` attribute (strings, or entity-annotation
    objects ``{"label": ...}``); None when the attribute gives none to check against."""
    if not isinstance(offered, Sequence) or isinstance(offered, str) or not offered:
        return None
    out = []
    for item in offered:
        if isinstance(item, Mapping) and "label" in item:
            out.append(str(item["label"]))
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
    return out or None


def _offered(label: str, allowed: list[str] | None, path: str, what: str = "labels") -> None:
    if allowed is not None and label not in allowed:
        raise fail(path, f"{label!r} is not one of the offered {what} ({', '.join(allowed)})")


def _image(props: Any, size: tuple[int, int] | None, path: str) -> tuple[float, float]:
    w, h = props.width, props.height
    if w <= 0 or h <= 0:
        raise fail(join(path, "inputImageProperties"), "the image size must be positive (did it load?)")
    if size is not None and (w, h) != size:
        raise fail(join(path, "inputImageProperties"),
                   f"{w}x{h} is not the size of the task's image ({size[0]}x{size[1]})")
    return w, h


def _inside(x: float, y: float, w: float, h: float, path: str) -> None:
    if not (0 <= x <= w and 0 <= y <= h):
        raise fail(path, f"({x}, {y}) is outside the {w:g}x{h:g} image")


def _boxes(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    w, h = _image(typed.input_image_properties, size, path)
    allowed = _names(attrs.get("labels"))
    for i, b in enumerate(typed.bounding_boxes):
        p = index(join(path, "boundingBoxes"), i)
        _offered(b.label, allowed, join(p, "label"))
        if b.width <= 0 or b.height <= 0:
            raise fail(p, "a box needs a positive width and height")
        if b.left < 0 or b.top < 0 or b.left + b.width > w or b.top + b.height > h:
            raise fail(p, f"the box ({b.left}, {b.top}, {b.width}x{b.height}) is not inside the {w:g}x{h:g} image")


def _keypoints(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    w, h = _image(typed.input_image_properties, size, path)
    allowed = _names(attrs.get("labels"))
    for i, k in enumerate(typed.keypoints):
        p = index(join(path, "keypoints"), i)
        _offered(k.label, allowed, join(p, "label"))
        _inside(k.x, k.y, w, h, p)


def _segments_cross(a: Any, b: Any, c: Any, d: Any) -> bool:
    def orient(p: Any, q: Any, r: Any) -> float:
        return float((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x))

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    return (o1 * o2 < 0) and (o3 * o4 < 0)


def self_intersects(vertices: Sequence[Any]) -> bool:
    """True when two non-adjacent edges of the closed polygon cross (proper crossings)."""
    n = len(vertices)
    edges = [(vertices[i], vertices[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return True
    return False


def _shapes(key: str, min_vertices: int, closed: bool) -> Callable[[Any, Mapping[str, Any], tuple[int, int] | None, str], None]:
    def rule(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
        w, h = _image(typed.input_image_properties, size, path)
        allowed = _names(attrs.get("labels"))
        for i, s in enumerate(typed.shapes):
            p = index(join(path, key), i)
            _offered(s.label, allowed, join(p, "label"))
            if len(s.vertices) < min_vertices:
                raise fail(join(p, "vertices"), f"needs at least {min_vertices} vertices")
            for j, v in enumerate(s.vertices):
                _inside(v.x, v.y, w, h, index(join(p, "vertices"), j))
            if closed and self_intersects(s.vertices):
                raise fail(join(p, "vertices"), "the polygon crosses itself")
    return rule


def _classifier(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    _offered(typed.label, _names(attrs.get("categories")), join(path, "label"), "categories")


def _multi(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    allowed = _names(attrs.get("categories"))
    exclusion = attrs.get("exclusion-category")
    if allowed is not None and isinstance(exclusion, Mapping) and "text" in exclusion:
        allowed = [*allowed, str(exclusion["text"])]
    for i, label in enumerate(typed.labels):
        _offered(label, allowed, index(join(path, "labels"), i), "categories")


def _entities(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    allowed = _names(attrs.get("labels"))
    text = attrs.get("text")
    n = len(text) if isinstance(text, str) else None
    for i, e in enumerate(typed.entities):
        p = index(join(path, "entities"), i)
        _offered(e.label, allowed, join(p, "label"))
        if e.start_offset < 0 or e.end_offset <= e.start_offset or (n is not None and e.end_offset > n):
            raise fail(p, f"offsets {e.start_offset}..{e.end_offset} are not a span of the text")


def _checked(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    values = attrs.get("values")  # the portal gathers the values of every element of the name
    if isinstance(values, (list, tuple, set, frozenset)):
        for k in typed.values:
            if k not in values:
                raise fail(join(path, k), f"no element named here offers the value {k!r}")


def _slider(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    for bound, ok in (("min", lambda v, b: v >= b), ("max", lambda v, b: v <= b)):
        try:
            b = float(attrs[bound])
        except (KeyError, TypeError, ValueError):
            continue
        if not ok(typed, b):
            raise fail(path, f"{typed} is past the slider's {bound} {b:g}")


def _segmentation(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    _image(typed.input_image_properties, size, path)
    allowed = _names(attrs.get("labels"))
    for label in typed.label_mappings:
        _offered(label, allowed, join(join(path, "labelMappings"), label))


def _instances(typed: Any, attrs: Mapping[str, Any], size: tuple[int, int] | None, path: str) -> None:
    _image(typed.input_image_properties, size, path)
    allowed = _names(attrs.get("labels"))
    colors: set[str] = set()
    for i, inst in enumerate(typed.instances):
        p = index(join(path, "instances"), i)
        _offered(inst.label, allowed, join(p, "label"))
        if inst.color.lower() in colors:
            raise fail(join(p, "color"), f"{inst.color} is the color of an earlier instance")
        colors.add(inst.color.lower())


Rule = Callable[[Any, Mapping[str, Any], "tuple[int, int] | None", str], None]

#: element tag -> rule(typed value, attributes, image size, path); shape checks come first
#: from :func:`gtflow.wire.crowd.validate_element_output`.
RULES: dict[str, Rule] = {
    "crowd-bounding-box": _boxes,
    "crowd-keypoint": _keypoints,
    "crowd-polygon": _shapes("polygons", 3, True),
    "crowd-line": _shapes("lines", 2, False),
    "crowd-polyline": _shapes("polylines", 2, False),
    "crowd-classifier": _classifier,
    "crowd-image-classifier": _classifier,
    "crowd-classifier-multi-select": _multi,
    "crowd-image-classifier-multi-select": _multi,
    "crowd-entity-annotation": _entities,
    "crowd-checkbox": _checked,
    "crowd-radio-button": _checked,
    "crowd-toggle-button": _checked,
    "crowd-slider": _slider,
    "crowd-semantic-segmentation": _segmentation,
    "crowd-instance-segmentation": _instances,
}


def check_element_answer(
    tag: str, value: Any, attrs: Mapping[str, Any], path: str, *, image_size: tuple[int, int] | None = None
) -> Any:
    """Check one element's submitted ``value`` strictly; returns it typed; raises ContractError.

    ``attrs`` holds the element's attributes (``labels``/``categories`` parsed from JSON,
    ``values`` for checkable elements, ``text`` for entity annotation, ``min``/``max``);
    ``image_size`` is ``(width, height)`` of the task's image when the caller could read it.
    """
    check_finite(value, path)
    typed = validate_element_output(tag, value, path, strict=True)
    rule = RULES.get(tag)
    if rule is not None:
        rule(typed, attrs, image_size, path)
    return typed
