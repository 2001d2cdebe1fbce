"""The msgspec lane of ``validate_manifest(task="object-detection")`` gives the same report as
the pure-Python path, line for line, on a manifest mixing good lines with every broken shape
the validation tests know (and blank lines, a BOM, fractions, "$" names, class-map conflicts).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

import gtflow.manifest.fast as fast
from gtflow.manifest import validate_manifest
from tests.unit.test_manifest_validate import ATTR, BROKEN, mutate, od_line

pytestmark = pytest.mark.skipif(not fast.available(), reason="msgspec is not installed: there is no lane to compare")


def _lines() -> list[bytes]:
    rng = random.Random(7)
    good = []
    for i in range(1200):
        rec = od_line(rng.randint(0, 5), class_id=rng.choice([0, 1, 2]), size=(500 + i % 3, 400))
        if rec[f"{ATTR}-metadata"]["class-map"]:
            rec[f"{ATTR}-metadata"]["class-map"] = {str(rec[ATTR]["annotations"][0]["class_id"]): "dog"}
        good.append(rec)
    good[700][f"{ATTR}-metadata"]["class-map"] = {"0": "cat"}  # conflicts with "dog"
    good[701][f"{ATTR}-metadata"]["class-map"] = {}  # unnamed class id
    good[702][ATTR]["annotations"][:0] = [{"class_id": 1, "left": 0.5, "top": 2, "width": 3.5, "height": 4}]
    good[702][f"{ATTR}-metadata"]["objects"].insert(0, {"confidence": 1})
    good[703]["source-ref"] = "local/img.jpg"  # a warning, not an error
    good[704][f"{ATTR}-metadata"]["objects"] = [{"confidence": {"nested": 1}}] * len(good[704][ATTR]["annotations"])
    good[705][f"{ATTR}-metadata"]["type"] = "groundtruth/custom"
    good[706]["$weird"] = 1
    good[707][ATTR]["image_size"][0]["depth"] = 1
    lines = [json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in good]
    lines[708] = lines[708].replace(b'"source-ref"', b'"source-\\u0072ef"')  # an escape
    for i, (_, fn, _) in enumerate(BROKEN):
        lines.insert(40 + i * 23, json.dumps(mutate(fn)).encode() + b"\n")
    lines.insert(300, b"\n")  # a blank line inside
    lines.insert(500, b"[1, 2]\n")
    lines.insert(501, b"{oops\n")
    lines.insert(900, json.dumps({**od_line(1), "pad": "x" * 120_000}).encode() + b"\n")
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    return lines + [b"\n", b"\n"]  # trailing blank lines are allowed


ACCEPTED: list[int] = []


def _report(path: Path, *, lane: bool, **kw: Any) -> Any:
    saved, scan = fast.msgspec, fast.Lane.scan

    def spy(self: Any, *a: Any) -> Any:
        n, accepted = scan(self, *a)
        ACCEPTED.append(accepted)
        return n, accepted

    if not lane:
        fast.msgspec = None  # type: ignore[assignment]
    ACCEPTED.clear()
    fast.Lane.scan = spy  # type: ignore[method-assign]
    try:
        report = validate_manifest(str(path), task="object-detection", **kw)
    finally:
        fast.msgspec, fast.Lane.scan = saved, scan  # type: ignore[method-assign]
    assert (sum(ACCEPTED) > report.lines // 2) if lane else not ACCEPTED  # the lane did the work
    return report


@pytest.mark.parametrize("kw", [
    {"label_attribute": ATTR, "num_classes": 3},
    {"label_attribute": None, "num_classes": 2, "empty_policy": "error"},
    {"label_attribute": ATTR, "empty_policy": "drop", "label_width": 20},
])
def test_lane_and_pure_python_give_the_same_report(tmp_path: Path, kw: dict[str, Any]) -> None:
    path = tmp_path / "mixed.manifest"
    path.write_bytes(b"".join(_lines()))
    kw = {**kw, "max_problems": 100_000}
    if kw.get("empty_policy") == "drop":
        fast_r = _report(path, lane=True, cleaned=str(tmp_path / "fast.manifest"), **kw)
        slow_r = _report(path, lane=False, cleaned=str(tmp_path / "slow.manifest"), **kw)
    else:
        fast_r, slow_r = _report(path, lane=True, **kw), _report(path, lane=False, **kw)
    assert fast_r.problems == slow_r.problems
    assert fast_r == slow_r or {k: v for k, v in vars(fast_r).items() if k != "cleaned_path"} == {
        k: v for k, v in vars(slow_r).items() if k != "cleaned_path"}
    assert len(fast_r.problems) > len(BROKEN)  # the mix really has problems
    if kw.get("empty_policy") == "drop":
        assert fast_r.dropped > 0


def test_lane_and_pure_python_agree_on_a_clean_copy(tmp_path: Path) -> None:
    rng = random.Random(1)
    recs = [od_line(rng.randint(0, 4)) for _ in range(700)]
    path = tmp_path / "clean.manifest"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in recs))
    kw = {"label_attribute": ATTR, "num_classes": 1, "empty_policy": "drop"}
    a = _report(path, lane=True, cleaned=str(tmp_path / "a.manifest"), **kw)
    b = _report(path, lane=False, cleaned=str(tmp_path / "b.manifest"), **kw)
    assert (tmp_path / "a.manifest").read_bytes() == (tmp_path / "b.manifest").read_bytes()
    assert a.problems == b.problems and a.dropped == b.dropped > 0 and a.boxes == b.boxes
    copy.deepcopy(a)
