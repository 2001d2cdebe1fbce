"""Output-manifest labels and their ``-metadata`` (CONTRACTS.md section 3).

Each output line is the input line plus ``<attr>`` (the label) and ``<attr>-metadata``. This
module types both halves for object detection, image/text classification (single and
multi-label), label verification, custom tasks and failed objects, and builds them the way GT
writes them (``job-name`` is ``labeling-job/<name>``, ``creation-date`` has microseconds and no
zone, key order as observed in real files).

    >>> label, meta = object_detection_label(
    ...     [{"label": "cat", "left": 239, "top": 162, "width": 284, "height": 205}],
    ...     ["cat", "dog"], image_width=601, image_height=453,
    ...     job_name=labeling_job_ref("cat-ground-truth"), confidences=0.09,
    ...     creation_date="2019-01-29T13:31:14.845709")
    >>> import json
    >>> print(json.dumps(label.to_dict(), separators=(",", ":")))
    {"annotations":[{"class_id":0,"width":284,"top":162,"height":205,"left":239}],"image_size":[{"width":601,"depth":3,"height":453}]}
    >>> print(json.dumps(meta.to_dict(), separators=(",", ":")))
    {"job-name":"labeling-job/cat-ground-truth","class-map":{"0":"cat"},"human-annotated":"yes","objects":[{"confidence":0.09}],"creation-date":"2019-01-29T13:31:14.845709","type":"groundtruth/object-detection"}
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    Pixel,
    Size,
    WireValue,
    encode,
    expect_list,
    expect_object,
    fail,
    index,
    join,
    type_name,
    whole_pixel,
    wire,
)

__all__ = [
    "OD_TYPE",
    "IC_TYPE",
    "IC_MULTI_TYPE",
    "TC_TYPE",
    "TC_MULTI_TYPE",
    "VERIFICATION_TYPE",
    "CUSTOM_TYPE",
    "CREATION_DATE_FORMAT",
    "BoundingBoxAnnotation",
    "ImageSize",
    "ObjectDetectionLabel",
    "ObjectConfidence",
    "ObjectDetectionMetadata",
    "ImageClassificationMetadata",
    "MultiLabelClassificationMetadata",
    "WorkerFeedback",
    "LabelVerificationMetadata",
    "LabelMetadata",
    "FailureMetadata",
    "Metadata",
    "OutputLabel",
    "parse_metadata",
    "parse_label_value",
    "label_attributes",
    "metadata_key",
    "format_creation_date",
    "parse_creation_date",
    "labeling_job_ref",
    "a2i_job_ref",
    "object_detection_label",
    "image_classification_label",
    "multilabel_classification_label",
    "label_verification_label",
    "custom_label",
    "failure_metadata",
    "whole_pixel",
    "class_ids",
    "creation_date_of",
]

OD_TYPE = "groundtruth/object-detection"
IC_TYPE = "groundtruth/image-classification"
IC_MULTI_TYPE = "groundtruth/image-classification-multilabel"
TC_TYPE = "groundtruth/text-classification"
TC_MULTI_TYPE = "groundtruth/text-classification-multilabel"
VERIFICATION_TYPE = "groundtruth/label-verification"
CUSTOM_TYPE = "groundtruth/custom"
CREATION_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
METADATA_SUFFIX = "-metadata"


# --------------------------------------------------------------------------- names and dates


def metadata_key(attribute: str) -> str:
    """``metadata_key("bbox") == "bbox-metadata"``."""
    return attribute + METADATA_SUFFIX


def format_creation_date(when: _dt.datetime | None = None) -> str:
    """``creation-date`` exactly as GT writes it: UTC, microseconds, no zone.

    A naive datetime is taken as UTC; ``None`` means now.

    >>> format_creation_date(_dt.datetime(2019, 1, 29, 13, 29, 11, 798957))
    '2019-01-29T13:29:11.798957'
    >>> format_creation_date(_dt.datetime(2019, 1, 29, 14, 29, 11, tzinfo=_dt.timezone(_dt.timedelta(hours=1))))
    '2019-01-29T13:29:11.000000'
    """
    if when is None:
        when = _dt.datetime.now(_dt.timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return when.strftime(CREATION_DATE_FORMAT)


def parse_creation_date(value: str) -> _dt.datetime:
    """Parse a ``creation-date`` (GT's zone-less form, or A2I's ``...Z``) to an aware UTC datetime.

    >>> parse_creation_date("2021-05-06T21:28:24.990Z").isoformat()
    '2021-05-06T21:28:24.990000+00:00'
    """
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        when = _dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail("creation-date", f"not a timestamp: {value!r}") from exc
    if when.tzinfo is None:
        return when.replace(tzinfo=_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc)


def class_ids(metadata: Any, path: str = "") -> dict[int, str]:
    """The ``class-map`` of a ``-metadata`` object keyed by integer class id (``{}`` when it has
    none); ContractError naming the key that is not an id or the name that is not a string.

    >>> class_ids({"class-map": {"0": "fish"}})
    {0: 'fish'}
    """
    meta = expect_object(metadata, path)
    raw = meta.get("class-map")
    where = join(path, "class-map")
    if raw is None:
        return {}
    out: dict[int, str] = {}
    for k, v in expect_object(raw, where).items():
        if not isinstance(v, str):
            raise fail(join(where, k), f"expected a string, got {type_name(v)}")
        try:
            out[int(k)] = v
        except ValueError:
            raise fail(join(where, k), "keys must be class ids (integers as strings)") from None
    return out


def creation_date_of(metadata: Any) -> str | None:
    """The ``creation-date`` string of a ``-metadata`` object, or None."""
    v = metadata.get("creation-date") if isinstance(metadata, Mapping) else None
    return v if isinstance(v, str) else None


def labeling_job_ref(job_name: str) -> str:
    """The ``job-name`` GT writes: ``labeling-job/<name>``.

    >>> labeling_job_ref("cat-ground-truth")
    'labeling-job/cat-ground-truth'
    """
    return f"labeling-job/{job_name}"


def a2i_job_ref(human_loop_name: str) -> str:
    """The ``job-name`` of data derived from an A2I loop: ``a2i/<loop>``."""
    return f"a2i/{human_loop_name}"


# --------------------------------------------------------------------------- object detection


@dataclass(frozen=True, slots=True)
class BoundingBoxAnnotation(WireValue):
    """One ``annotations[i]``: pixels from the top-left corner; GT writes integers, and fractions
    (half pixels such as ``588.5``) in consolidated multi-worker lines, read as written."""

    class_id: int = wire()
    left: Pixel = wire()
    top: Pixel = wire()
    width: Size = wire()
    height: Size = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    # Observed order in a real GT output [T04].
    _ORDER: ClassVar[tuple[str, ...]] = ("class_id", "width", "top", "height", "left")


@dataclass(frozen=True, slots=True)
class ImageSize(WireValue):
    """``image_size[0]``: ``{width, height, depth}`` (depth 3 for RGB)."""

    width: int = wire()
    height: int = wire()
    depth: int | None = wire(default=3)  # GT always writes it; read tolerantly
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("width", "depth", "height")


@dataclass(frozen=True, slots=True)
class ObjectDetectionLabel(WireValue):
    """The ``<attr>`` value of a bounding-box job: ``{annotations: [...], image_size: [{...}]}``.

    ``image_size`` is a list with exactly one object, as GT writes it.
    """

    annotations: tuple[BoundingBoxAnnotation, ...] = wire()
    image_size: tuple[ImageSize, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("annotations", "image_size")

    def _check(self, path: str) -> None:
        if len(self.image_size) != 1:
            raise fail(
                join(path, "image_size"),
                f"expected a list with one object, got {len(self.image_size)}",
            )

    @property
    def size(self) -> ImageSize:
        return self.image_size[0]


@dataclass(frozen=True, slots=True)
class ObjectConfidence(WireValue):
    """``-metadata.objects[i]``: ``{"confidence": 0.09}``, index-aligned with the annotations."""

    confidence: float = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("confidence",)


@dataclass(frozen=True, slots=True)
class ObjectDetectionMetadata(WireValue):
    """``<attr>-metadata`` of a bounding-box (or adjustment) job.

    ``class_map`` maps the *string* class id to a name; GT lists only the classes used in the
    image. ``adjustment_status`` (``"adjusted"``/``"unadjusted"``) is set by adjustment jobs.
    Training manifests may carry only ``class-map`` and ``type``.
    """

    class_map: Mapping[str, str] = wire("class-map")
    objects: tuple[ObjectConfidence, ...] | None = wire(default=None)
    type: str = wire(default=OD_TYPE, required=True)
    job_name: str | None = wire("job-name", default=None)
    human_annotated: str | None = wire("human-annotated", default=None)
    creation_date: str | None = wire("creation-date", default=None)
    adjustment_status: str | None = wire("adjustment-status", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    # Observed order in a real GT output [T04].
    _ORDER: ClassVar[tuple[str, ...]] = (
        "job-name",
        "class-map",
        "human-annotated",
        "objects",
        "creation-date",
        "type",
        "adjustment-status",
    )


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True, slots=True)
class ImageClassificationMetadata(WireValue):
    """``<attr>-metadata`` of single-label image (or text) classification.

    The label itself is the class index: an integer in real outputs, a string in the docs.
    """

    class_name: str = wire("class-name")
    confidence: float | None = wire(default=None)
    type: str = wire(default=IC_TYPE, required=True)
    job_name: str | None = wire("job-name", default=None)
    human_annotated: str | None = wire("human-annotated", default=None)
    creation_date: str | None = wire("creation-date", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    # Observed order in a real GT output [SMEX].
    _ORDER: ClassVar[tuple[str, ...]] = (
        "confidence",
        "job-name",
        "class-name",
        "human-annotated",
        "creation-date",
        "type",
    )


@dataclass(frozen=True, slots=True)
class MultiLabelClassificationMetadata(WireValue):
    """``<attr>-metadata`` of multi-label classification; the label is a list of ints.
    ``class-map`` and ``confidence-map`` are keyed by the string class index."""

    class_map: Mapping[str, str] = wire("class-map")
    confidence_map: Mapping[str, float] | None = wire("confidence-map", default=None)
    type: str = wire(default=IC_MULTI_TYPE, required=True)
    job_name: str | None = wire("job-name", default=None)
    human_annotated: str | None = wire("human-annotated", default=None)
    creation_date: str | None = wire("creation-date", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "job-name",
        "class-map",
        "human-annotated",
        "creation-date",
        "confidence-map",
        "type",
    )



# --------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class WorkerFeedback(WireValue):
    """``worker-feedback[i]``: ``{"comment": "..."}`` (empty comments are dropped by GT)."""

    comment: str = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("comment",)


@dataclass(frozen=True, slots=True)
class LabelVerificationMetadata(WireValue):
    """``verify-<attr>-metadata``; the label is the class index as a *string* (``"1"``)."""

    class_name: str = wire("class-name")
    confidence: float | None = wire(default=None)
    type: str = wire(default=VERIFICATION_TYPE, required=True)
    job_name: str | None = wire("job-name", default=None)
    human_annotated: str | None = wire("human-annotated", default=None)
    creation_date: str | None = wire("creation-date", default=None)
    worker_feedback: tuple[WorkerFeedback, ...] | None = wire("worker-feedback", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "class-name",
        "confidence",
        "type",
        "job-name",
        "human-annotated",
        "creation-date",
        "worker-feedback",
    )


# --------------------------------------------------------------------------- custom / other / failed


@dataclass(frozen=True, slots=True)
class LabelMetadata(WireValue):
    """Metadata of custom jobs (``groundtruth/custom``) and of task types without a dedicated
    type here (semantic segmentation, NER, ...): the common keys, the rest in ``extra``.

    Without a post-annotation Lambda GT adds ``worker-response-ref``.
    """

    type: str | None = wire(default=CUSTOM_TYPE)
    job_name: str | None = wire("job-name", default=None)
    human_annotated: str | None = wire("human-annotated", default=None)
    creation_date: str | None = wire("creation-date", default=None)
    confidence: float | None = wire(default=None)
    worker_response_ref: str | None = wire("worker-response-ref", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "job-name",
        "type",
        "human-annotated",
        "creation-date",
        "confidence",
        "worker-response-ref",
    )


@dataclass(frozen=True, slots=True)
class FailureMetadata(WireValue):
    """Metadata of a failed object (expired task, Lambda error); the line has no label value.

    Note ``"human-annotated": "true"`` here, not ``"yes"`` (observed).
    """

    failure_reason: str = wire("failure-reason")
    retry_count: int | None = wire("retry-count", default=None)
    human_annotated: str | None = wire("human-annotated", default="true")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("retry-count", "failure-reason", "human-annotated")


Metadata = (
    ObjectDetectionMetadata
    | ImageClassificationMetadata
    | MultiLabelClassificationMetadata
    | LabelVerificationMetadata
    | LabelMetadata
    | FailureMetadata
)

_METADATA_BY_TYPE: dict[str, type[Any]] = {
    OD_TYPE: ObjectDetectionMetadata,
    IC_TYPE: ImageClassificationMetadata,
    TC_TYPE: ImageClassificationMetadata,
    IC_MULTI_TYPE: MultiLabelClassificationMetadata,
    TC_MULTI_TYPE: MultiLabelClassificationMetadata,
    VERIFICATION_TYPE: LabelVerificationMetadata,
}


def parse_metadata(d: Any, path: str = "") -> Metadata:
    """Parse a ``-metadata`` object into the type its ``type`` names (failures first).

    >>> parse_metadata({"retry-count": 1, "failure-reason": "ClientError: expired", "human-annotated": "true"})
    FailureMetadata(failure_reason='ClientError: expired', retry_count=1, human_annotated='true', extra={})
    """
    d = expect_object(d, path)
    if "failure-reason" in d:
        return FailureMetadata.from_dict(d, path)
    kind = d.get("type")
    cls = _METADATA_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return LabelMetadata.from_dict(d, path)
    result: Metadata = cls.from_dict(d, path)
    return result


def parse_label_value(value: Any, metadata: Metadata, path: str = "") -> Any:
    """Type-check (and for object detection, parse) a label value against its metadata."""
    if isinstance(metadata, ObjectDetectionMetadata):
        return ObjectDetectionLabel.from_dict(value, path)
    if isinstance(metadata, ImageClassificationMetadata):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise fail(path, f"expected a class index (integer or string), got {type_name(value)}")
        return value
    if isinstance(metadata, MultiLabelClassificationMetadata):
        for i, v in enumerate(expect_list(value, path)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise fail(index(path, i), f"expected an integer class index, got {type_name(v)}")
        return tuple(value)
    if isinstance(metadata, LabelVerificationMetadata):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise fail(path, f"expected a class index string, got {type_name(value)}")
        return value
    return value


def label_attributes(line: Mapping[str, Any]) -> list[str]:
    """The label attributes of a manifest line, in line order: keys ``X`` whose ``X-metadata``
    is a label's metadata by its own markers (``type``, ``job-name``, ``failure-reason``,
    ``class-name``, ...; see :mod:`gtflow.wire.task_types`), including failed objects (a
    ``-metadata`` without a value). A key that only ends in ``-metadata`` is not a label:

    >>> label_attributes({"source-ref": "s3://b/k", "a": 1, "a-metadata": {"type": "groundtruth/custom"},
    ...                   "b-metadata": {"failure-reason": "ClientError"}, "cl-metadata": {"is_labeled": True}})
    ['a', 'b']
    """
    from gtflow.wire.task_types import label_attribute_names

    return label_attribute_names(line)


_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class OutputLabel:
    """One ``<attr>`` + ``<attr>-metadata`` pair of an output-manifest line.

    ``value`` is ``None`` for failed objects (no label written). Object-detection values are
    :class:`ObjectDetectionLabel`, multi-label values tuples of ints, others JSON values.

    >>> line = {"source-ref": "s3://b/img.jpg", "species": 9, "species-metadata": {
    ...     "confidence": 0.95, "job-name": "labeling-job/species", "class-name": "Falcon",
    ...     "human-annotated": "yes", "creation-date": "2019-04-18T16:11:15.000000",
    ...     "type": "groundtruth/image-classification"}}
    >>> lab = OutputLabel.from_line(line, "species")
    >>> lab.value, lab.metadata.class_name
    (9, 'Falcon')
    >>> lab.add_to({"source-ref": "s3://b/img.jpg"}) == line
    True
    """

    attribute: str
    value: Any
    metadata: Metadata

    @property
    def failed(self) -> bool:
        return isinstance(self.metadata, FailureMetadata)

    @classmethod
    def from_line(cls, line: Mapping[str, Any], attribute: str, path: str = "") -> OutputLabel:
        meta_key = metadata_key(attribute)
        if meta_key not in line:
            raise fail(join(path, meta_key), "missing required field")
        metadata = parse_metadata(line[meta_key], join(path, meta_key))
        raw = line.get(attribute, _MISSING)
        if raw is _MISSING:
            if not isinstance(metadata, FailureMetadata):
                raise fail(join(path, attribute), "missing required field")
            return cls(attribute, None, metadata)
        return cls(attribute, parse_label_value(raw, metadata, join(path, attribute)), metadata)

    def to_items(self) -> dict[str, Any]:
        """``{attr: value, attr-metadata: {...}}`` (no value for a failed object)."""
        out: dict[str, Any] = {}
        if not (self.failed and self.value is None):
            out[self.attribute] = encode(self.value)
        out[metadata_key(self.attribute)] = self.metadata.to_dict()
        return out

    def add_to(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``line`` with this label (replacing an earlier value of the attribute)."""
        out = {
            k: v for k, v in line.items() if k not in (self.attribute, metadata_key(self.attribute))
        }
        out.update(self.to_items())
        return out


