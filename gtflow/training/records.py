"""Typed views of an object-detection augmented-manifest line (CONTRACTS.md 3.2, 3.7).

A Ground Truth bounding-box line is ``{"source-ref": uri, ATTR: {"image_size": [...],
"annotations": [...]}, "ATTR-metadata": {"class-map": {...}, "creation-date": ..., ...}}``.
These values read such lines tolerantly (unknown keys are kept in ``raw``) and write the label
back with AWS's key names.

    >>> line = {"source-ref": "s3://b/1.jpg",
    ...         "bb": {"image_size": [{"width": 50, "height": 40, "depth": 3}],
    ...                "annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}]},
    ...         "bb-metadata": {"class-map": {"0": "dog"}}}
    >>> rec = DetectionRecord.from_line(line, "bb")
    >>> rec.label.annotations[0].xyxy
    (1, 2, 4, 6)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ContractError, ManifestError
from gtflow.wire.output import (
    BoundingBoxAnnotation,
    ObjectDetectionLabel,
    ObjectDetectionMetadata,
    class_ids,
    creation_date_of,
    metadata_key,
    whole_pixel,
)

__all__ = ["Box", "DetectionLabel", "DetectionRecord", "parse_creation_date", "union_class_map"]


def _read(parse: Any, value: Any, field_name: str, path: str | None, line: int | None) -> Any:
    """Parse through wire; its ContractError becomes a ManifestError naming file, line, field."""
    try:
        return parse(value, field_name)
    except ContractError as exc:
        raise ManifestError(exc.message, path=path, line=line, field=exc.field) from None


@dataclass(frozen=True)
class Box:
    """One annotation in whole pixels (origin top-left), as the SageMaker Object Detection
    algorithm's manifest has them: fractional GT values (``588.5`` in consolidated
    multi-worker lines) are read by :mod:`gtflow.wire` and rounded once, by
    :func:`gtflow.wire.output.whole_pixel`."""

    class_id: int
    left: int
    top: int
    width: int
    height: int

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.left + self.width, self.top + self.height)

    @classmethod
    def from_wire(cls, a: BoundingBoxAnnotation) -> Box:
        return cls(a.class_id, whole_pixel(a.left), whole_pixel(a.top), whole_pixel(a.width), whole_pixel(a.height))

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], *, field_name: str = "", path: str | None = None, line: int | None = None
    ) -> Box:
        a = _read(BoundingBoxAnnotation.from_dict, d, field_name, path, line)
        if a.class_id < 0:
            raise ManifestError("negative class_id", path=path, line=line, field=f"{field_name}.class_id")
        return cls.from_wire(a)

    def to_dict(self) -> dict[str, int]:
        return {"class_id": self.class_id, "left": self.left, "top": self.top,
                "width": self.width, "height": self.height}


@dataclass(frozen=True)
class DetectionLabel:
    """The value of the label attribute: ``image_size`` (one entry) and ``annotations``."""

    width: int
    height: int
    depth: int = 3
    annotations: tuple[Box, ...] = ()

    @classmethod
    def from_dict(
        cls, d: Any, *, field_name: str = "", path: str | None = None, line: int | None = None
    ) -> DetectionLabel:
        label = _read(ObjectDetectionLabel.from_dict, d, field_name, path, line)
        for i, a in enumerate(label.annotations):
            if a.class_id < 0:
                raise ManifestError("negative class_id", path=path, line=line,
                                    field=f"{field_name}.annotations[{i}].class_id")
        size = label.size
        return cls(width=size.width, height=size.height, depth=3 if size.depth is None else size.depth,
                   annotations=tuple(Box.from_wire(a) for a in label.annotations))

    def to_dict(self) -> dict[str, Any]:
        return {
            "image_size": [{"width": self.width, "height": self.height, "depth": self.depth}],
            "annotations": [b.to_dict() for b in self.annotations],
        }


def parse_creation_date(value: Any) -> _dt.datetime | None:
    """GT's ``2019-01-29T13:29:11.798957`` or A2I's ``2020-01-01T00:00:00.123Z`` as naive UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return parsed


@dataclass(frozen=True)
class DetectionRecord:
    """One manifest line seen through a label attribute; ``raw`` is the whole line."""

    source_ref: str
    label: DetectionLabel
    class_map: Mapping[int, str]
    creation_date: _dt.datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_line(
        cls, line: Mapping[str, Any], label_attribute: str, *, path: str | None = None, line_no: int | None = None
    ) -> DetectionRecord:
        if not isinstance(line, Mapping):
            raise ManifestError("manifest line must be a JSON object", path=path, line=line_no)
        ref = line.get("source-ref")
        if not isinstance(ref, str) or not ref:
            raise ManifestError("missing source-ref", path=path, line=line_no, field="source-ref")
        if label_attribute not in line:
            raise ManifestError("missing label attribute", path=path, line=line_no, field=label_attribute)
        label = DetectionLabel.from_dict(line[label_attribute], field_name=label_attribute, path=path, line=line_no)
        meta_key = metadata_key(label_attribute)
        meta = line.get(meta_key) or {}
        if not isinstance(meta, Mapping):
            raise ManifestError("metadata must be an object", path=path, line=line_no, field=meta_key)
        cmap = _read(class_ids, meta, meta_key, path, line_no)
        return cls(
            source_ref=ref,
            label=label,
            class_map=cmap,
            creation_date=parse_creation_date(creation_date_of(meta)),
            raw=dict(line),
        )


def union_class_map(
    records: Iterable[DetectionRecord], *, path: str | None = None
) -> dict[int, str]:
    """Merge the per-line class maps; one id naming two classes (or one name, two ids) is an error."""
    out: dict[int, str] = {}
    by_name: dict[str, int] = {}
    for i, rec in enumerate(records, start=1):
        for cid, name in rec.class_map.items():
            if out.get(cid, name) != name:
                raise ManifestError(
                    f"class id {cid} is {out[cid]!r} elsewhere but {name!r} here", path=path, line=i,
                    field=ObjectDetectionMetadata.key_of("class_map"),
                )
            if by_name.get(name, cid) != cid:
                raise ManifestError(
                    f"class {name!r} has id {by_name[name]} elsewhere but {cid} here", path=path, line=i,
                    field=ObjectDetectionMetadata.key_of("class_map"),
                )
            out[cid] = name
            by_name[name] = cid
    return dict(sorted(out.items()))
