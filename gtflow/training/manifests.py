"""Training manifests: merge reviewed answers into the previous manifest, replay, split, write.

The training manifest is a Ground Truth bounding-box augmented manifest (CONTRACTS.md 3.2).
Each round of human review produces lines in the same format (GT output, or A2I answers
converted to it); :func:`merge_reviewed` folds them into the previous training manifest:

- one line per ``source-ref``; the label with the newest ``creation-date`` wins, ties going to
  the later line (reviews come after the previous manifest);
- the class map stays stable: reviewed class ids are mapped **by name** onto the training
  map, and a class the map does not know is an error unless ``allow_new_classes`` (then it gets
  the next free id);
- nothing old is dropped unless a newer review replaced it;
- reviewed boxes are clipped to the image (a box entirely outside it is dropped, and the
  metadata's ``objects`` list follows); both are counted in the result (``clipped_boxes``,
  ``dropped_boxes``, and ``emptied_reviews`` for reviews left with no box), never silent.

:func:`split_train_validation` hashes ``source-ref``, so an image never moves between train
and validation from one round to the next. Every manifest written goes through the
object-detection lint (``gtflow.manifest.validate_manifest``) first.

    >>> line = lambda ref, cid, date: {"source-ref": ref,
    ...     "bb": {"image_size": [{"width": 9, "height": 9, "depth": 3}],
    ...            "annotations": [{"class_id": cid, "left": 0, "top": 0, "width": 2, "height": 2}]},
    ...     "bb-metadata": {"class-map": {str(cid): ["cat", "dog"][cid]}, "creation-date": date}}
    >>> old = [line("s3://b/1.jpg", 0, "2024-01-01T00:00:00.000000")]
    >>> new = [line("s3://b/1.jpg", 1, "2024-02-01T00:00:00.000Z"), line("s3://b/2.jpg", 0, None)]
    >>> res = merge_reviewed(old, new, label_attribute="bb", allow_new_classes=True)
    >>> [r["bb"]["annotations"][0]["class_id"] for r in res.records], res.replaced, res.added
    ([1, 0], ('s3://b/1.jpg',), ('s3://b/2.jpg',))
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gtflow.errors import ManifestError, UsageError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.training.records import DetectionRecord, union_class_map
from gtflow.wire.output import ObjectDetectionMetadata

_CLASS_MAP = ObjectDetectionMetadata.key_of("class_map")  # the spelling lives in gtflow.wire

__all__ = [
    "MergeResult",
    "ManifestStats",
    "merge_reviewed",
    "split_train_validation",
    "replay_subset",
    "manifest_stats",
    "read_manifest",
    "write_manifest",
    "dumps_manifest",
    "validate_detection_manifest",
    "class_map_of",
]

log = get_logger(__name__)
_EPOCH = _dt.datetime.min


def _get_text(store: ObjectStore, uri: str) -> str:
    """An ``s3://`` URI from the store, anything else from the local disk (as ``manifest
    validate`` and ``from-a2i -o`` take local paths)."""
    if uri.startswith("s3://"):
        return store.get_text(uri)
    from pathlib import Path

    try:
        return Path(uri).read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest: {exc.strerror}", path=uri) from exc


def read_manifest(store: ObjectStore, uri: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines manifest (blank lines skipped; errors name the line).

    ``uri`` is an ``s3://`` URI in ``store`` or a local path."""
    out = []
    for no, text in enumerate(_get_text(store, uri).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"not valid JSON: {exc.msg}", path=uri, line=no) from exc
        if not isinstance(obj, dict):
            raise ManifestError("a manifest line must be a JSON object", path=uri, line=no)
        out.append(obj)
    return out


def dumps_manifest(records: Iterable[Mapping[str, Any]]) -> str:
    """JSON Lines with GT's compact separators, one object per line, ending in a newline."""
    lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]
    return "".join(line + "\n" for line in lines)


def _own_lint(text: str, label_attribute: str, num_classes: int | None, path: str | None) -> None:
    """Every line parses as a detection record (what the trainer will read)."""
    for no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"not valid JSON: {exc.msg}", path=path, line=no) from exc
        rec = DetectionRecord.from_line(obj, label_attribute, path=path, line_no=no)
        for i, box in enumerate(rec.label.annotations):
            if num_classes is not None and box.class_id >= num_classes:
                raise ManifestError(
                    f"class_id {box.class_id} >= num_classes {num_classes}", path=path, line=no,
                    field=f"{label_attribute}.annotations[{i}].class_id",
                )


