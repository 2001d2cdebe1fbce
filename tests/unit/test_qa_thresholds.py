"""Both threshold methods on verdict sets built so the answer is known by hand."""

from __future__ import annotations

import math

import pytest

from gtflow.errors import UsageError
from gtflow.qa import (
    Verdict,
    analyse,
    bucket_walk,
    lower_bound,
    policy_document,
    recommend,
    wilson_lower_bound,
)
from gtflow.qa.thresholds import acceptable, break_even_precision, scaled_policy, thresholds_json

EDGES = [80, 85, 90, 95, 100]


def items(label: str, lo: float, hi: float, correct: int, wrong: int, *, wrong_first: bool = False) -> list[Verdict]:
    """``correct + wrong`` single-worker verdicts spread evenly over [lo, hi)."""
    n = correct + wrong
    oks = [False] * wrong + [True] * correct if wrong_first else [True] * correct + [False] * wrong
    out = []
    for i, ok in enumerate(oks):
        conf = hi - (hi - lo) * (i + 1) / (n + 1)  # highest first, strictly inside the range
        out.append(Verdict(f"s3://b/{label}/{lo}-{i}.jpg", label, round(conf, 6), int(ok), int(not ok)))
    return out


def test_economics() -> None:
    assert break_even_precision(10) == pytest.approx(10 / 11)
    assert acceptable(10, 1, 10)  # exactly break-even: expected value 0, accepted
    assert not acceptable(9, 1, 10)
    assert acceptable(1, 1, 1) and not acceptable(0, 1, 1)
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(UsageError):
            break_even_precision(bad)


def test_bucket_walk_known_answers() -> None:
    vs = (
        # A: [95,100] 20/1 ok, [90,95) 10/1 ok (exactly 1 in 11), [85,90) 9/1 fails -> 90
        items("A", 95, 100, 20, 1) + items("A", 90, 95, 10, 1) + items("A", 85, 90, 9, 1) + items("A", 80, 85, 50, 0)
        # B: the top bucket fails -> never auto-accepted
        + items("B", 95, 100, 5, 1) + items("B", 80, 95, 100, 0)
        # C: a class with one item, correct -> every bucket "acceptable" -> lowest edge
        + [Verdict("s3://b/C/1.jpg", "C", 97, 1, 0)]
        # D: an empty bucket in the middle is passed through; [85,90) fails -> its upper edge 90
        + items("D", 95, 100, 30, 0) + items("D", 85, 90, 3, 1) + items("D", 80, 85, 30, 0)
        # E: every bucket fine -> 80
        + items("E", 80, 100, 40, 0)
        # F: the top bucket is empty and the first bucket with items fails -> None
        + items("F", 90, 95, 1, 1)
        # G: a class with one item, wrong
        + [Verdict("s3://b/G/1.jpg", "G", 99, 0, 1)]
        # H: only unreviewed images
        + [Verdict("s3://b/H/1.jpg", "H", 99, 0, 0)]
    )
    got = thresholds_json(bucket_walk(analyse(vs, edges=EDGES), cost_ratio=10))
    assert got == {"A": 90.0, "B": None, "C": 80.0, "D": 90.0, "E": 80.0, "F": None, "G": None, "H": None}
    walk = bucket_walk(analyse(vs, edges=EDGES), cost_ratio=10)
    assert (walk["A"].accepted, walk["A"].correct) == (32, 30)
    # a lower cost ratio tolerates A's [85,90) bucket (1 in 10 wrong) -> down to 80
    assert bucket_walk(analyse(vs, edges=EDGES), cost_ratio=9)["A"].threshold == 80.0


def test_wilson_lower_bound() -> None:
    z2 = 1.6448536269514722**2
    for n in (1, 3, 27, 28, 1000):  # all correct: n / (n + z^2)
        assert wilson_lower_bound(n, n) == pytest.approx(n / (n + z2))
    assert wilson_lower_bound(0, 10) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(50, 100) < 0.5 < wilson_lower_bound(60, 100)
    assert wilson_lower_bound(9, 10, 0.99) < wilson_lower_bound(9, 10, 0.9)
    with pytest.raises(UsageError):
        wilson_lower_bound(11, 10)


