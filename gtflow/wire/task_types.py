"""Task types of output-manifest labels, and how label attributes are found.

A label attribute is a key ``X`` with a sibling ``X-metadata`` that is a **label's** metadata:
one that carries GT's own markers (``type``, ``job-name``, ``failure-reason``, ``class-name``,
``class-map``, ``human-annotated``, ...). A key that merely ends in ``-metadata`` is not enough:
real lines carry ``annotator-metadata`` (custom jobs), ``cl-metadata`` (Rekognition Custom
Labels) and ``source-ref-metadata`` (3D point clouds, Lookout for Vision), which are data.

Each label gets a :class:`TaskType` from its metadata ``type`` (the documented strings), or,
when ``type`` is missing, from the shape of its value.

    >>> line = {"source-ref": "s3://b/frame1.bin",
    ...         "source-ref-metadata": {"format": "binary/xyzi", "unix-timestamp": 1566861644.7},
    ...         "cl-metadata": {"is_labeled": True},
    ...         "boxes": {"annotations": [], "image_size": [{"width": 2, "height": 2, "depth": 3}]},
    ...         "boxes-metadata": {"class-map": {}, "type": "groundtruth/object-detection"}}
    >>> [(a.attribute, a.task_type.value) for a in find_label_attributes(line)]
    [('boxes', 'object-detection')]
    >>> label_attribute_names(line)
    ['boxes']

:func:`label_units` counts what a label holds in its task's own terms (boxes per class,
classes, masks, entities per label, sequences, cuboids per class); ``manifest stats`` uses it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TaskType",
    "LabelAttribute",
    "METADATA_SUFFIX",
    "TYPE_STRINGS",
    "is_label_metadata",
    "task_type_of",
    "find_label_attributes",
    "label_attribute_names",
    "classification_type",
    "check_label_value",
    "label_units",
    "LabelUnits",
]

METADATA_SUFFIX = "-metadata"

# Keys only a label's metadata carries (GT writes at least one of them on every label).
_MARKERS = (
    "type",
    "job-name",
    "job_name",  # the custom-template demo output in the docs spells it so
    "failure-reason",
    "class-name",
    "class-map",
    "class_map",  # 3D point cloud object detection (documented spelling)
    "human-annotated",
    "internal-color-map",
    "color-map",
)


class TaskType(str, enum.Enum):
    """What kind of label an attribute holds (values are stable, kebab-case names)."""

    OBJECT_DETECTION = "object-detection"
    IMAGE_CLASSIFICATION = "image-classification"
    IMAGE_CLASSIFICATION_MULTILABEL = "image-classification-multilabel"
    TEXT_CLASSIFICATION = "text-classification"
    TEXT_CLASSIFICATION_MULTILABEL = "text-classification-multilabel"
    SEMANTIC_SEGMENTATION = "semantic-segmentation"
    LABEL_VERIFICATION = "label-verification"
    NAMED_ENTITY_RECOGNITION = "named-entity-recognition"
    VIDEO_OBJECT_DETECTION = "video-object-detection"
    VIDEO_OBJECT_TRACKING = "video-object-tracking"
    POINT_CLOUD_OBJECT_DETECTION = "point-cloud-object-detection"
    POINT_CLOUD_OBJECT_TRACKING = "point-cloud-object-tracking"
    POINT_CLOUD_SEMANTIC_SEGMENTATION = "point-cloud-semantic-segmentation"
    CUSTOM = "custom"
    FAILED = "failed"
    UNKNOWN = "unknown"


# The metadata ``type`` strings GT documents (sms-data-output), lower-cased.
TYPE_STRINGS: dict[str, TaskType] = {
    "groundtruth/object-detection": TaskType.OBJECT_DETECTION,
    "groundtruth/image-classification": TaskType.IMAGE_CLASSIFICATION,
    "groundtruth/image-classification-multilabel": TaskType.IMAGE_CLASSIFICATION_MULTILABEL,
    "groundtruth/text-classification": TaskType.TEXT_CLASSIFICATION,
    "groundtruth/text-classification-multilabel": TaskType.TEXT_CLASSIFICATION_MULTILABEL,
    "groundtruth/semantic-segmentation": TaskType.SEMANTIC_SEGMENTATION,
    "groundtruth/label-verification": TaskType.LABEL_VERIFICATION,
    "groundtruth/text-span": TaskType.NAMED_ENTITY_RECOGNITION,
    "groundtruth/video-object-detection": TaskType.VIDEO_OBJECT_DETECTION,
    "groundtruth/video-object-tracking": TaskType.VIDEO_OBJECT_TRACKING,
    "groundtruth/lidar_object_detection": TaskType.POINT_CLOUD_OBJECT_DETECTION,
    "groundtruth/point_cloud_object_detection": TaskType.POINT_CLOUD_OBJECT_DETECTION,
    "groundtruth/lidar_object_tracking": TaskType.POINT_CLOUD_OBJECT_TRACKING,
    "groundtruth/point_cloud_object_tracking": TaskType.POINT_CLOUD_OBJECT_TRACKING,
    "groundtruth/lidar_single_frame_semantic_segmentation": TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION,
    "groundtruth/point_cloud_single_frame_semantic_segmentation": TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION,
    "groundtruth/custom": TaskType.CUSTOM,
}

_SEQUENCE_TASKS = frozenset(
    {
        TaskType.VIDEO_OBJECT_DETECTION,
        TaskType.VIDEO_OBJECT_TRACKING,
        TaskType.POINT_CLOUD_OBJECT_TRACKING,
    }
)


def is_label_metadata(value: Any) -> bool:
    """Whether ``value`` (the value of some ``X-metadata`` key) is a label's metadata.

    >>> is_label_metadata({"Info": "Annotate Required Entities"})   # annotator-metadata
    False
    >>> is_label_metadata({"creation-date": "2020-05-22T21:33:37.201882"})   # source-ref-metadata
    False
    >>> is_label_metadata({"retry-count": 1, "failure-reason": "ClientError: expired"})
    True
    """
    if not isinstance(value, Mapping):
        return False
    return any(k in value for k in _MARKERS)


def classification_type(*, text: bool, multilabel: bool) -> str:
    """The metadata ``type`` GT writes for a classification label.

    GT's docs: ``groundtruth/text-classification`` for text objects (``source``),
    ``groundtruth/image-classification`` for images (``source-ref``), each with a
    ``-multilabel`` variant.

    >>> classification_type(text=True, multilabel=False)
    'groundtruth/text-classification'
    """
    kind = "text" if text else "image"
    return f"groundtruth/{kind}-classification" + ("-multilabel" if multilabel else "")


def _shape_type(value: Any, metadata: Mapping[str, Any]) -> TaskType:
    """The task type of a label whose metadata has no (known) ``type``: from its shape."""
    if isinstance(value, Mapping):
        anns = value.get("annotations")
        if isinstance(anns, list) and "image_size" in value:
            return TaskType.OBJECT_DETECTION
        if isinstance(anns, Mapping) and "entities" in anns:
            return TaskType.NAMED_ENTITY_RECOGNITION
        if isinstance(anns, list) and any(isinstance(a, Mapping) and "center-x" in a for a in anns):
            return TaskType.POINT_CLOUD_OBJECT_DETECTION
    if "internal-color-map" in metadata:
        return TaskType.SEMANTIC_SEGMENTATION
    if "color-map" in metadata:
        return TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION
    if isinstance(value, str) and value.endswith("SeqLabel.json"):
        return TaskType.VIDEO_OBJECT_TRACKING if "tracking" in str(metadata.get("type", "")) else TaskType.UNKNOWN
    if "class-name" in metadata and isinstance(value, (int, str)) and not isinstance(value, bool):
        return TaskType.IMAGE_CLASSIFICATION
    return TaskType.UNKNOWN


def task_type_of(metadata: Mapping[str, Any], value: Any = None) -> TaskType:
    """The task type a label's metadata (and value) name.

    >>> task_type_of({"type": "groundtruth/text-span"}).value
    'named-entity-recognition'
    >>> task_type_of({"type": "groundTruth/custom", "job_name": "x"}).value   # documented demo spelling
    'custom'
    >>> task_type_of({"failure-reason": "ClientError: expired"}).value
    'failed'
    """
    if "failure-reason" in metadata:
        return TaskType.FAILED
    kind = metadata.get("type")
    if isinstance(kind, str):
        found = TYPE_STRINGS.get(kind.strip().lower())
        if found is not None:
            return found
    return _shape_type(value, metadata)


_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class LabelAttribute:
    """One label of a manifest line: where its value and metadata are and what task made it.

    ``value_key`` is ``attribute``, or ``None`` when the line has no value (a failed object;
    for any other metadata a missing value is a problem).
    """

    attribute: str
    task_type: TaskType
    metadata_type: str | None
    value_key: str | None
    adjusted: bool = False

    @property
    def metadata_key(self) -> str:
        return self.attribute + METADATA_SUFFIX

    @property
    def failed(self) -> bool:
        return self.task_type is TaskType.FAILED

    def value(self, line: Mapping[str, Any]) -> Any:
        return None if self.value_key is None else line.get(self.value_key)

    def metadata(self, line: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = line.get(self.metadata_key)
        return meta if isinstance(meta, Mapping) else {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"attribute": self.attribute, "taskType": self.task_type.value}
        if self.metadata_type is not None:
            out["type"] = self.metadata_type
        if self.adjusted:
            out["adjustment"] = True
        return out


def _iter_labels(line: Mapping[str, Any]) -> Iterator[LabelAttribute]:
    for key, meta in line.items():
        if not key.endswith(METADATA_SUFFIX) or not is_label_metadata(meta):
            continue
        attr = key[: -len(METADATA_SUFFIX)]
        value_key = attr if attr in line else None
        value = line.get(value_key) if value_key is not None else None
        kind = meta.get("type")
        yield LabelAttribute(
            attribute=attr,
            task_type=task_type_of(meta, value),
            metadata_type=kind if isinstance(kind, str) else None,
            value_key=value_key,
            adjusted="adjustment-status" in meta,
        )


def find_label_attributes(line: Mapping[str, Any]) -> list[LabelAttribute]:
    """The labels of a manifest line, in line order (see the module docstring)."""
    return list(_iter_labels(line))


def label_attribute_names(line: Mapping[str, Any]) -> list[str]:
    """Just the attribute names of :func:`find_label_attributes`."""
    return [a.attribute for a in _iter_labels(line)]


# --------------------------------------------------------------------------- value checks


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _uri_problem(value: Any, what: str) -> list[tuple[str, str]]:
    if not isinstance(value, str) or not value:
        return [("", f"expected the {what} location (a string)")]
    return []


def check_label_value(label: LabelAttribute, line: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Structural problems of the label value for its task type, as ``(field, message)``
    pairs (``field`` relative to the value). Object detection and classification values are
    checked by their wire types (:class:`gtflow.wire.OutputLabel`); this covers the task
    types that have none.
    """
    t = label.task_type
    value = label.value(line)
    meta = label.metadata(line)
    if label.value_key is None:
        return [] if t is TaskType.FAILED else [("", "missing label value")]
    if t in (TaskType.SEMANTIC_SEGMENTATION, TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION):
        out = _uri_problem(value, "mask")
        cmap = meta.get("internal-color-map", meta.get("color-map"))
        if not isinstance(cmap, Mapping):
            out.append(("-metadata.internal-color-map", "missing colour map"))
        return out
    if t in _SEQUENCE_TASKS:
        return _uri_problem(value, "SeqLabel.json")
    if t is TaskType.NAMED_ENTITY_RECOGNITION:
        anns = value.get("annotations") if isinstance(value, Mapping) else None
        ents = anns.get("entities") if isinstance(anns, Mapping) else None
        if not isinstance(ents, list):
            return [("annotations.entities", "expected a list of entities")]
        out = []
        for i, e in enumerate(ents):
            ok = (
                isinstance(e, Mapping)
                and isinstance(e.get("label"), str)
                and _is_int(e.get("startOffset"))
                and _is_int(e.get("endOffset"))
            )
            if not ok:
                out.append((f"annotations.entities[{i}]", "expected {label, startOffset, endOffset}"))
            elif e["endOffset"] < e["startOffset"]:
                out.append((f"annotations.entities[{i}].endOffset", "ends before it starts"))
        return out
    if t is TaskType.POINT_CLOUD_OBJECT_DETECTION:
        anns = value.get("annotations") if isinstance(value, Mapping) else None
        if not isinstance(anns, list):
            return [("annotations", "expected a list of cuboids")]
        keys = ("center-x", "center-y", "center-z", "length", "width", "height")
        return [
            (f"annotations[{i}]", "expected a cuboid (class-id, center-x/y/z, length, width, height)")
            for i, c in enumerate(anns)
            if not (isinstance(c, Mapping) and _is_int(c.get("class-id")) and all(_is_num(c.get(k)) for k in keys))
        ]
    return []


