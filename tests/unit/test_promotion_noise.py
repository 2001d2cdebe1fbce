"""An honest promotion: a difference inside the evaluation's noise is never "promoted".

The noise is a paired bootstrap interval of the mAP@0.5 difference over the held-out images
(:mod:`gtflow.training.comparison`); the retraining round promotes only when the whole interval
lies above the margin.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from gtflow.pipeline.retrain import promotion_reason
from gtflow.training.comparison import compare_map50
from gtflow.training.evaluation import GroundTruthImage, evaluate_detections

CLASSES = {0: "circle", 1: "ellipse", 2: "square", 3: "triangle"}


def _dataset(n: int, seed: int = 3) -> list[GroundTruthImage]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        boxes = []
        for _ in range(rng.randint(1, 3)):
            x, y, w = rng.uniform(0, 60), rng.uniform(0, 60), rng.uniform(15, 35)
            boxes.append((rng.randrange(4), x, y, x + w, y + w))
        out.append(GroundTruthImage(100, 100, tuple(boxes)))
    return out


def _model(gt: list[GroundTruthImage], skill: float, seed: int) -> list[list[list[float]]]:
    """Detections that find each box with probability ``skill`` (else a wrong box), plus clutter."""
    rng = random.Random(seed)
    dets = []
    for g in gt:
        rows = []
        for c, x1, y1, x2, y2 in g.boxes:
            if rng.random() < skill:
                rows.append([c, rng.uniform(0.5, 1.0), x1 / 100, y1 / 100, x2 / 100, y2 / 100])
            else:
                rows.append([c, rng.uniform(0.3, 0.9), 0.0, 0.9, 0.05, 0.95])
        rows += [[rng.randrange(4), rng.uniform(0.01, 0.4), 0.5, 0.0, 0.6, 0.1] for _ in range(5)]
        dets.append(rows)
    return dets


def test_the_bootstrap_mean_matches_the_evaluators_map() -> None:
    gt = _dataset(60)
    a = evaluate_detections(gt, _model(gt, 0.6, 1), CLASSES)
    b = evaluate_detections(gt, _model(gt, 0.8, 2), CLASSES)
    c = compare_map50(a, b)
    assert c.map_a == pytest.approx(a.map_voc50, abs=1e-5) and c.map_b == pytest.approx(b.map_voc50, abs=1e-5)
    assert c.low <= c.delta <= c.high


def test_two_equal_models_are_not_promoted() -> None:
    gt = _dataset(120)
    same = _model(gt, 0.7, 5)
    current, candidate = evaluate_detections(gt, same, CLASSES), evaluate_detections(gt, same, CLASSES)
    c = compare_map50(current, candidate)
    assert c.delta == 0 and c.verdict() == "within noise" and not c.significant
    before = {"map50": current.map_voc50}
    after = {"map50": candidate.map_voc50}
    assert promotion_reason(before, after, c.to_dict(), "map50", 0.0) == "within-noise"
    # without a noise estimate an unchanged metric is not an improvement either
    assert promotion_reason(before, after, None, "map50", 0.0) == "below-margin"


def test_two_models_of_equal_skill_differ_only_by_noise() -> None:
    """Same skill, different random mistakes: their mAP differs, but not beyond the noise."""
    gt = _dataset(120)
    a = evaluate_detections(gt, _model(gt, 0.7, 11), CLASSES)
    b = evaluate_detections(gt, _model(gt, 0.7, 12), CLASSES)
    c = compare_map50(a, b)
    assert c.delta != 0 and c.verdict() == "within noise", c
    assert promotion_reason({"map50": a.map_voc50}, {"map50": b.map_voc50}, c.to_dict(), "map50", 0.0) == "within-noise"


def test_a_clearly_better_model_is_promoted_and_a_worse_one_is_not() -> None:
    gt = _dataset(120)
    weak = evaluate_detections(gt, _model(gt, 0.4, 21), CLASSES)
    strong = evaluate_detections(gt, _model(gt, 0.9, 22), CLASSES)
    up, down = compare_map50(weak, strong), compare_map50(strong, weak)
    assert up.verdict() == "better" and down.verdict() == "worse"
    assert promotion_reason({"map50": weak.map_voc50}, {"map50": strong.map_voc50}, up.to_dict(), "map50", 0.0) == "better"
    assert promotion_reason({"map50": strong.map_voc50}, {"map50": weak.map_voc50}, down.to_dict(), "map50", 0.0) == "worse"
    # a margin larger than the interval's lower end holds a real but small gain back
    assert promotion_reason({"map50": weak.map_voc50}, {"map50": strong.map_voc50}, up.to_dict(), "map50",
                            up.low + 0.01) == "below-margin"


def test_the_retraining_round_does_not_promote_an_equal_model(tmp_path: Any) -> None:
    """The pipeline itself: a candidate that evaluates exactly like the current model stays unpromoted."""
    import datetime as dt

    from gtflow.pipeline.registry import ModelRegistry
    from gtflow.pipeline.retrain import RetrainConfig, RetrainServices, retrain
    from gtflow.pipeline.watermark import CompletedAnswer
    from gtflow.store import LocalStore

    store = LocalStore(tmp_path)
    gt = _dataset(80)
    report = evaluate_detections(gt, _model(gt, 0.7, 5), CLASSES)
    registry = ModelRegistry(store, "s3://bkt/models")
    registry.promote({"model_uri": "s3://bkt/m0.tar.gz", "metrics": {"map50": report.map_voc50}})
    store.put_text("s3://bkt/seed.manifest", "")
    cfg = RetrainConfig(name="eq", state_prefix="s3://bkt/state", models_prefix="s3://bkt/models",
                        output_prefix="s3://bkt/out", label_attribute="bb", class_map={"0": "circle"},
                        training_manifest="s3://bkt/seed.manifest", heldout_manifest="s3://bkt/heldout.manifest")
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    services = RetrainServices(
        store=store,
        completed_answers=lambda: [CompletedAnswer("loop-1", when, "s3://bkt/a2i/loop-1/output.json")],
        to_records=lambda answers: [{
            "source-ref": "s3://bkt/x.png",
            "bb": {"image_size": [{"width": 16, "height": 16, "depth": 3}],
                   "annotations": [{"class_id": 0, "left": 2, "top": 2, "width": 4, "height": 4}]},
            "bb-metadata": {"class-map": {"0": "circle"}, "objects": [{"confidence": 1}],
                            "type": "groundtruth/object-detection", "human-annotated": "yes",
                            "creation-date": "2026-03-01T12:00:00.000Z", "job-name": "a2i/x"}}],
        merge=lambda prev, reviewed, out: {"lines": 1},
        train=lambda job, train, heldout, base: {"model_uri": "s3://bkt/m1.tar.gz"},
        evaluate=lambda model, manifest: {"map50": report.map_voc50},
        registry=registry,
        compare=lambda current, candidate, manifest: compare_map50(report, report).to_dict(),
    )
    result = retrain(cfg, services)
    assert result.status == "rejected" and result.reason == "within-noise"
    assert result.comparison is not None and result.comparison["verdict"] == "within noise"
    assert registry.current()["model_uri"] == "s3://bkt/m0.tar.gz"
