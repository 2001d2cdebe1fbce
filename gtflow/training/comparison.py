"""Is model B really better than model A on this held-out set, or is the difference noise?

A held-out set of a hundred images gives an mAP that moves by a few points when other images of
the same kind are drawn. :func:`compare_map50` puts an interval on the difference of VOC
mAP@0.5 (B − A) with a **paired bootstrap over images**: draw the held-out images with
replacement, score both models on the same draw, repeat. The difference is *significant* when
the whole interval lies above (or below) zero; otherwise it is *within noise*, and a pipeline
must not call it an improvement.

Each draw reweights the detections already matched by
:func:`~gtflow.training.evaluation.evaluate_detections` (an image drawn k times counts k times),
so no model runs again; a thousand draws take a fraction of a second.

    >>> from gtflow.training.evaluation import GroundTruthImage, evaluate_detections
    >>> gt = [GroundTruthImage(10, 10, ((0, 0, 0, 5, 5),))] * 40
    >>> good = evaluate_detections(gt, [[[0, 0.9, 0, 0, 0.5, 0.5]]] * 40, {0: "c"})
    >>> c = compare_map50(good, good)
    >>> c.delta, c.low, c.high, c.verdict()
    (0.0, 0.0, 0.0, 'within noise')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gtflow.errors import UsageError
from gtflow.training._deps import require_numpy

__all__ = ["MapComparison", "compare_map50", "weighted_map50"]


@dataclass(frozen=True)
class MapComparison:
    """mAP@0.5 of A and B, B − A, and its bootstrap interval."""

    map_a: float
    map_b: float
    delta: float
    low: float
    high: float
    confidence: float
    resamples: int
    num_images: int

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low > 0 or self.high < 0

    def verdict(self) -> str:
        """``"better"``, ``"worse"`` or ``"within noise"`` (B compared with A)."""
        if self.low > 0:
            return "better"
        if self.high < 0:
            return "worse"
        return "within noise"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict()}


def _class_arrays(np: Any, report: Any) -> dict[int, tuple[Any, Any]]:
    """Per class: (image index, tp flag) of its detections, highest score first."""
    by_class: dict[int, list[tuple[float, int, bool]]] = {}
    for image, cls, score, tp in report.matches:
        by_class.setdefault(int(cls), []).append((float(score), int(image), bool(tp)))
    out = {}
    for cls, rows in by_class.items():
        # a stable sort on -score keeps the evaluator's order (it matched in this order)
        rows.sort(key=lambda r: -r[0])
        # False positives after the last true positive change no AP (recall stops growing and
        # precision only falls), so they are left out: most low-score detections go.
        last_tp = max((k for k, r in enumerate(rows) if r[2]), default=-1)
        rows = rows[:last_tp + 1]
        out[cls] = (np.asarray([r[1] for r in rows], dtype=np.int64), np.asarray([r[2] for r in rows], dtype=float))
    return out


def _gt_counts(np: Any, report: Any, classes: Sequence[int]) -> Any:
    counts = np.zeros((len(report.image_classes), len(classes)), dtype=float)
    index = {c: k for k, c in enumerate(classes)}
    for i, cls_ids in enumerate(report.image_classes):
        for c in cls_ids:
            counts[i, index[c]] += 1
    return counts


def weighted_map50(np: Any, arrays: dict[int, tuple[Any, Any]], gt: Any, classes: Sequence[int],
                   weights: Any) -> Any:
    """VOC all-point mAP@0.5 for each row of ``weights`` (copies of each image), vectorised.

    With weights all 1 it equals the report's ``map_voc50``. ``weights``: (draws, images).
    """
    draws = weights.shape[0]
    total = np.zeros(draws)
    n_classes = np.zeros(draws)
    n_gt_all = weights @ gt  # (draws, classes)
    for k, c in enumerate(classes):
        n_gt = n_gt_all[:, k]
        has = n_gt > 0
        n_classes += has
        if c not in arrays:
            continue
        img, tp = arrays[c]
        w = weights[:, img]  # (draws, detections)
        ctp = np.cumsum(w * tp, axis=1)
        cfp = np.cumsum(w * (1.0 - tp), axis=1)
        rec = ctp / np.maximum(n_gt, 1e-12)[:, None]
        prec = ctp / np.maximum(ctp + cfp, 1e-12)
        env = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
        drec = np.diff(np.concatenate([np.zeros((draws, 1)), rec], axis=1), axis=1)
        total += np.where(has, np.sum(drec * env, axis=1), 0.0)
    return np.where(n_classes > 0, total / np.maximum(n_classes, 1), 0.0)


def compare_map50(a: Any, b: Any, *, resamples: int = 1000, confidence: float = 0.95,
                  seed: int = 0) -> MapComparison:
    """Paired bootstrap of mAP@0.5(B) − mAP@0.5(A) over the held-out images.

    ``a`` and ``b`` are :class:`~gtflow.training.evaluation.EvaluationReport` of two models on
    the same images (in the same order).
    """
    np = require_numpy()
    if a.image_classes != b.image_classes:
        raise UsageError("the two evaluations are not on the same held-out images")
    if not a.image_classes:
        raise UsageError("the evaluations carry no per-image matches (evaluate_detections makes them)")
    if not 0 < confidence < 1 or resamples < 1:
        raise UsageError("confidence must be in (0, 1) and resamples >= 1")
    classes = sorted({c for cls_ids in a.image_classes for c in cls_ids})
    n = len(a.image_classes)
    gt = _gt_counts(np, a, classes)
    arr_a, arr_b = _class_arrays(np, a), _class_arrays(np, b)
    ones = np.ones((1, n))
    map_a = float(weighted_map50(np, arr_a, gt, classes, ones)[0])
    map_b = float(weighted_map50(np, arr_b, gt, classes, ones)[0])
    rng = np.random.default_rng(seed)
    deltas = []
    for start in range(0, resamples, 250):  # bounded memory: 250 draws at a time
        k = min(250, resamples - start)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=k).astype(float)
        deltas.append(weighted_map50(np, arr_b, gt, classes, weights) - weighted_map50(np, arr_a, gt, classes, weights))
    d = np.concatenate(deltas)
    tail = (1 - confidence) / 2
    low, high = (float(x) for x in np.quantile(d, [tail, 1 - tail]))
    return MapComparison(round(map_a, 6), round(map_b, 6), round(map_b - map_a, 6), round(low, 6),
                         round(high, 6), confidence, resamples, n)
