"""Property: merging reviews never drops an old labeled image unless a newer review replaced it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.training.manifests import merge_reviewed, split_train_validation
from gtflow.training.records import parse_creation_date

NAMES = ["circle", "ellipse", "square", "triangle"]
REFS = [f"s3://bucket/img/{i}.png" for i in range(8)]


def _line(ref, cls, day, fmt):
    date = None
    if day is not None:
        d = dt.datetime(2026, 1, 1) + dt.timedelta(days=day)
        date = d.strftime("%Y-%m-%dT%H:%M:%S.%f") if fmt == "gt" else d.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    meta = {"class-map": {str(c): NAMES[c] for c in cls}}
    if date:
        meta["creation-date"] = date
    return {"source-ref": ref,
            "bb": {"image_size": [{"width": 50, "height": 50, "depth": 3}],
                   "annotations": [{"class_id": c, "left": 1, "top": 1, "width": 5, "height": 5} for c in cls]},
            "bb-metadata": meta}


lines = st.builds(_line, st.sampled_from(REFS), st.lists(st.integers(0, 3), max_size=3),
                  st.one_of(st.none(), st.integers(0, 5)), st.sampled_from(["gt", "a2i"]))


def _key(line, seq):
    return (parse_creation_date(line["bb-metadata"].get("creation-date")) or dt.datetime.min, seq)


@settings(max_examples=150, deadline=None)
@given(st.lists(lines, max_size=10), st.lists(lines, max_size=10))
def test_merge_keeps_every_old_image_and_the_newest_label(previous, reviewed):
    res = merge_reviewed(previous, reviewed, label_attribute="bb", class_map=dict(enumerate(NAMES)))
    out = {r["source-ref"]: r for r in res.records}
    # one line per image; nothing old lost, nothing invented
    assert len(out) == len(res.records)
    assert set(out) == {r["source-ref"] for r in previous} | {r["source-ref"] for r in reviewed}
    # the label kept is the newest (creation-date, then input order) of all candidates
    seq_lines = list(previous) + list(reviewed)
    for ref, kept in out.items():
        cands = [(i, ln) for i, ln in enumerate(seq_lines) if ln["source-ref"] == ref]
        _, winner = max(cands, key=lambda t: _key(t[1], t[0]))
        assert kept["bb"] == winner["bb"]
    # an old image's label changes only when a review for it is newer than the old label
    for ref in {r["source-ref"] for r in previous}:
        old = [(i, ln) for i, ln in enumerate(previous) if ln["source-ref"] == ref]
        best_old = max(_key(ln, i) for i, ln in old)
        newer_review = any(ln["source-ref"] == ref and _key(ln, len(previous) + j) > best_old
                           for j, ln in enumerate(reviewed))
        assert (ref in res.replaced) == newer_review


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(REFS + [f"s3://bucket/x/{i}" for i in range(40)]), unique=True),
       st.floats(0, 0.9))
def test_split_is_a_partition(refs, frac):
    recs = [{"source-ref": r} for r in refs]
    train, val = split_train_validation(recs, frac)
    assert sorted(r["source-ref"] for r in train + val) == sorted(refs)
    again = split_train_validation(list(reversed(recs)), frac)
    assert {r["source-ref"] for r in again[1]} == {r["source-ref"] for r in val}