def validate_detection_manifest(
    text: str, *, label_attribute: str, num_classes: int | None, path: str | None = None
) -> None:
    """Raise ManifestError unless ``text`` is a valid object-detection augmented manifest.

    Runs the project's object-detection lint (``gtflow.manifest.validate_manifest`` with
    ``task="object-detection"``: GT limits, boxes inside the image, class ids below
    ``num_classes``), plus the per-line label parsing training relies on.
    """
    import io

    from gtflow.manifest import validate_manifest

    report = validate_manifest(io.BytesIO(text.encode("utf-8")), task="object-detection",
                               label_attribute=label_attribute, num_classes=num_classes,
                               empty_policy="warn")
    errors = report.errors
    if errors:
        first = errors[0]
        more = f" (and {report.error_count - 1} more)" if report.error_count > 1 else ""
        raise ManifestError(f"{first.message}{more}", path=path, line=first.line, field=first.field or None)
    _own_lint(text, label_attribute, num_classes, path)


def write_manifest(
    store: ObjectStore,
    uri: str,
    records: Sequence[Mapping[str, Any]],
    *,
    label_attribute: str,
    num_classes: int | None,
) -> str:
    """Validate, then write ``records`` to ``uri`` atomically; returns ``uri``."""
    text = dumps_manifest(records)
    validate_detection_manifest(text, label_attribute=label_attribute, num_classes=num_classes, path=uri)
    if uri.startswith("s3://"):
        store.put_text(uri, text, content_type="application/jsonlines")
    else:  # a local path: atomic like the store's writes
        from pathlib import Path

        from gtflow.formats._types import Sink

        Sink(str(Path(uri).parent)).put(Path(uri).name, text.encode("utf-8"))
    log.info("wrote manifest %s (%d lines)", uri, len(records))
    return uri


def class_map_of(records: Iterable[Mapping[str, Any]], label_attribute: str) -> dict[int, str]:
    """The union of the per-line class maps of manifest lines."""
    return union_class_map(DetectionRecord.from_line(r, label_attribute, line_no=i)
                           for i, r in enumerate(records, start=1))


