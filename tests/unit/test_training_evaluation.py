"""Metrics: VOC all-point AP@0.5 by hand, COCO through faster-coco-eval, TP/FP score split."""

from __future__ import annotations

import random

import pytest

from gtflow.errors import UsageError
from gtflow.training.evaluation import GroundTruthImage, evaluate_detections, voc_ap


def _norm(box, w=100, h=100):
    return [box[0] / w, box[1] / h, box[2] / w, box[3] / h]


def test_perfect_detections_score_one():
    gt = [GroundTruthImage(100, 100, ((0, 10, 10, 40, 40), (1, 50, 50, 90, 80))),
          GroundTruthImage(100, 100, ((1, 0, 0, 30, 30),))]
    dets = [[[0, 0.9, *_norm((10, 10, 40, 40))], [1, 0.8, *_norm((50, 50, 90, 80))]],
            [[1, 0.7, *_norm((0, 0, 30, 30))]]]
    r = evaluate_detections(gt, dets, {0: "circle", 1: "ellipse"})
    assert r.map_voc50 == 1.0 and r.map_coco == pytest.approx(1.0) and r.map_coco50 == pytest.approx(1.0)
    assert r.fp_scores == () and sorted(r.tp_scores) == [0.7, 0.8, 0.9]
    assert [c.ap_voc50 for c in r.per_class] == [1.0, 1.0]


def test_known_voc_value_with_a_false_positive_ranked_first():
    # one class, 2 GT; ranked detections: FP (0.9), TP (0.8), TP (0.7)
    # precision/recall: (0, 0), (1/2, 1/2), (2/3, 1) -> all-point AP = 0.5*2/3 + 0.5*2/3 = 2/3
    gt = [GroundTruthImage(100, 100, ((0, 0, 0, 20, 20), (0, 50, 50, 70, 70)))]
    dets = [[[0, 0.9, *_norm((80, 0, 99, 19))], [0, 0.8, *_norm((0, 0, 20, 20))], [0, 0.7, *_norm((50, 50, 70, 70))]]]
    r = evaluate_detections(gt, dets, {0: "a"})
    assert r.map_voc50 == pytest.approx(2 / 3, abs=1e-6)
    assert r.fp_scores == (0.9,) and r.tp_scores == (0.8, 0.7)
    assert r.precision_at(0.75) == 0.5 and r.precision_at(0.95) != r.precision_at(0.95)  # nan


def test_wrong_class_duplicates_and_low_iou_are_false_positives():
    gt = [GroundTruthImage(100, 100, ((0, 10, 10, 50, 50),))]
    dets = [[[1, 0.95, *_norm((10, 10, 50, 50))],   # wrong class
             [0, 0.9, *_norm((10, 10, 50, 50))],    # TP
             [0, 0.85, *_norm((11, 11, 50, 50))],   # duplicate
             [0, 0.5, *_norm((40, 40, 90, 90))]]]   # IoU < 0.5
    r = evaluate_detections(gt, dets, {0: "a", 1: "b"})
    assert r.tp_scores == (0.9,) and sorted(r.fp_scores) == [0.5, 0.85, 0.95]
    assert r.per_class[0].ap_voc50 == 1.0 and r.per_class[1].num_ground_truth == 0
    assert r.map_voc50 == 1.0  # classes without ground truth do not count


def test_no_detections_and_mismatched_lengths():
    gt = [GroundTruthImage(10, 10, ((0, 1, 1, 5, 5),))]
    r = evaluate_detections(gt, [[]], {0: "a"})
    assert (r.map_voc50, r.map_coco, r.num_detections) == (0.0, 0.0, 0)
    with pytest.raises(UsageError):
        evaluate_detections(gt, [], {0: "a"})


def test_voc_and_coco_agree_closely_on_noisy_detections():
    rng = random.Random(0)
    gt, dets = [], []
    for _ in range(60):
        boxes, rows = [], []
        for _ in range(rng.randint(1, 4)):
            c = rng.randrange(3)
            x, y, s = rng.uniform(0, 60), rng.uniform(0, 60), rng.uniform(10, 40)
            boxes.append((c, x, y, x + s, y + s))
            if rng.random() < 0.85:
                j = rng.uniform(-4, 4)
                cc = c if rng.random() > 0.15 else (c + 1) % 3
                rows.append([cc, rng.uniform(0.3, 1), *_norm((x + j, y + j, x + s + j, y + s))])
        for _ in range(rng.randint(0, 2)):
            x, y = rng.uniform(0, 70), rng.uniform(0, 70)
            rows.append([rng.randrange(3), rng.uniform(0, 0.6), *_norm((x, y, x + 20, y + 20))])
        gt.append(GroundTruthImage(100, 100, tuple(boxes)))
        dets.append(rows)
    r = evaluate_detections(gt, dets, {0: "a", 1: "b", 2: "c"})
    assert 0.3 < r.map_voc50 < 0.95
    assert abs(r.map_voc50 - r.map_coco50) < 0.03  # all-point vs 101-point interpolation
    assert r.map_coco < r.map_coco50
    assert sum(r.tp_scores) / len(r.tp_scores) > sum(r.fp_scores) / len(r.fp_scores)
    h = r.score_histogram(5)
    assert sum(h["tp"]) == len(r.tp_scores) and sum(h["fp"]) == len(r.fp_scores) and len(h["edges"]) == 6


def test_voc_ap_envelope():
    assert voc_ap([0.5, 1.0], [1.0, 0.5]) == 0.75
    assert voc_ap([0.5, 0.5, 1.0], [0.5, 1.0, 0.25]) == pytest.approx(0.625)