def test_lower_bound_needs_enough_images() -> None:
    # R = 10: all-correct images pass once n / (n + z^2) > 10/11, i.e. n >= 28
    small = items("few", 90, 100, 27, 0)
    enough = items("many", 90, 100, 28, 0)
    one = [Verdict("s3://b/one.jpg", "one", 99, 1, 0)]
    got = lower_bound(analyse(small + enough + one, edges=EDGES), cost_ratio=10)
    assert got["few"].threshold is None
    assert got["one"].threshold is None
    assert got["many"].threshold == min(v.confidence for v in enough)
    assert (got["many"].accepted, got["many"].correct) == (28, 28)
    # the bucket walk trusts both small classes down to the lowest edge
    walk = bucket_walk(analyse(small + one, edges=EDGES), cost_ratio=10)
    assert walk["few"].threshold == 80.0 and walk["one"].threshold == 80.0


def test_lower_bound_stops_where_value_drops() -> None:
    # 100 right in [95,100); below 95 the first ten are wrong: any lower threshold loses value
    vs = items("cat", 95, 100, 100, 0) + items("cat", 80, 95, 40, 10, wrong_first=True)
    t = lower_bound(analyse(vs, edges=EDGES), cost_ratio=10)["cat"]
    assert t.threshold == min(v.confidence for v in vs if v.confidence >= 95)
    assert t.accepted == 100


def test_bucket_walk_fooled_by_one_noisy_bucket() -> None:
    # 600 right images and one wrong in a bucket of ten: 1/10 > 1/11 stops the walk at 95,
    # while the cumulative precision of everything >= 80 is 609/610.
    vs = (items("dog", 95, 100, 200, 0) + items("dog", 90, 95, 9, 1)
          + items("dog", 85, 90, 200, 0) + items("dog", 80, 85, 200, 0))
    a = analyse(vs, edges=EDGES)
    assert bucket_walk(a, cost_ratio=10)["dog"].threshold == 95.0
    lb = lower_bound(a, cost_ratio=10)["dog"]
    assert lb.threshold == min(v.confidence for v in vs)
    assert (lb.accepted, lb.correct) == (610, 609)


def test_lower_bound_equal_confidences_go_together() -> None:
    # 40 right at 99 and 5 wrong at exactly 95 plus 40 right at exactly 95: a threshold of 95
    # takes all 85 (p = 80/85 < 10/11), so only 99 is possible
    vs = [Verdict(f"a{i}", "c", 99, 1, 0) for i in range(40)]
    vs += [Verdict(f"b{i}", "c", 95, 0, 1) for i in range(5)] + [Verdict(f"c{i}", "c", 95, 1, 0) for i in range(40)]
    t = lower_bound(analyse(vs, edges=EDGES), cost_ratio=10)["c"]
    assert (t.threshold, t.accepted) == (99, 40)


def test_recommend_and_policy() -> None:
    a = analyse(items("cat", 90, 100, 50, 0) + items("dog", 95, 100, 1, 1), edges=EDGES)
    with pytest.raises(UsageError):
        recommend(a, cost_ratio=10, method="guess")
    r = recommend(a, cost_ratio=10, method="lower-bound")
    doc = scaled_policy(r, top_edge=100)
    assert doc["version"] == 1 and doc["kind"] == "per-class" and doc["default"] == 1.0
    assert doc["thresholds"]["dog"] is None
    assert doc["thresholds"]["cat"] == pytest.approx(r["cat"].threshold / 100)
    assert scaled_policy(r, top_edge=1.0)["thresholds"]["cat"] == 1.0  # capped at 1 on a 0..1 scale
    assert policy_document({"x": 0.5}, default=0.7) == {"version": 1, "kind": "per-class", "thresholds": {"x": 0.5}, "default": 0.7}
    with pytest.raises(UsageError):
        scaled_policy(r, top_edge=100, default=5)
