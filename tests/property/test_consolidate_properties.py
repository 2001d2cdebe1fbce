"""Hypothesis properties of consolidation: order independence, one worker, identical workers."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.consolidate.boxes import Box, cluster_boxes, consolidate_boxes
from gtflow.consolidate.classes import dawid_skene, majority_label, majority_labels
from gtflow.consolidate.request import ConsolidationContext, ObjectAnswers, WorkerAnswer

LABELS = ["cat", "dog", "bird"]

boxes_st = st.builds(
    Box,
    label=st.sampled_from(LABELS),
    left=st.integers(0, 200),
    top=st.integers(0, 200),
    width=st.integers(0, 80),
    height=st.integers(0, 80),
)
worker_boxes_st = st.dictionaries(
    st.sampled_from([f"private.us-east-1.w{i}" for i in range(5)]),
    st.lists(boxes_st, max_size=8),
    min_size=1,
    max_size=5,
)


def _shuffled(d: dict[str, list[Box]], seed: int) -> dict[str, list[Box]]:
    rng = random.Random(seed)
    keys = list(d)
    rng.shuffle(keys)
    out = {}
    for k in keys:
        v = list(d[k])
        rng.shuffle(v)
        out[k] = v
    return out


@settings(max_examples=80, deadline=None)
@given(worker_boxes_st, st.integers(0, 2**32), st.sampled_from(["numpy", "python", "pairwise"]))
def test_box_consolidation_does_not_depend_on_answer_order(wb: dict[str, list[Box]], seed: int, engine: str) -> None:
    assert cluster_boxes(_shuffled(wb, seed), engine=engine) == cluster_boxes(wb, engine=engine)


@settings(max_examples=80, deadline=None)
@given(worker_boxes_st)
def test_engines_agree(wb: dict[str, list[Box]]) -> None:
    assert cluster_boxes(wb, engine="numpy") == cluster_boxes(wb, engine="python") == cluster_boxes(wb, engine="pairwise")


@settings(max_examples=80, deadline=None)
@given(st.lists(boxes_st, max_size=12))
def test_one_worker_gives_back_its_boxes(boxes: list[Box]) -> None:
    out = cluster_boxes({"w1": boxes})
    assert sorted((f.label, f.left, f.top, f.width, f.height) for f in out) == sorted(
        (b.label, b.left, b.top, b.width, b.height) for b in boxes)
    assert all(f.confidence == 1.0 and f.workers == ("w1",) for f in out)


@settings(max_examples=80, deadline=None)
@given(st.lists(boxes_st, max_size=10), st.integers(2, 5))
def test_identical_workers_agree_fully(boxes: list[Box], n: int) -> None:
    workers = {f"w{i}": list(boxes) for i in range(n)}
    out = cluster_boxes(workers)
    assert sorted((f.label, f.left, f.top, f.width, f.height) for f in out) == sorted(
        (b.label, b.left, b.top, b.width, b.height) for b in boxes)
    assert all(f.confidence == 1.0 and len(f.workers) == n for f in out)


@settings(max_examples=40, deadline=None)
@given(worker_boxes_st, st.integers(0, 2**32))
def test_box_response_is_order_independent(wb: dict[str, list[Box]], seed: int) -> None:
    def obj(d: dict[str, list[Box]]) -> ObjectAnswers:
        answers = tuple(WorkerAnswer(w, {"annotatedResult": {
            "boundingBoxes": [{"label": b.label, "left": b.left, "top": b.top, "width": b.width, "height": b.height}
                              for b in bs],
            "inputImageProperties": {"width": 300, "height": 300}}}) for w, bs in d.items())
        return ObjectAnswers("0", {"s3Uri": "s3://bkt/a.jpg"}, answers)

    ctx = ConsolidationContext("attr", "job", tuple(LABELS))
    assert consolidate_boxes([obj(_shuffled(wb, seed))], ctx) == consolidate_boxes([obj(wb)], ctx)


votes_st = st.dictionaries(st.sampled_from([f"w{i}" for i in range(6)]), st.sampled_from(LABELS), min_size=1)


@settings(max_examples=80, deadline=None)
@given(votes_st, st.integers(0, 2**32))
def test_majority_vote_is_order_independent(votes: dict[str, str], seed: int) -> None:
    items = list(votes.items())
    random.Random(seed).shuffle(items)
    assert majority_label(dict(items), LABELS) == majority_label(votes, LABELS)
    label, conf = majority_label(votes, LABELS)
    counts = {c: list(votes.values()).count(c) for c in LABELS}
    assert counts[label] == max(counts.values())
    assert LABELS.index(label) == min(LABELS.index(c) for c in LABELS if counts[c] == counts[label])  # tie rule


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from([f"w{i}" for i in range(5)]),
                       st.lists(st.sampled_from(LABELS), unique=True), min_size=1), st.integers(0, 2**32))
def test_multilabel_vote_is_order_independent(votes: dict[str, list[str]], seed: int) -> None:
    items = [(w, list(reversed(v))) for w, v in votes.items()]
    random.Random(seed).shuffle(items)
    assert majority_labels(dict(items), LABELS) == majority_labels(votes, LABELS)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from([str(i) for i in range(8)]), votes_st, min_size=1, max_size=8),
       st.integers(0, 2**32))
def test_dawid_skene_is_order_independent(batch: dict[str, dict[str, str]], seed: int) -> None:
    rng = random.Random(seed)
    objs = list(batch.items())
    rng.shuffle(objs)
    shuffled = {}
    for o, v in objs:
        items = list(v.items())
        rng.shuffle(items)
        shuffled[o] = dict(items)
    assert dawid_skene(shuffled, LABELS) == dawid_skene(batch, LABELS)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from([str(i) for i in range(8)]), st.sampled_from(LABELS), min_size=1),
       st.integers(1, 4))
def test_dawid_skene_unanimous_workers_win(truth: dict[str, str], n: int) -> None:
    batch = {o: {f"w{i}": c for i in range(n)} for o, c in truth.items()}
    assert {o: lab for o, (lab, _) in dawid_skene(batch, LABELS).items()} == truth
