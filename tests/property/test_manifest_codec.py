"""Hypothesis: the manifest codec round-trips, keeps one record per line, and enforces GT's limits."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtflow.errors import ManifestError
from gtflow.manifest import (
    MAX_ATTRIBUTE_CHARS,
    MAX_LINE_CHARS,
    attribute_name_problems,
    encode_record,
    limit_problems,
    read_manifest,
    validate_manifest,
    write_manifest,
)
from gtflow.manifest.limits import LABEL_ATTRIBUTE_PATTERN

# The machine running the suite may be shared: no deadlines, no "too slow" health checks.
RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large]

# Text without lone surrogates (UTF-8 cannot carry them), including line separators.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text, kids, max_size=4), max_leaves=12)
keys = text.filter(lambda k: not k.startswith("$"))
records = st.dictionaries(keys, values, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=RELAXED)
@given(st.lists(records, max_size=6))
def test_write_then_read_gives_the_same_records_in_the_same_key_order(recs: list[dict[str, Any]]) -> None:
    out = io.BytesIO()
    assert write_manifest(out, recs) == len(recs)
    data = out.getvalue()
    assert data.count(b"\n") == len(recs)
    got = [m.record for m in read_manifest(io.BytesIO(data))]
    assert got == recs
    assert [list(r) for r in got] == [list(r) for r in recs]


@settings(max_examples=50, deadline=None, suppress_health_check=RELAXED)
@given(records)
def test_an_encoded_record_is_one_line_for_every_line_splitter(rec: dict[str, Any]) -> None:
    line = encode_record(rec)
    assert len(line.splitlines()) <= 1 and "\n" not in line
    assert json.loads(line) == rec


@settings(max_examples=50, deadline=None, suppress_health_check=RELAXED)
@given(records)
def test_limit_problems_agree_with_the_writer(rec: dict[str, Any]) -> None:
    try:
        encode_record(rec)
        written = True
    except ManifestError:
        written = False
    assert written == (limit_problems(rec) == [])


@settings(max_examples=15, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(MAX_ATTRIBUTE_CHARS - 4, MAX_ATTRIBUTE_CHARS + 2), st.sampled_from(["x", "é", '"']))
def test_attribute_limit_boundary_on_write_and_read(n: int, ch: str) -> None:
    rec = {"source": "a", "big": ch * (n // 2 if ch == '"' else n)}
    serialised = len(json.dumps(rec["big"], ensure_ascii=False))
    try:
        line = encode_record(rec)
    except ManifestError as exc:
        assert serialised > MAX_ATTRIBUTE_CHARS and exc.field == "big"
        return
    assert serialised <= MAX_ATTRIBUTE_CHARS
    assert validate_manifest(io.BytesIO(line.encode() + b"\n")).valid


@settings(max_examples=8, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(MAX_LINE_CHARS - 3, MAX_LINE_CHARS + 3))
def test_line_limit_boundary(n: int) -> None:
    # Six attributes under the attribute limit, padded to a line of exactly n characters.
    base: dict[str, str] = {"source": "t", **{f"k{i}": "" for i in range(6)}}
    pad = n - len(encode_record(base))
    rec = {"source": "t", **{f"k{i}": "x" * (pad // 6 + (1 if i < pad % 6 else 0)) for i in range(6)}}
    line = json.dumps(rec, separators=(",", ":"))
    assert len(line) == n
    report = validate_manifest(io.BytesIO(line.encode()))
    assert report.valid == (n <= MAX_LINE_CHARS)
    assert report.error_count == (0 if n <= MAX_LINE_CHARS else 1)


@settings(max_examples=50, deadline=None, suppress_health_check=RELAXED)
@given(st.lists(st.binary(max_size=60), max_size=6))
def test_validate_never_crashes_on_arbitrary_bytes(lines: list[bytes]) -> None:
    data = b"\n".join(line.replace(b"\n", b"") for line in lines)
    report = validate_manifest(io.BytesIO(data), task="object-detection", label_attribute="box", num_classes=3)
    assert report.error_count >= len(report.errors)
    for p in report.problems:
        assert p.line is None or 1 <= p.line <= max(1, len(lines))


box = st.fixed_dictionaries(
    {
        "class_id": st.integers(-2, 6),
        "left": st.integers(-5, 120),
        "top": st.integers(-5, 120),
        "width": st.integers(-1, 120),
        "height": st.integers(-1, 120),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=RELAXED)
@given(st.lists(box, max_size=5), st.integers(1, 100), st.integers(1, 100))
def test_a_box_is_accepted_exactly_when_it_is_inside_the_image(boxes: list[dict[str, int]], w: int, h: int) -> None:
    rec = {"source-ref": "s3://bucket/a.jpg", "box": {"image_size": [{"width": w, "height": h, "depth": 3}], "annotations": boxes}}
    report = validate_manifest(io.BytesIO(json.dumps(rec).encode()), task="object-detection", label_attribute="box", num_classes=5, empty_policy="warn")
    inside = all(
        0 <= b["class_id"] < 5 and b["left"] >= 0 and b["top"] >= 0 and b["width"] > 0 and b["height"] > 0
        and b["left"] + b["width"] <= w and b["top"] + b["height"] <= h
        for b in boxes
    )
    assert report.valid == inside


@settings(max_examples=40, deadline=None, suppress_health_check=RELAXED)
@given(st.from_regex(LABEL_ATTRIBUTE_PATTERN, fullmatch=True))
def test_names_matching_the_botocore_pattern_are_accepted_unless_reserved(name: str) -> None:
    problems = attribute_name_problems(name)
    reserved = name.endswith("-metadata") or name.endswith("-ref")
    assert (problems == []) == (len(name) <= 127 and not reserved)


@settings(max_examples=50, deadline=None, suppress_health_check=RELAXED)
@given(text)
def test_names_with_other_characters_are_refused(name: str) -> None:
    if any(not (c.isascii() and (c.isalnum() or c == "-")) for c in name) or not name:
        assert attribute_name_problems(name)