@dataclass(frozen=True)
class MergeResult:
    """The merged manifest and what changed."""

    records: tuple[dict[str, Any], ...]
    class_map: Mapping[int, str]
    #: source-refs that were not in the previous manifest
    added: tuple[str, ...]
    #: source-refs whose previous label a newer review replaced
    replaced: tuple[str, ...]
    #: reviews that lost to a newer label already present (kept out, reported)
    ignored_reviews: tuple[str, ...]
    #: reviewer boxes clipped to their image / dropped (no area inside it), counted not silent
    clipped_boxes: int = 0
    dropped_boxes: int = 0
    #: reviews whose every box was dropped: now images with no objects (source-refs)
    emptied_reviews: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[str, ...]:
        return self.added + self.replaced

    @property
    def num_classes(self) -> int:
        return max(self.class_map) + 1 if self.class_map else 0

    def training_subset(self, replay_ratio: float | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
        """All lines, or the changed lines plus ``replay_ratio`` x as many old ones (see replay_subset)."""
        return replay_subset(self.records, self.changed, replay_ratio, seed=seed)


def _remap(rec: DetectionRecord, line_no: int, target: dict[int, str], by_name: dict[str, int],
           allow_new: bool, path: str | None, attr_in: str) -> dict[int, int]:
    mapping: dict[int, int] = {}
    for i, box in enumerate(rec.label.annotations):
        if box.class_id in mapping:
            continue
        name = rec.class_map.get(box.class_id, target.get(box.class_id))
        if name is None:
            raise ManifestError(f"class_id {box.class_id} has no name in the class-map", path=path,
                                line=line_no, field=f"{attr_in}.annotations[{i}].class_id")
        if name not in by_name:
            if not allow_new:
                raise ManifestError(
                    f"class {name!r} is not in the training class map {sorted(by_name)}; "
                    "pass allow_new_classes=True (--allow-new-classes) to add it "
                    "(a new class means a new model: num_classes changes)",
                    path=path, line=line_no, field=f"{attr_in}-metadata.class-map",
                )
            new_id = max(target) + 1 if target else 0
            target[new_id] = name
            by_name[name] = new_id
        mapping[box.class_id] = by_name[name]
    return mapping


def _clip(ann: dict[str, Any], width: int, height: int) -> bool | None:
    """Clip a reviewer's box to the image (the drawing tool lets boxes leave it): True if it
    changed, False if it fit, None if nothing of it is inside the image (drop it)."""
    x1, y1 = max(0, ann["left"]), max(0, ann["top"])
    x2, y2 = min(width, ann["left"] + ann["width"]), min(height, ann["top"] + ann["height"])
    if x2 <= x1 or y2 <= y1:
        return None
    changed = (x1, y1, x2 - x1, y2 - y1) != (ann["left"], ann["top"], ann["width"], ann["height"])
    ann.update(left=x1, top=y1, width=x2 - x1, height=y2 - y1)
    return changed


def merge_reviewed(
    previous: Sequence[Mapping[str, Any]],
    reviewed: Sequence[Mapping[str, Any]],
    *,
    label_attribute: str,
    reviewed_label_attribute: str | None = None,
    class_map: Mapping[int, str] | None = None,
    allow_new_classes: bool = False,
    previous_path: str | None = None,
    reviewed_path: str | None = None,
) -> MergeResult:
    """Fold reviewed lines into the previous training manifest (see the module docstring).

    ``reviewed_label_attribute`` names the label attribute of the review lines when it differs
    (an adjustment job's ``adjusted-bounding-box``, A2I's ``a2i-retraining``); their labels are
    written under ``label_attribute``. ``class_map`` fixes the training class map (default:
    the union of the previous lines' maps).
    """
    attr_in = reviewed_label_attribute or label_attribute
    prev = [DetectionRecord.from_line(r, label_attribute, path=previous_path, line_no=i)
            for i, r in enumerate(previous, start=1)]
    target = dict(class_map) if class_map is not None else union_class_map(prev, path=previous_path)
    by_name = {name: cid for cid, name in target.items()}
    if len(by_name) != len(target):
        raise ManifestError("the class map names one class twice", path=previous_path, field=_CLASS_MAP)

    # (sort key, line) per source-ref; key = (creation date, sequence number)
    best: dict[str, tuple[tuple[_dt.datetime, int], dict[str, Any]]] = {}
    order: list[str] = []
    origin: dict[str, str] = {}  # "previous" | "reviewed"
    prev_refs: set[str] = set()
    seq = 0
    for rec in prev:
        key = (rec.creation_date or _EPOCH, seq)
        seq += 1
        if rec.source_ref not in best:
            order.append(rec.source_ref)
        prev_refs.add(rec.source_ref)
        if rec.source_ref not in best or key > best[rec.source_ref][0]:
            best[rec.source_ref] = (key, dict(rec.raw))
            origin[rec.source_ref] = "previous"

    ignored: list[str] = []
    clipped_n = dropped = 0
    emptied: list[str] = []
    for i, raw in enumerate(reviewed, start=1):
        rec = DetectionRecord.from_line(raw, attr_in, path=reviewed_path, line_no=i)
        mapping = _remap(rec, i, target, by_name, allow_new_classes, reviewed_path, attr_in)
        key = (rec.creation_date or _EPOCH, seq)
        seq += 1
        line = {k: v for k, v in rec.raw.items() if k not in (attr_in, f"{attr_in}-metadata")}
        label = rec.label.to_dict()
        keep = []
        for j, ann in enumerate(label["annotations"]):
            ann["class_id"] = mapping[ann["class_id"]]
            clipped = _clip(ann, rec.label.width, rec.label.height)
            if clipped is None:
                dropped += 1
            else:
                keep.append(j)
                clipped_n += clipped
        if label["annotations"] and not keep:
            emptied.append(rec.source_ref)
        meta = dict(rec.raw.get(f"{attr_in}-metadata") or {})
        if len(keep) < len(label["annotations"]):
            objects = meta.get("objects")
            if isinstance(objects, list) and len(objects) == len(label["annotations"]):
                meta["objects"] = [objects[j] for j in keep]
            label["annotations"] = [label["annotations"][j] for j in keep]
        used = sorted({a["class_id"] for a in label["annotations"]})
        meta[_CLASS_MAP] = {str(c): target[c] for c in used}
        line[label_attribute] = label
        line[f"{label_attribute}-metadata"] = meta
        if rec.source_ref not in best:
            order.append(rec.source_ref)
        if rec.source_ref not in best or key > best[rec.source_ref][0]:
            best[rec.source_ref] = (key, line)
            origin[rec.source_ref] = "reviewed"
        else:
            ignored.append(rec.source_ref)

    records = tuple(best[ref][1] for ref in order)
    added = tuple(ref for ref in order if ref not in prev_refs)
    replaced = tuple(ref for ref in order if ref in prev_refs and origin[ref] == "reviewed")
    log.info("merged %d previous + %d reviewed lines: %d added, %d replaced, %d reviews ignored",
             len(previous), len(reviewed), len(added), len(replaced), len(ignored))
    if dropped or emptied:
        log.warning("merge: %d reviewer boxes clipped to the image, %d dropped (nothing inside it); "
                    "%d reviews lost every box and are now images with no objects", clipped_n, dropped, len(emptied))
    return MergeResult(records=records, class_map=dict(sorted(target.items())), added=added,
                       replaced=replaced, ignored_reviews=tuple(ignored), clipped_boxes=clipped_n,
                       dropped_boxes=dropped, emptied_reviews=tuple(emptied))


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def replay_subset(
    records: Sequence[Mapping[str, Any]],
    changed: Iterable[str],
    replay_ratio: float | None,
    *,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The changed lines plus ``ceil(replay_ratio * len(changed))`` old lines (all, when None).

    Old lines are picked by a seeded hash of ``source-ref`` (deterministic, stable when the
    manifest grows); the manifest order is kept.

    >>> recs = [{"source-ref": f"s3://b/{i}"} for i in range(10)]
    >>> len(replay_subset(recs, ["s3://b/0", "s3://b/1"], 1.5))
    5
    """
    if replay_ratio is None:
        return [dict(r) for r in records]
    if replay_ratio < 0:
        raise UsageError("replay_ratio must be >= 0", field="replay_ratio")
    changed_set = set(changed)
    old = [r for r in records if r["source-ref"] not in changed_set]
    k = min(len(old), math.ceil(replay_ratio * len(changed_set)))
    picked = {r["source-ref"] for r in sorted(old, key=lambda r: _unit_hash(f"{seed}\0{r['source-ref']}"))[:k]}
    return [dict(r) for r in records if r["source-ref"] in changed_set or r["source-ref"] in picked]


def split_train_validation(
    records: Sequence[Mapping[str, Any]],
    validation_fraction: float = 0.1,
    *,
    salt: str = "gtflow",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(train, validation)`` by hashed ``source-ref``: stable across rounds and reruns.

    >>> recs = [{"source-ref": f"s3://b/{i}.jpg"} for i in range(100)]
    >>> train, val = split_train_validation(recs, 0.2)
    >>> len(train) + len(val), 10 < len(val) < 30
    (100, True)
    """
    if not 0 <= validation_fraction < 1:
        raise UsageError("validation_fraction must be in [0, 1)", field="validation_fraction")
    train: list[dict[str, Any]] = []
    val: list[dict[str, Any]] = []
    for r in records:
        (val if _unit_hash(f"{salt}\0{r['source-ref']}") < validation_fraction else train).append(dict(r))
    return train, val


@dataclass(frozen=True)
class ManifestStats:
    """What the SageMaker hyperparameters need from the data."""

    num_images: int
    num_boxes: int
    max_boxes_per_image: int
    boxes_per_class: Mapping[int, int]
    class_map: Mapping[int, str]

    @property
    def num_classes(self) -> int:
        ids = set(self.class_map) | set(self.boxes_per_class)
        return max(ids) + 1 if ids else 0

    @property
    def label_width(self) -> int:
        """The padded label length the algorithm needs: 2 header values + 5 per object."""
        return 2 + 5 * self.max_boxes_per_image


def manifest_stats(records: Iterable[Mapping[str, Any]], label_attribute: str) -> ManifestStats:
    """Counts over a detection manifest (images, boxes, max boxes per image, per class)."""
    recs = [DetectionRecord.from_line(r, label_attribute, line_no=i) for i, r in enumerate(records, start=1)]
    per_class: dict[int, int] = {}
    for rec in recs:
        for b in rec.label.annotations:
            per_class[b.class_id] = per_class.get(b.class_id, 0) + 1
    return ManifestStats(
        num_images=len(recs),
        num_boxes=sum(per_class.values()),
        max_boxes_per_image=max((len(r.label.annotations) for r in recs), default=0),
        boxes_per_class=dict(sorted(per_class.items())),
        class_map=union_class_map(recs),
    )
