"""Hypothesis properties of the bulk QA analysis and both threshold methods."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.qa import Buckets, Verdict, analyse, bucket_walk, lower_bound, parse_verdicts
from gtflow.qa.records import write_verdicts_csv, write_verdicts_jsonl
from gtflow.qa.thresholds import break_even_precision, wilson_lower_bound

labels = st.sampled_from(["cat", "dog", "a|b", "ünï"])
confidences = st.one_of(st.integers(70, 100).map(float), st.floats(75, 100, allow_nan=False))
verdict = st.builds(
    Verdict,
    image=st.text(min_size=1, max_size=8),
    label=labels,
    confidence=confidences,
    confirmed=st.integers(0, 3),
    disconfirmed=st.integers(0, 3),
)
verdict_lists = st.lists(verdict, max_size=60, unique_by=lambda v: (v.image, v.label))
ratios = st.floats(0.05, 50, allow_nan=False)


@given(verdict_lists)
@settings(max_examples=80, deadline=None)
def test_every_record_is_counted_once(vs: list[Verdict]) -> None:
    a = analyse(vs)
    in_buckets = sum(b.total for c in a.classes.values() for b in c.buckets)
    assert in_buckets + a.unreviewed + a.out_of_range == len(vs)
    for c in a.classes.values():
        for b in c.buckets:
            assert b.confirmed + b.disconfirmed + b.split == b.total
            assert 0 <= b.correct <= b.total


@given(verdict_lists)
@settings(max_examples=60, deadline=None)
def test_rules_are_ordered(vs: list[Verdict]) -> None:
    any_, maj, una = (analyse(vs, rule=r).summary.correct for r in ("any", "majority", "unanimous"))
    assert any_ >= maj >= una


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_buckets_partition_their_range(x: float) -> None:
    b = Buckets((80, 85, 90, 95, 100))
    i = b.index(x)
    if 80 <= x <= 100:
        assert i is not None
        lo, hi = b.bounds(i)
        assert lo <= x < hi or (x == hi == 100)
    else:
        assert i is None


@given(verdict_lists, ratios, ratios)
@settings(max_examples=80, deadline=None)
def test_bucket_walk_is_stricter_for_dearer_mistakes(vs: list[Verdict], r1: float, r2: float) -> None:
    lo_r, hi_r = sorted((r1, r2))
    a = analyse(vs)
    cheap, dear = bucket_walk(a, cost_ratio=lo_r), bucket_walk(a, cost_ratio=hi_r)
    for label in a.classes:
        t1 = math.inf if cheap[label].threshold is None else cheap[label].threshold
        t2 = math.inf if dear[label].threshold is None else dear[label].threshold
        assert t2 >= t1


@given(verdict_lists, ratios)
@settings(max_examples=80, deadline=None)
def test_lower_bound_accepts_only_sets_whose_bound_passes(vs: list[Verdict], r: float) -> None:
    a = analyse(vs)
    for label, t in lower_bound(a, cost_ratio=r).items():
        if t.threshold is None:
            continue
        c = a.classes[label]
        taken = [ok for conf, ok in c.items if conf >= t.threshold]
        assert (len(taken), sum(taken)) == (t.accepted, t.correct)
        assert wilson_lower_bound(t.correct, t.accepted) > break_even_precision(r)
        assert t.correct / t.accepted > break_even_precision(r)
        assert t.threshold in {conf for conf, _ in c.items}


@given(verdict_lists)
@settings(max_examples=50, deadline=None)
def test_file_formats_round_trip(vs: list[Verdict]) -> None:
    assert list(parse_verdicts(write_verdicts_jsonl(vs), name="v.jsonl")) == vs
    assert list(parse_verdicts(write_verdicts_csv(vs), name="v.csv")) == vs
