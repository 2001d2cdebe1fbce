"""Detection metrics on a held-out manifest: COCO mAP (faster-coco-eval), VOC mAP@0.5, per-class AP,
and the score distributions of true and false positives that threshold routing needs.

Three numbers, because they are not interchangeable:

- ``map_coco``: COCO AP averaged over IoU 0.50:0.95 (101-point interpolation), from
  ``faster_coco_eval`` (same numbers as pycocotools);
- ``map_coco50``: COCO AP at IoU 0.5 (101-point);
- ``map_voc50``: PASCAL VOC AP at IoU 0.5 with **all-point interpolation** (VOC2010+), the
  closest local analogue of the built-in algorithm's ``validation:mAP`` (AWS does not document
  its interpolation: compare local and SageMaker numbers to about +-0.02 only).

A detection is a true positive when it has the class of an unmatched ground-truth box with
IoU >= 0.5 (highest score matched first, per class and image, as in VOC).

    >>> gt = [GroundTruthImage(100, 100, ((0, 10, 10, 50, 50),))]
    >>> dets = [[[0.0, 0.9, 0.1, 0.1, 0.5, 0.5], [0.0, 0.3, 0.6, 0.6, 0.9, 0.9]]]
    >>> r = evaluate_detections(gt, dets, {0: "circle"})
    >>> r.map_voc50, r.tp_scores, r.fp_scores
    (1.0, (0.9,), (0.3,))
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gtflow.errors import UsageError
from gtflow.store.base import ObjectStore
from gtflow.training._deps import require_coco, require_numpy
from gtflow.training.records import DetectionRecord, union_class_map

__all__ = [
    "GroundTruthImage",
    "ClassAP",
    "EvaluationReport",
    "evaluate_detections",
    "evaluate",
    "voc_ap",
]


class _Predicts(Protocol):
    def predict_many(self, images: Sequence[bytes]) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class GroundTruthImage:
    """One image's size and boxes ``(class_id, xmin, ymin, xmax, ymax)`` in pixels."""

    width: int
    height: int
    boxes: tuple[tuple[int, float, float, float, float], ...]

    @classmethod
    def from_record(cls, rec: DetectionRecord) -> GroundTruthImage:
        boxes = []
        for b in rec.label.annotations:
            x1, y1, x2, y2 = b.xyxy
            boxes.append((b.class_id, float(x1), float(y1), float(x2), float(y2)))
        return cls(rec.label.width, rec.label.height, tuple(boxes))


@dataclass(frozen=True)
class ClassAP:
    class_id: int
    name: str
    num_ground_truth: int
    num_detections: int
    ap_voc50: float
    ap_coco50: float
    ap_coco: float


@dataclass(frozen=True)
class EvaluationReport:
    num_images: int
    num_ground_truth: int
    num_detections: int
    map_voc50: float
    map_coco: float
    map_coco50: float
    per_class: tuple[ClassAP, ...]
    #: scores of detections matched to a ground-truth box (IoU >= iou_threshold, same class)
    tp_scores: tuple[float, ...]
    #: scores of the other detections
    fp_scores: tuple[float, ...]
    iou_threshold: float = 0.5
    #: every detection as ``(image index, class_id, score, true positive)``, for paired
    #: comparisons over images (:mod:`gtflow.training.comparison`)
    matches: tuple[tuple[int, int, float, bool], ...] = field(default=(), repr=False)
    #: the ground-truth class ids of each image
    image_classes: tuple[tuple[int, ...], ...] = field(default=(), repr=False)

    def score_histogram(self, bins: int = 10) -> dict[str, list[Any]]:
        """Counts of TP and FP scores in ``bins`` equal bins over [0, 1]."""
        np = require_numpy()
        edges = np.linspace(0.0, 1.0, bins + 1)
        tp, _ = np.histogram(np.asarray(self.tp_scores, dtype=float), bins=edges)
        fp, _ = np.histogram(np.asarray(self.fp_scores, dtype=float), bins=edges)
        return {"edges": [round(float(e), 6) for e in edges], "tp": tp.tolist(), "fp": fp.tolist()}

    def precision_at(self, threshold: float) -> float:
        """Share of detections scoring >= threshold that are true positives (nan when none)."""
        tp = sum(s >= threshold for s in self.tp_scores)
        fp = sum(s >= threshold for s in self.fp_scores)
        return tp / (tp + fp) if tp + fp else float("nan")

    def to_dict(self) -> dict[str, Any]:
        def mean(xs: Sequence[float]) -> float | None:
            return round(sum(xs) / len(xs), 6) if xs else None

        return {
            "num_images": self.num_images,
            "num_ground_truth": self.num_ground_truth,
            "num_detections": self.num_detections,
            "iou_threshold": self.iou_threshold,
            "mAP_voc50": self.map_voc50,
            "mAP_coco": self.map_coco,
            "mAP_coco50": self.map_coco50,
            "voc_interpolation": "all-point",
            "per_class": [vars(c) for c in self.per_class],
            "scores": {
                "tp_count": len(self.tp_scores),
                "fp_count": len(self.fp_scores),
                "tp_mean": mean(self.tp_scores),
                "fp_mean": mean(self.fp_scores),
                "histogram": self.score_histogram(),
            },
        }