# --------------------------------------------------------------------------- counting


@dataclass
class LabelUnits:
    """What one label holds, in its task's terms (see :func:`label_units`)."""

    classes: list[str]
    boxes: int | None = None  # object detection: boxes on this image (None: not a box label)
    masks: int = 0
    entities: list[str] | None = None
    sequences: int = 0
    cuboids: list[str] | None = None
    confidences: list[Any] | None = None


def _name(cmap: Any, cid: Any) -> str:
    if isinstance(cmap, Mapping):
        name = cmap.get(str(cid))
        if isinstance(name, str):
            return name
    return str(cid)


def _confs(items: Any, key: str = "confidence") -> list[Any]:
    if not isinstance(items, list):
        return []
    return [o.get(key) for o in items if isinstance(o, Mapping)]


def label_units(label: LabelAttribute, line: Mapping[str, Any]) -> LabelUnits:
    """Count one label: boxes per class (object detection), the class(es) (classification,
    verification), one mask (semantic segmentation, not its colour map's classes), entities
    per label (NER), one sequence (video and point-cloud tracking: the frames are in the
    SeqLabel.json it points to), cuboids per class (3D point cloud).

    >>> line = {"source": "Bob was born on Jan 1 1990.", "ner": {"annotations": {
    ...     "entities": [{"endOffset": 3, "startOffset": 0, "label": "Person"}],
    ...     "labels": [{"label": "Person"}]}},
    ...     "ner-metadata": {"entities": [{"confidence": 0.08}], "type": "groundtruth/text-span"}}
    >>> u = label_units(find_label_attributes(line)[0], line)
    >>> u.entities, u.boxes, u.classes
    (['Person'], None, [])
    """
    t = label.task_type
    value = label.value(line)
    meta = label.metadata(line)
    cmap = meta.get("class-map", meta.get("class_map"))
    if t is TaskType.OBJECT_DETECTION or (t is TaskType.UNKNOWN and isinstance(value, Mapping) and "image_size" in value):
        anns = value.get("annotations") if isinstance(value, Mapping) else None
        anns = anns if isinstance(anns, list) else []
        names = [_name(cmap, a.get("class_id")) for a in anns if isinstance(a, Mapping)]
        return LabelUnits(classes=names, boxes=len(anns), confidences=_confs(meta.get("objects")))
    if t is TaskType.NAMED_ENTITY_RECOGNITION:
        anns = value.get("annotations") if isinstance(value, Mapping) else None
        ents = anns.get("entities") if isinstance(anns, Mapping) else None
        ents = ents if isinstance(ents, list) else []
        return LabelUnits(
            classes=[],
            entities=[str(e.get("label")) for e in ents if isinstance(e, Mapping)],
            confidences=_confs(meta.get("entities")),
        )
    if t is TaskType.POINT_CLOUD_OBJECT_DETECTION:
        anns = value.get("annotations") if isinstance(value, Mapping) else None
        anns = anns if isinstance(anns, list) else []
        return LabelUnits(
            classes=[], cuboids=[_name(cmap, c.get("class-id")) for c in anns if isinstance(c, Mapping)]
        )
    if t in (TaskType.SEMANTIC_SEGMENTATION, TaskType.POINT_CLOUD_SEMANTIC_SEGMENTATION):
        cm = meta.get("internal-color-map", meta.get("color-map"))
        confs = [c.get("confidence") for c in cm.values() if isinstance(c, Mapping)] if isinstance(cm, Mapping) else []
        return LabelUnits(classes=[], masks=1 if value is not None else 0, confidences=confs[:1])
    if t in _SEQUENCE_TASKS:
        return LabelUnits(classes=[], sequences=1 if value is not None else 0)
    if t in (TaskType.IMAGE_CLASSIFICATION_MULTILABEL, TaskType.TEXT_CLASSIFICATION_MULTILABEL) or isinstance(value, list):
        vals = value if isinstance(value, list) else []
        cm = meta.get("confidence-map")
        return LabelUnits(
            classes=[_name(cmap, c) for c in vals],
            confidences=list(cm.values()) if isinstance(cm, Mapping) else [],
        )
    if t in (TaskType.FAILED, TaskType.CUSTOM):
        return LabelUnits(classes=[])
    name = meta.get("class-name")
    if isinstance(name, str):
        return LabelUnits(classes=[name], confidences=[meta.get("confidence")])
    if value is not None and not isinstance(value, (Mapping, list)):
        return LabelUnits(classes=[_name(cmap, value)], confidences=[meta.get("confidence")])
    return LabelUnits(classes=[])
