"""``manifest_stats``: what a manifest holds (lines, labels per class, boxes per image,
confidences), in one streaming pass with memory bounded by the number of classes.

    >>> import io
    >>> s = manifest_stats(io.BytesIO(b'{"source-ref":"s3://bucket/1.jpg","label":"cat","confidence":93.5}\\n'))
    >>> s.lines, dict(s.labels)
    (1, {'cat': 1})
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gtflow.manifest._streams import Source, describe
from gtflow.manifest.reader import read_manifest
from gtflow.store.base import ObjectStore
from gtflow.wire.task_types import LabelAttribute, find_label_attributes, label_units

__all__ = ["ManifestStats", "manifest_stats", "HISTOGRAM_BINS"]

HISTOGRAM_BINS = 10


@dataclass
class ManifestStats:
    """Counts from one pass over a manifest, each task type in its own terms.

    ``labels`` counts labels per class name: boxes for object detection, one per line for
    classification and verification, and the ``label`` key of input lines (CSV and batch
    manifests). ``boxes_per_image`` maps a box count to how many images have it (object
    detection only). ``task_types`` counts labels per :class:`~gtflow.wire.task_types.TaskType`;
    ``masks`` counts semantic-segmentation masks (their colour maps are not class labels),
    ``entities`` named entities per label, ``sequences`` video / point-cloud tracking sequences
    (their frames are in the SeqLabel.json each points to), ``cuboids`` 3D cuboids per class.
    ``confidence_histogram()`` bins every confidence seen (metadata ``confidence``,
    ``objects[].confidence``, ``confidence-map`` values, an input line's ``confidence``).
    """

    path: str
    lines: int = 0
    source_refs: int = 0
    sources: int = 0
    label_types: Counter[str] = field(default_factory=Counter)
    task_types: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    boxes_per_image: Counter[int] = field(default_factory=Counter)
    masks: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    sequences: int = 0
    cuboids: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    _fine: Counter[float] = field(default_factory=Counter, repr=False)
    _out_of_range: int = 0

    @property
    def images_with_boxes(self) -> int:
        return sum(c for k, c in self.boxes_per_image.items() if k)

    @property
    def boxes(self) -> int:
        return sum(k * c for k, c in self.boxes_per_image.items())

    def add_confidence(self, value: Any) -> None:
        if type(value) not in (int, float) or not math.isfinite(value):
            return
        if 0 <= value <= 1:
            self._fine[math.floor(value * 100) / 100] += 1
        elif 1 < value <= 100:
            self._fine[float(math.floor(value))] += 1
        else:
            self._out_of_range += 1

    def confidence_histogram(self) -> list[tuple[float, float, int]]:
        """``(low, high, count)`` for 10 equal bins over 0..1, or over 0..100 when any
        confidence is above 1 (a percent scale, as Rekognition and many CSVs use)."""
        if not self._fine:
            return []
        top = 100.0 if max(self._fine) > 1 else 1.0
        width = top / HISTOGRAM_BINS
        counts = [0] * HISTOGRAM_BINS
        for value, count in self._fine.items():
            counts[min(int(value / width + 1e-9), HISTOGRAM_BINS - 1)] += count
        return [(round(i * width, 6), round((i + 1) * width, 6), c) for i, c in enumerate(counts)]

    @property
    def confidences(self) -> int:
        return sum(self._fine.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "sourceRefs": self.source_refs,
            "sources": self.sources,
            "failed": self.failed,
            "labelTypes": dict(self.label_types),
            "taskTypes": dict(self.task_types),
            "labels": dict(self.labels.most_common()),
            "boxes": self.boxes,
            "boxesPerImage": {str(k): v for k, v in sorted(self.boxes_per_image.items())},
            "masks": self.masks,
            "entities": dict(self.entities.most_common()),
            "sequences": self.sequences,
            "cuboids": dict(self.cuboids.most_common()),
            "confidenceHistogram": [
                {"low": lo, "high": hi, "count": c} for lo, hi, c in self.confidence_histogram()
            ],
            "confidencesOutOfRange": self._out_of_range,
        }


def _add_label(stats: ManifestStats, rec: dict[str, Any], label: LabelAttribute) -> None:
    kind = label.metadata(rec).get("type")
    if kind is not None:
        stats.label_types[str(kind)] += 1
    stats.task_types[label.task_type.value] += 1
    if label.failed:
        if label.value(rec) is None:
            stats.failed += 1
        return
    units = label_units(label, rec)
    stats.labels.update(units.classes)
    if units.boxes is not None:
        stats.boxes_per_image[units.boxes] += 1
    stats.masks += units.masks
    stats.sequences += units.sequences
    if units.entities is not None:
        stats.entities.update(units.entities)
    if units.cuboids is not None:
        stats.cuboids.update(units.cuboids)
    for c in units.confidences or ():
        stats.add_confidence(c)


def manifest_stats(
    source: Source,
    *,
    store: ObjectStore | None = None,
    label_attribute: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ManifestStats:
    """Count what the manifest holds. Labels are found by their metadata's own markers
    (:func:`~gtflow.wire.task_types.find_label_attributes`: every label, or only
    ``label_attribute``), so ``annotator-metadata``, ``cl-metadata`` or
    ``source-ref-metadata`` are not taken for labels; lines without any use their ``label``
    and ``confidence`` keys (the CSV and batch manifests gtflow builds).

    Raises ManifestError at the first line that is not a valid record (run
    :func:`validate_manifest` to see all problems).
    """
    stats = ManifestStats(path=describe(source))
    for n, rec in read_manifest(source, store=store, check_limits=False):
        if progress is not None and not n & 0x3FFF:
            progress(n)
        stats.lines += 1
        if "source-ref" in rec:
            stats.source_refs += 1
        elif "source" in rec:
            stats.sources += 1
        found = find_label_attributes(rec)
        if label_attribute is not None:
            for label in found:
                if label.attribute == label_attribute:
                    _add_label(stats, rec, label)
            continue
        for label in found:
            _add_label(stats, rec, label)
        if not found:
            name = rec.get("label")
            if isinstance(name, str):
                stats.labels[name] += 1
                stats.add_confidence(rec.get("confidence"))
    return stats