def voc_ap(recall: Sequence[float], precision: Sequence[float]) -> float:
    """PASCAL VOC all-point interpolated AP (area under the monotone precision envelope).

    >>> voc_ap([0.5, 1.0], [1.0, 0.5])
    0.75
    """
    np = require_numpy()
    mrec = np.concatenate(([0.0], np.asarray(recall, dtype=float), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, dtype=float), [0.0]))
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def _iou(np: Any, box: Any, boxes: Any) -> Any:
    ix1 = np.maximum(box[0], boxes[:, 0])
    iy1 = np.maximum(box[1], boxes[:, 1])
    ix2 = np.minimum(box[2], boxes[:, 2])
    iy2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def _coco(gt: Sequence[GroundTruthImage], dets: Sequence[Sequence[tuple[int, float, float, float, float, float]]],
          class_ids: Sequence[int]) -> tuple[float, float, dict[int, tuple[float, float]]]:
    fce = require_coco()
    np = require_numpy()
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for img_id, g in enumerate(gt, start=1):
        images.append({"id": img_id, "width": g.width, "height": g.height})
        for c, x1, y1, x2, y2 in g.boxes:
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": c + 1,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        for c, s, x1, y1, x2, y2 in dets[img_id - 1]:
            results.append({"image_id": img_id, "category_id": c + 1, "score": s,
                            "bbox": [x1, y1, x2 - x1, y2 - y1]})
    if not anns or not results:
        return 0.0, 0.0, {c: (0.0, 0.0) for c in class_ids}
    cats = [{"id": c + 1, "name": str(c)} for c in class_ids]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = fce.COCO({"images": images, "annotations": anns, "categories": cats})
        coco_dt = coco_gt.loadRes(results)
        ev = fce.COCOeval_faster(coco_gt, coco_dt, "bbox", print_function=lambda *a, **k: None)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = [float(x) for x in ev.stats]
    prec = np.asarray(ev.eval["precision"])  # [iou, recall, class, area, maxdet]
    cat_ids = list(ev.params.catIds)
    per: dict[int, tuple[float, float]] = {}
    for k, cid in enumerate(cat_ids):
        p_all = prec[:, :, k, 0, -1]
        p50 = prec[0, :, k, 0, -1]
        ap = float(p_all[p_all > -1].mean()) if (p_all > -1).any() else 0.0
        ap50 = float(p50[p50 > -1].mean()) if (p50 > -1).any() else 0.0
        per[int(cid) - 1] = (ap50, ap)
    return max(stats[0], 0.0), max(stats[1], 0.0), per


