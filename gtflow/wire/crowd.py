"""Outputs of the Crowd HTML Elements (CONTRACTS.md section 6).

A ``<crowd-form>`` submits one JSON object keyed by each widget's ``name``; the value under a
name has the shape of its element. This module types those values and checks a submission
against them, e.g. to test the local portal's element implementations against the AWS docs
samples (which wrap the submission in a list: :func:`unwrap_docs_sample`).

    >>> v = validate_element_output("crowd-bounding-box", {
    ...     "boundingBoxes": [{"height": 401, "label": "Dog", "left": 243, "top": 117, "width": 187}],
    ...     "inputImageProperties": {"height": 533, "width": 800}})
    >>> v.bounding_boxes[0].label, v.input_image_properties.width
    ('Dog', 800)
    >>> validate_element_output("crowd-checkbox", {"blurry": True, "dim": False}).checked
    ['blurry']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    Pixel,
    Size,
    WireValue,
    encode,
    expect_object,
    fail,
    index,
    join,
    type_name,
    wire,
)

__all__ = [
    "InputImageProperties",
    "BoundingBox",
    "BoundingBoxOutput",
    "Keypoint",
    "KeypointOutput",
    "Vertex",
    "LabeledShape",
    "PolygonOutput",
    "LineOutput",
    "PolylineOutput",
    "CheckedValues",
    "CheckboxOutput",
    "RadioButtonOutput",
    "ToggleButtonOutput",
    "ClassifierOutput",
    "MultiSelectOutput",
    "Entity",
    "EntityAnnotationOutput",
    "LabelMapping",
    "LabeledImage",
    "SemanticSegmentationOutput",
    "Instance",
    "InstanceSegmentationOutput",
    "ELEMENTS",
    "BOUNDING_BOX_WIDGETS",
    "bounding_box_answer",
    "bounding_box_widgets",
    "classifier_answer",
    "validate_element_output",
    "parse_form_output",
    "form_to_dict",
    "unwrap_docs_sample",
]


@dataclass(frozen=True, slots=True)
class InputImageProperties(WireValue):
    """``inputImageProperties``: the natural size of the image the worker saw."""

    height: int = wire()
    width: int = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("height", "width")

    def _check(self, path: str) -> None:
        # a zero or negative size would put every box outside the image (the lint rejects it)
        for name, v in (("height", self.height), ("width", self.width)):
            if v <= 0:
                raise fail(join(path, name), f"expected a positive size, got {v}")




# --------------------------------------------------------------------------- bounding box


@dataclass(frozen=True, slots=True)
class BoundingBox(WireValue):
    """One ``boundingBoxes[i]``: pixels from the top-left corner; GT writes integers, and fractions
    (half pixels such as ``588.5``) in consolidated multi-worker lines, read as written."""

    label: str = wire()
    left: Pixel = wire()
    top: Pixel = wire()
    width: Size = wire()
    height: Size = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("height", "label", "left", "top", "width")


@dataclass(frozen=True, slots=True)
class BoundingBoxOutput(WireValue):
    """``crowd-bounding-box``: boxes plus the image size; ``initialValueModified`` appears when
    the element had an ``initial-value`` (an adjustment)."""

    bounding_boxes: tuple[BoundingBox, ...] = wire("boundingBoxes")
    input_image_properties: InputImageProperties = wire("inputImageProperties")
    initial_value_modified: bool | None = wire("initialValueModified", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "boundingBoxes",
        "inputImageProperties",
        "initialValueModified",
    )

    def to_object_detection_label(
        self, class_map: Mapping[str, int] | Sequence[str], **kw: Any
    ) -> Any:
        """``(ObjectDetectionLabel, ObjectDetectionMetadata)`` from these boxes; ``kw`` goes to
        :func:`gtflow.wire.output.object_detection_label` (``job_name`` is required)."""
        from gtflow.wire.output import object_detection_label

        kw.setdefault("image_width", self.input_image_properties.width)
        kw.setdefault("image_height", self.input_image_properties.height)
        return object_detection_label(self.bounding_boxes, class_map, **kw)


#: Widget names seen for crowd-bounding-box: gtflow's review template and the A2I samples use
#: ``annotatedResult``, GT's built-in template ``boundingBox``.
BOUNDING_BOX_WIDGETS = ("annotatedResult", "boundingBox")


def bounding_box_widgets(answer: Mapping[str, Any]) -> list[str]:
    """The names of the fields of a form submission that hold a crowd-bounding-box output."""
    return [k for k, v in answer.items() if isinstance(v, Mapping) and "boundingBoxes" in v]


def bounding_box_answer(
    answer: Mapping[str, Any], widget: str | None = None, path: str = ""
) -> tuple[str, BoundingBoxOutput]:
    """The crowd-bounding-box output in one worker's form submission: ``(name, output)``.

    The one rule every consumer applies (consolidation, A2I conversion, the portal): with
    ``widget``, that field; otherwise the single field whose value has ``boundingBoxes``. No
    such field, or several (two box widgets in one form), is a ContractError naming them: the
    caller must say which widget holds the answer.

    >>> name, out = bounding_box_answer({"boundingBox": {"boundingBoxes": [],
    ...     "inputImageProperties": {"height": 2, "width": 3}}})
    >>> name, out.input_image_properties.width
    ('boundingBox', 3)
    """
    answer = expect_object(answer, path)
    if widget is not None:
        if widget not in answer:
            raise fail(join(path, widget), "missing: no answer under this widget name")
        return widget, BoundingBoxOutput.from_dict(answer[widget], join(path, widget))
    found = bounding_box_widgets(answer)
    if not found:
        raise fail(path, "no bounding-box answer (a field with boundingBoxes)")
    if len(found) > 1:
        raise fail(path, f"several bounding-box answers ({', '.join(found)}): name the widget")
    return found[0], BoundingBoxOutput.from_dict(answer[found[0]], join(path, found[0]))


# --------------------------------------------------------------------------- keypoint, polygon, line


@dataclass(frozen=True, slots=True)
class Keypoint(WireValue):
    label: str = wire()
    x: int = wire()
    y: int = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("label", "x", "y")


@dataclass(frozen=True, slots=True)
class KeypointOutput(WireValue):
    """``crowd-keypoint``."""

    input_image_properties: InputImageProperties = wire("inputImageProperties")
    keypoints: tuple[Keypoint, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("inputImageProperties", "keypoints")


@dataclass(frozen=True, slots=True)
class Vertex(WireValue):
    x: int = wire()
    y: int = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("x", "y")


@dataclass(frozen=True, slots=True)
class LabeledShape(WireValue):
    """A polygon, line or polyline: ``{"label": ..., "vertices": [{"x", "y"}, ...]}``."""

    label: str = wire()
    vertices: tuple[Vertex, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("label", "vertices")


@dataclass(frozen=True, slots=True)
class _ShapesOutput(WireValue):
    """Polygon, line and polyline outputs differ only in the key of their list."""

    input_image_properties: InputImageProperties = wire("inputImageProperties")
    shapes: tuple[LabeledShape, ...] = wire("shapes")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER


@dataclass(frozen=True, slots=True)
class PolygonOutput(_ShapesOutput):
    """crowd-polygon: ``{"inputImageProperties": {...}, "polygons": [{label, vertices}]}``."""

    _KEYS: ClassVar[Mapping[str, str]] = {"shapes": "polygons"}


@dataclass(frozen=True, slots=True)
class LineOutput(_ShapesOutput):
    """crowd-line: ``{"inputImageProperties": {...}, "lines": [{label, vertices}]}``."""

    _KEYS: ClassVar[Mapping[str, str]] = {"shapes": "lines"}


@dataclass(frozen=True, slots=True)
class PolylineOutput(_ShapesOutput):
    """crowd-polyline: ``{"inputImageProperties": {...}, "polylines": [{label, vertices}]}``."""

    _KEYS: ClassVar[Mapping[str, str]] = {"shapes": "polylines"}


# --------------------------------------------------------------------------- checkbox, radio, toggle


@dataclass(frozen=True, slots=True)
class CheckedValues(WireValue):
    """``{"<value>": true|false, ...}``: crowd-checkbox (boxes sharing a ``name`` merge into one
    object keyed by ``value``), crowd-radio-button (one object per button) and
    crowd-toggle-button (``{"on": true}``)."""

    values: Mapping[str, bool]

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> CheckedValues:
        d = expect_object(d, path)
        for k, v in d.items():
            if not isinstance(v, bool):
                raise fail(join(path, k), f"expected a boolean, got {type_name(v)}")
        return cls(values=dict(d))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def checked(self) -> list[str]:
        """The values that are true, in submission order."""
        return [k for k, v in self.values.items() if v]


CheckboxOutput = CheckedValues
RadioButtonOutput = CheckedValues
ToggleButtonOutput = CheckedValues


# --------------------------------------------------------------------------- classifiers


@dataclass(frozen=True, slots=True)
class ClassifierOutput(WireValue):
    """crowd-classifier / crowd-image-classifier: ``{"label": ..., "workerComment"?: ...}``."""

    label: str = wire()
    worker_comment: str | None = wire("workerComment", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("label", "workerComment")


@dataclass(frozen=True, slots=True)
class MultiSelectOutput(WireValue):
    """crowd-(image-)classifier-multi-select: ``{"labels": [...]}``."""

    labels: tuple[str, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("labels",)



def classifier_answer(
    answer: Mapping[str, Any], widget: str | None = None, path: str = ""
) -> tuple[str, ClassifierOutput | MultiSelectOutput]:
    """The (multi-select) classifier output in one worker's form submission: ``(name,
    output)``; the same rule as :func:`bounding_box_answer` (a field with ``label`` or
    ``labels``; none or several is a ContractError unless ``widget`` names it).

    >>> classifier_answer({"category": {"label": "cat"}})[1].label
    'cat'
    """
    answer = expect_object(answer, path)
    if widget is None:
        found = [
            k for k, v in answer.items() if isinstance(v, Mapping) and ("label" in v or "labels" in v)
        ]
        if len(found) != 1:
            if not found:
                raise fail(path, "no classifier answer (a field with label or labels)")
            raise fail(path, f"several classifier answers ({', '.join(found)}): name the widget")
        widget = found[0]
    elif widget not in answer:
        raise fail(join(path, widget), "missing: no answer under this widget name")
    value = expect_object(answer[widget], join(path, widget))
    if "labels" in value:
        return widget, MultiSelectOutput.from_dict(value, join(path, widget))
    return widget, ClassifierOutput.from_dict(value, join(path, widget))


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class Entity(WireValue):
    """One ``entities[i]``: Unicode offsets, end exclusive."""

    label: str = wire()
    start_offset: int = wire("startOffset")
    end_offset: int = wire("endOffset")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("endOffset", "label", "startOffset")

    def _check(self, path: str) -> None:
        if not 0 <= self.start_offset <= self.end_offset:
            raise fail(
                path,
                f"expected 0 <= startOffset <= endOffset, got {self.start_offset}..{self.end_offset}",
            )


@dataclass(frozen=True, slots=True)
class EntityAnnotationOutput(WireValue):
    """crowd-entity-annotation: ``{"entities": [...]}``."""

    entities: tuple[Entity, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("entities",)


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True, slots=True)
class LabelMapping(WireValue):
    """``labelMappings["<label>"]``: ``{"color": "#hex"}``."""

    color: str = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("color",)


@dataclass(frozen=True, slots=True)
class LabeledImage(WireValue):
    """``labeledImage``: ``{"pngImageData": "<base64 PNG>"}``."""

    png_image_data: str = wire("pngImageData")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("pngImageData",)






@dataclass(frozen=True, slots=True)
class SemanticSegmentationOutput(WireValue):
    """crowd-semantic-segmentation."""

    input_image_properties: InputImageProperties = wire("inputImageProperties")
    label_mappings: Mapping[str, LabelMapping] = wire("labelMappings")
    labeled_image: LabeledImage = wire("labeledImage")
    initial_value_modified: bool | None = wire("initialValueModified", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "inputImageProperties",
        "labelMappings",
        "labeledImage",
        "initialValueModified",
    )


@dataclass(frozen=True, slots=True)
class Instance(WireValue):
    color: str = wire()
    label: str = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("color", "label")


@dataclass(frozen=True, slots=True)
class InstanceSegmentationOutput(WireValue):
    """crowd-instance-segmentation."""

    input_image_properties: InputImageProperties = wire("inputImageProperties")
    instances: tuple[Instance, ...] = wire()
    labeled_image: LabeledImage = wire("labeledImage")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("inputImageProperties", "instances", "labeledImage")


# --------------------------------------------------------------------------- checking submissions


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {type_name(value)}")
    return value


def _number(value: Any, path: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(path, f"expected a number, got {type_name(value)}")
    return value


# element tag -> parser(value, path)
ELEMENTS: dict[str, Callable[[Any, str], Any]] = {
    "crowd-bounding-box": BoundingBoxOutput.from_dict,
    "crowd-keypoint": KeypointOutput.from_dict,
    "crowd-polygon": PolygonOutput.from_dict,
    "crowd-line": LineOutput.from_dict,
    "crowd-polyline": PolylineOutput.from_dict,
    "crowd-checkbox": CheckedValues.from_dict,
    "crowd-radio-button": CheckedValues.from_dict,
    "crowd-radio-group": CheckedValues.from_dict,
    "crowd-toggle-button": CheckedValues.from_dict,
    "crowd-input": _text,
    "crowd-text-area": _text,
    "crowd-slider": _number,
    "crowd-classifier": ClassifierOutput.from_dict,
    "crowd-image-classifier": ClassifierOutput.from_dict,
    "crowd-classifier-multi-select": MultiSelectOutput.from_dict,
    "crowd-image-classifier-multi-select": MultiSelectOutput.from_dict,
    "crowd-entity-annotation": EntityAnnotationOutput.from_dict,
    "crowd-semantic-segmentation": SemanticSegmentationOutput.from_dict,
    "crowd-instance-segmentation": InstanceSegmentationOutput.from_dict,
}


def _no_extra(value: Any, path: str) -> None:
    if isinstance(value, WireValue) and dataclasses.is_dataclass(value):
        extra = getattr(value, "extra", None)
        if extra:
            raise fail(
                join(path, next(iter(extra))),
                "unknown field (not in the element's documented output)",
            )
        for attr, key in value._wire_fields():
            _no_extra(getattr(value, attr), join(path, key))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            _no_extra(item, index(path, i))
    elif isinstance(value, Mapping):
        for k, item in value.items():
            _no_extra(item, join(path, k))


def validate_element_output(
    element: str, value: Any, path: str = "", *, strict: bool = False
) -> Any:
    """Check one widget's value against its element's documented output; return it typed.

    ``strict`` also rejects keys the docs do not list (use it for outputs gtflow's own portal
    produces; AWS may add keys, so reading stays tolerant by default).

    >>> validate_element_output("crowd-image-classifier", {"label": "Correct", "workerComment": "ok"}).label
    'Correct'
    """
    try:
        parse = ELEMENTS[element]
    except KeyError:
        raise fail(
            path, f"unknown element {element!r}; known: {', '.join(sorted(ELEMENTS))}"
        ) from None
    typed = parse(value, path)
    if strict:
        _no_extra(typed, path)
    return typed


def parse_form_output(
    answer: Mapping[str, Any],
    elements: Mapping[str, str],
    path: str = "",
    *,
    strict: bool = False,
    required: Sequence[str] = (),
) -> dict[str, Any]:
    """Type a whole submission ``{"<name>": value}`` given ``{"<name>": "<element tag>"}``.

    Names not in ``elements`` (plain ``<input>``, ``<select>``, ``<textarea>``) pass through
    unchanged; a widget left empty does not appear in the submission, so only names listed in
    ``required`` must be present.

    >>> parse_form_output({"category": {"label": "cat"}, "note": ""},
    ...                   {"category": "crowd-classifier"})["category"].label
    'cat'
    """
    answer = expect_object(answer, path)
    for name in required:
        if name not in answer:
            raise fail(join(path, name), "missing required field")
    out: dict[str, Any] = {}
    for name, value in answer.items():
        tag = elements.get(name)
        out[name] = (
            value
            if tag is None
            else validate_element_output(tag, value, join(path, name), strict=strict)
        )
    return out


def form_to_dict(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The submission object back from :func:`parse_form_output`'s result."""
    return {name: encode(value) for name, value in parsed.items()}


def unwrap_docs_sample(data: Any) -> Any:
    """The AWS docs show a submission wrapped in a list ``[ {...} ]``; GT and A2I carry the
    inner object. Returns the inner object (or ``data`` unchanged when not wrapped)."""
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], Mapping):
        return data[0]
    return data
