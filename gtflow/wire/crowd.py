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
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gtflow.wire._base import (
    WireValue,
    encode,
    expect_list,
    expect_object,
    extra_of,
    fail,
    get_bool,
    get_int,
    get_object,
    get_str,
    index,
    join,
    parse_list,
    type_name,
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
    "validate_element_output",
    "parse_form_output",
    "form_to_dict",
    "unwrap_docs_sample",
]


@dataclass(frozen=True, slots=True)
class InputImageProperties(WireValue):
    """``inputImageProperties``: the natural size of the image the worker saw."""

    height: int
    width: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("height", "height"), ("width", "width"))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> InputImageProperties:
        d = expect_object(d, path)
        return cls(
            height=get_int(d, "height", path),
            width=get_int(d, "width", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


def _image_props(d: Mapping[str, Any], path: str) -> InputImageProperties:
    return InputImageProperties.from_dict(
        get_object(d, "inputImageProperties", path), join(path, "inputImageProperties")
    )


# --------------------------------------------------------------------------- bounding box


@dataclass(frozen=True, slots=True)
class BoundingBox(WireValue):
    """One ``boundingBoxes[i]``: integer pixels, origin top-left."""

    label: str
    left: int
    top: int
    width: int
    height: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("height", "height"),
        ("label", "label"),
        ("left", "left"),
        ("top", "top"),
        ("width", "width"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> BoundingBox:
        d = expect_object(d, path)
        return cls(
            label=get_str(d, "label", path),
            left=get_int(d, "left", path),
            top=get_int(d, "top", path),
            width=get_int(d, "width", path),
            height=get_int(d, "height", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class BoundingBoxOutput(WireValue):
    """``crowd-bounding-box``: boxes plus the image size; ``initialValueModified`` appears when
    the element had an ``initial-value`` (an adjustment)."""

    bounding_boxes: tuple[BoundingBox, ...]
    input_image_properties: InputImageProperties
    initial_value_modified: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("bounding_boxes", "boundingBoxes"),
        ("input_image_properties", "inputImageProperties"),
        ("initial_value_modified", "initialValueModified"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> BoundingBoxOutput:
        d = expect_object(d, path)
        return cls(
            bounding_boxes=parse_list(d, "boundingBoxes", path, BoundingBox.from_dict),
            input_image_properties=_image_props(d, path),
            initial_value_modified=get_bool(d, "initialValueModified", path, required=False),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
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


# --------------------------------------------------------------------------- keypoint, polygon, line


@dataclass(frozen=True, slots=True)
class Keypoint(WireValue):
    label: str
    x: int
    y: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("label", "label"), ("x", "x"), ("y", "y"))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> Keypoint:
        d = expect_object(d, path)
        return cls(
            label=get_str(d, "label", path),
            x=get_int(d, "x", path),
            y=get_int(d, "y", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class KeypointOutput(WireValue):
    """``crowd-keypoint``."""

    input_image_properties: InputImageProperties
    keypoints: tuple[Keypoint, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("input_image_properties", "inputImageProperties"),
        ("keypoints", "keypoints"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> KeypointOutput:
        d = expect_object(d, path)
        return cls(
            input_image_properties=_image_props(d, path),
            keypoints=parse_list(d, "keypoints", path, Keypoint.from_dict),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class Vertex(WireValue):
    x: int
    y: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("x", "x"), ("y", "y"))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> Vertex:
        d = expect_object(d, path)
        return cls(
            x=get_int(d, "x", path),
            y=get_int(d, "y", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class LabeledShape(WireValue):
    """A polygon, line or polyline: ``{"label": ..., "vertices": [{"x", "y"}, ...]}``."""

    label: str
    vertices: tuple[Vertex, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("label", "label"), ("vertices", "vertices"))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> LabeledShape:
        d = expect_object(d, path)
        return cls(
            label=get_str(d, "label", path),
            vertices=parse_list(d, "vertices", path, Vertex.from_dict),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class _ShapesOutput(WireValue):
    """Polygon, line and polyline outputs differ only in the key of their list."""

    input_image_properties: InputImageProperties
    shapes: tuple[LabeledShape, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    SHAPES_KEY: ClassVar[str] = "shapes"

    @classmethod
    def _wire_fields(cls) -> tuple[tuple[str, str], ...]:
        return (("input_image_properties", "inputImageProperties"), ("shapes", cls.SHAPES_KEY))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> Any:
        d = expect_object(d, path)
        return cls(
            input_image_properties=_image_props(d, path),
            shapes=parse_list(d, cls.SHAPES_KEY, path, LabeledShape.from_dict),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class PolygonOutput(_ShapesOutput):
    """crowd-polygon: ``{"inputImageProperties": {...}, "polygons": [{label, vertices}]}``."""

    SHAPES_KEY: ClassVar[str] = "polygons"


@dataclass(frozen=True, slots=True)
class LineOutput(_ShapesOutput):
    """crowd-line: ``{"inputImageProperties": {...}, "lines": [{label, vertices}]}``."""

    SHAPES_KEY: ClassVar[str] = "lines"


@dataclass(frozen=True, slots=True)
class PolylineOutput(_ShapesOutput):
    """crowd-polyline: ``{"inputImageProperties": {...}, "polylines": [{label, vertices}]}``."""

    SHAPES_KEY: ClassVar[str] = "polylines"


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

    label: str
    worker_comment: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("label", "label"),
        ("worker_comment", "workerComment"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> ClassifierOutput:
        d = expect_object(d, path)
        return cls(
            label=get_str(d, "label", path),
            worker_comment=get_str(d, "workerComment", path, required=False),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class MultiSelectOutput(WireValue):
    """crowd-(image-)classifier-multi-select: ``{"labels": [...]}``."""

    labels: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("labels", "labels"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> MultiSelectOutput:
        d = expect_object(d, path)
        labels = expect_list(d.get("labels"), join(path, "labels")) if "labels" in d else None
        if labels is None:
            raise fail(join(path, "labels"), "missing required field")
        for i, v in enumerate(labels):
            if not isinstance(v, str):
                raise fail(index(join(path, "labels"), i), f"expected a string, got {type_name(v)}")
        return cls(labels=tuple(labels), extra=extra_of(d, cls.wire_keys()), key_order=tuple(d))


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class Entity(WireValue):
    """One ``entities[i]``: Unicode offsets, end exclusive."""

    label: str
    start_offset: int
    end_offset: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("end_offset", "endOffset"),
        ("label", "label"),
        ("start_offset", "startOffset"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> Entity:
        d = expect_object(d, path)
        start = get_int(d, "startOffset", path)
        end = get_int(d, "endOffset", path)
        if not 0 <= start <= end:
            raise fail(path, f"expected 0 <= startOffset <= endOffset, got {start}..{end}")
        return cls(
            label=get_str(d, "label", path),
            start_offset=start,
            end_offset=end,
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class EntityAnnotationOutput(WireValue):
    """crowd-entity-annotation: ``{"entities": [...]}``."""

    entities: tuple[Entity, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("entities", "entities"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> EntityAnnotationOutput:
        d = expect_object(d, path)
        return cls(
            entities=parse_list(d, "entities", path, Entity.from_dict),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True, slots=True)
class LabelMapping(WireValue):
    """``labelMappings["<label>"]``: ``{"color": "#hex"}``."""

    color: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("color", "color"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> LabelMapping:
        d = expect_object(d, path)
        return cls(
            color=get_str(d, "color", path), extra=extra_of(d, cls.wire_keys()), key_order=tuple(d)
        )


@dataclass(frozen=True, slots=True)
class LabeledImage(WireValue):
    """``labeledImage``: ``{"pngImageData": "<base64 PNG>"}``."""

    png_image_data: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("png_image_data", "pngImageData"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> LabeledImage:
        d = expect_object(d, path)
        return cls(
            png_image_data=get_str(d, "pngImageData", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


def _label_mappings(d: Mapping[str, Any], path: str) -> dict[str, LabelMapping]:
    raw = get_object(d, "labelMappings", path)
    p = join(path, "labelMappings")
    return {k: LabelMapping.from_dict(v, join(p, k)) for k, v in raw.items()}


def _labeled_image(d: Mapping[str, Any], path: str) -> LabeledImage:
    return LabeledImage.from_dict(get_object(d, "labeledImage", path), join(path, "labeledImage"))


@dataclass(frozen=True, slots=True)
class SemanticSegmentationOutput(WireValue):
    """crowd-semantic-segmentation."""

    input_image_properties: InputImageProperties
    label_mappings: Mapping[str, LabelMapping]
    labeled_image: LabeledImage
    initial_value_modified: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("input_image_properties", "inputImageProperties"),
        ("label_mappings", "labelMappings"),
        ("labeled_image", "labeledImage"),
        ("initial_value_modified", "initialValueModified"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> SemanticSegmentationOutput:
        d = expect_object(d, path)
        return cls(
            input_image_properties=_image_props(d, path),
            label_mappings=_label_mappings(d, path),
            labeled_image=_labeled_image(d, path),
            initial_value_modified=get_bool(d, "initialValueModified", path, required=False),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class Instance(WireValue):
    color: str
    label: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("color", "color"), ("label", "label"))

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> Instance:
        d = expect_object(d, path)
        return cls(
            color=get_str(d, "color", path),
            label=get_str(d, "label", path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class InstanceSegmentationOutput(WireValue):
    """crowd-instance-segmentation."""

    input_image_properties: InputImageProperties
    instances: tuple[Instance, ...]
    labeled_image: LabeledImage
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("input_image_properties", "inputImageProperties"),
        ("instances", "instances"),
        ("labeled_image", "labeledImage"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> InstanceSegmentationOutput:
        d = expect_object(d, path)
        return cls(
            input_image_properties=_image_props(d, path),
            instances=parse_list(d, "instances", path, Instance.from_dict),
            labeled_image=_labeled_image(d, path),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


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