def evaluate_detections(
    ground_truth: Sequence[GroundTruthImage],
    detections: Sequence[Sequence[Sequence[float]]],
    class_map: Mapping[int, str],
    *,
    iou_threshold: float = 0.5,
) -> EvaluationReport:
    """Score endpoint-format detections (normalised rows, one list per image) against ground truth."""
    np = require_numpy()
    if len(ground_truth) != len(detections):
        raise UsageError("one detection list per ground-truth image is needed")
    pix: list[list[tuple[int, float, float, float, float, float]]] = []
    for g, rows in zip(ground_truth, detections, strict=False):
        img = []
        for row in rows:
            c, s, x1, y1, x2, y2 = (float(v) for v in row[:6])
            img.append((int(c), s, x1 * g.width, y1 * g.height, x2 * g.width, y2 * g.height))
        pix.append(img)
    class_ids = sorted(set(class_map) | {b[0] for g in ground_truth for b in g.boxes})

    tp_scores: list[float] = []
    fp_scores: list[float] = []
    matches: list[tuple[int, int, float, bool]] = []
    per_voc: dict[int, tuple[float, int, int]] = {}
    for c in class_ids:
        gts = {i: np.asarray([b[1:] for b in g.boxes if b[0] == c], dtype=float).reshape(-1, 4)
               for i, g in enumerate(ground_truth)}
        used = {i: np.zeros(len(v), dtype=bool) for i, v in gts.items()}
        n_gt = sum(len(v) for v in gts.values())
        dets = sorted(((d[1], i, d[2:]) for i, img in enumerate(pix) for d in img if d[0] == c),
                      key=lambda t: -t[0])
        flags = []
        for score, i, box in dets:
            ok = False
            if len(gts[i]):
                ious = _iou(np, np.asarray(box, dtype=float), gts[i])
                j = int(ious.argmax())
                if ious[j] >= iou_threshold and not used[i][j]:
                    used[i][j] = True
                    ok = True
            flags.append(ok)
            (tp_scores if ok else fp_scores).append(score)
            matches.append((i, c, round(score, 6), ok))
        if n_gt:
            tp = np.cumsum(flags, dtype=float)
            fp = np.cumsum([not f for f in flags], dtype=float)
            rec = tp / n_gt
            precision = tp / np.maximum(tp + fp, 1e-12)
            ap = voc_ap(rec, precision) if len(flags) else 0.0
            per_voc[c] = (ap, n_gt, len(dets))
        else:
            per_voc[c] = (float("nan"), 0, len(dets))

    coco_map, coco50, per_coco = _coco(ground_truth, pix, class_ids)
    per_class = tuple(
        ClassAP(class_id=c, name=class_map.get(c, str(c)), num_ground_truth=per_voc[c][1],
                num_detections=per_voc[c][2], ap_voc50=round(per_voc[c][0], 6),
                ap_coco50=round(per_coco.get(c, (0.0, 0.0))[0], 6),
                ap_coco=round(per_coco.get(c, (0.0, 0.0))[1], 6))
        for c in class_ids
    )
    with_gt = [p.ap_voc50 for p in per_class if p.num_ground_truth]
    return EvaluationReport(
        num_images=len(ground_truth),
        num_ground_truth=sum(len(g.boxes) for g in ground_truth),
        num_detections=sum(len(d) for d in pix),
        map_voc50=round(float(sum(with_gt) / len(with_gt)), 6) if with_gt else 0.0,
        map_coco=round(coco_map, 6),
        map_coco50=round(coco50, 6),
        per_class=per_class,
        tp_scores=tuple(round(s, 6) for s in tp_scores),
        fp_scores=tuple(round(s, 6) for s in fp_scores),
        iou_threshold=iou_threshold,
        matches=tuple(matches),
        image_classes=tuple(tuple(b[0] for b in g.boxes) for g in ground_truth),
    )


def evaluate(
    predictor: _Predicts,
    store: ObjectStore,
    records: Sequence[Mapping[str, Any]],
    *,
    label_attribute: str,
    class_map: Mapping[int, str] | None = None,
    iou_threshold: float = 0.5,
    batch_size: int = 16,
    progress: Any = False,
    description: str = "evaluate",
) -> EvaluationReport:
    """Predict every image of a held-out manifest and score it.

    ``predictor`` is a :class:`~gtflow.training.predictor.LocalPredictor` or an
    :class:`~gtflow.training.predictor.EndpointPredictor`. ``progress`` (True or a
    :class:`gtflow.progress.ProgressOutput`) shows the images predicted on stderr.
    """
    from gtflow.progress import progress_output

    recs = [DetectionRecord.from_line(r, label_attribute, line_no=i) for i, r in enumerate(records, start=1)]
    cmap = dict(class_map) if class_map is not None else union_class_map(recs)
    dets: list[list[list[float]]] = []
    with progress_output(progress).task(description, total=len(recs), unit="image") as task:
        for start in range(0, len(recs), batch_size):
            chunk = recs[start:start + batch_size]
            answers = predictor.predict_many([store.get_bytes(r.source_ref) for r in chunk])
            dets.extend(a.get("prediction", []) for a in answers)
            task.advance(len(chunk))
    return evaluate_detections([GroundTruthImage.from_record(r) for r in recs], dets, cmap,
                               iou_threshold=iou_threshold)