# --------------------------------------------------------------------------- builders


def _box_field(box: Any, name: str, i: int) -> Any:
    if isinstance(box, Mapping):
        if name not in box:
            raise fail(f"boxes[{i}].{name}", "missing required field")
        return box[name]
    if not hasattr(box, name):
        raise fail(f"boxes[{i}].{name}", "missing required field")
    return getattr(box, name)


def _pixel(box: Any, name: str, i: int) -> int:
    return _finite_int(_box_field(box, name, i), f"boxes[{i}].{name}")


def _finite_int(v: Any, where: str, *, positive: bool = False) -> int:
    """A pixel count from a JSON number: NaN, infinities (``1e400``) and strings are typed errors."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise fail(where, f"expected a number, got {type_name(v)}")
    if not math.isfinite(v):
        raise fail(where, f"expected a finite number, got {v!r}")
    n = whole_pixel(v)
    if positive and n <= 0:
        raise fail(where, f"expected a positive number, got {v!r}")
    return n


def _class_ids(class_map: Mapping[str, int] | Sequence[str]) -> dict[str, int]:
    if isinstance(class_map, Mapping):
        return {str(k): int(v) for k, v in class_map.items()}
    return {name: i for i, name in enumerate(class_map)}


def object_detection_label(
    boxes: Iterable[Any],
    class_map: Mapping[str, int] | Sequence[str],
    *,
    image_width: int,
    image_height: int,
    image_depth: int = 3,
    job_name: str,
    confidences: float | Sequence[float] = 1,
    human_annotated: str = "yes",
    creation_date: str | _dt.datetime | None = None,
    full_class_map: bool = False,
    adjustment_status: str | None = None,
) -> tuple[ObjectDetectionLabel, ObjectDetectionMetadata]:
    """Build an object-detection label and its metadata from boxes and a class map.

    ``boxes``: mappings or objects with ``label, left, top, width, height`` (crowd-bounding-box
    output boxes fit); pixel values are rounded to integers (:func:`whole_pixel`, half up). ``class_map``: label name to class
    id, or a list of names (index = id). ``class-map`` lists only the classes used (as GT does)
    unless ``full_class_map`` (as the A2I-retraining samples do). ``confidences``: one value for
    all boxes or one per box. ``job_name``: the full value, e.g. ``labeling_job_ref(name)`` or
    ``a2i_job_ref(loop)``.
    """
    ids = _class_ids(class_map)
    box_list = list(boxes)
    if isinstance(confidences, (int, float)) and not isinstance(confidences, bool):
        confs = [confidences] * len(box_list)
    else:
        confs = list(confidences)  # type: ignore[arg-type]
        if len(confs) != len(box_list):
            raise fail("confidences", f"{len(confs)} confidences for {len(box_list)} boxes")
    annotations = []
    used: set[int] = set()
    for i, box in enumerate(box_list):
        label = _box_field(box, "label", i)
        if not isinstance(label, str) or label not in ids:
            raise fail(f"boxes[{i}].label", f"label {label!r} is not in the class map")
        cid = ids[label]
        used.add(cid)
        annotations.append(
            BoundingBoxAnnotation(
                class_id=cid,
                left=_pixel(box, "left", i),
                top=_pixel(box, "top", i),
                width=_pixel(box, "width", i),
                height=_pixel(box, "height", i),
            )
        )
    by_id = sorted(((cid, name) for name, cid in ids.items()), key=lambda t: t[0])
    cmap = {str(cid): name for cid, name in by_id if full_class_map or cid in used}
    if isinstance(creation_date, _dt.datetime) or creation_date is None:
        creation_date = format_creation_date(creation_date)
    label = ObjectDetectionLabel(
        annotations=tuple(annotations),
        image_size=(
            ImageSize(width=_finite_int(image_width, "image_width", positive=True),
                      height=_finite_int(image_height, "image_height", positive=True),
                      depth=_finite_int(image_depth, "image_depth", positive=True)),
        ),
    )
    meta = ObjectDetectionMetadata(
        class_map=cmap,
        objects=tuple(ObjectConfidence(c) for c in confs),
        type=OD_TYPE,
        job_name=job_name,
        human_annotated=human_annotated,
        creation_date=creation_date,
        adjustment_status=adjustment_status,
    )
    return label, meta


def _date(creation_date: str | _dt.datetime | None) -> str:
    if isinstance(creation_date, str):
        return creation_date
    return format_creation_date(creation_date)


def image_classification_label(
    class_id: int,
    class_name: str,
    *,
    job_name: str,
    confidence: float = 0.0,
    human_annotated: str = "yes",
    creation_date: str | _dt.datetime | None = None,
    text: bool = False,
) -> tuple[int, ImageClassificationMetadata]:
    """A single-label classification value (the integer class index) and its metadata.

    >>> v, m = image_classification_label(9, "Falcon", job_name="labeling-job/birds",
    ...                                   confidence=0.95, creation_date="2019-04-18T16:11:15.000000")
    >>> v, list(m.to_dict())
    (9, ['confidence', 'job-name', 'class-name', 'human-annotated', 'creation-date', 'type'])
    """
    return int(class_id), ImageClassificationMetadata(
        class_name=class_name,
        confidence=confidence,
        type=TC_TYPE if text else IC_TYPE,
        job_name=job_name,
        human_annotated=human_annotated,
        creation_date=_date(creation_date),
    )


def multilabel_classification_label(
    labels: Mapping[int, float] | Sequence[int],
    class_names: Mapping[int, str] | Sequence[str],
    *,
    job_name: str,
    human_annotated: str = "yes",
    creation_date: str | _dt.datetime | None = None,
    text: bool = False,
) -> tuple[tuple[int, ...], MultiLabelClassificationMetadata]:
    """A multi-label value (list of class indexes) and its metadata.

    ``labels``: the chosen class ids, or a mapping id -> confidence.
    """
    names = dict(class_names) if isinstance(class_names, Mapping) else dict(enumerate(class_names))
    confs = dict(labels) if isinstance(labels, Mapping) else {int(c): 0.0 for c in labels}
    for cid in confs:
        if cid not in names:
            raise fail("labels", f"class id {cid} has no name")
    ids = tuple(int(c) for c in confs)
    return ids, MultiLabelClassificationMetadata(
        class_map={str(c): names[c] for c in ids},
        confidence_map={str(c): confs[c] for c in ids},
        type=TC_MULTI_TYPE if text else IC_MULTI_TYPE,
        job_name=job_name,
        human_annotated=human_annotated,
        creation_date=_date(creation_date),
    )


def label_verification_label(
    class_id: int,
    class_name: str,
    *,
    job_name: str,
    confidence: float = 0.0,
    comments: Iterable[str] = (),
    human_annotated: str = "yes",
    creation_date: str | _dt.datetime | None = None,
) -> tuple[str, LabelVerificationMetadata]:
    """A verification value (the class index as a string) and its metadata; empty comments
    are dropped as GT does."""
    feedback = tuple(WorkerFeedback(c) for c in comments if c and c.strip())
    return str(class_id), LabelVerificationMetadata(
        class_name=class_name,
        confidence=confidence,
        type=VERIFICATION_TYPE,
        job_name=job_name,
        human_annotated=human_annotated,
        creation_date=_date(creation_date),
        worker_feedback=feedback or None,
    )


def custom_label(
    value: Any,
    *,
    job_name: str,
    type: str = CUSTOM_TYPE,
    human_annotated: str = "yes",
    creation_date: str | _dt.datetime | None = None,
    **extra: Any,
) -> tuple[Any, LabelMetadata]:
    """A custom-task value (any JSON) and ``groundtruth/custom`` metadata; ``extra`` keys are
    written after the common ones (pass hyphenated keys via ``**{"k-k": v}``)."""
    return value, LabelMetadata(
        type=type,
        job_name=job_name,
        human_annotated=human_annotated,
        creation_date=_date(creation_date),
        extra=extra,
    )


def failure_metadata(reason: str, *, retry_count: int = 1) -> FailureMetadata:
    """Metadata of a failed object, as GT writes it.

    >>> failure_metadata("ClientError: Annotation tasks expired.").to_dict()
    {'retry-count': 1, 'failure-reason': 'ClientError: Annotation tasks expired.', 'human-annotated': 'true'}
    """
    return FailureMetadata(failure_reason=reason, retry_count=retry_count, human_annotated="true")
