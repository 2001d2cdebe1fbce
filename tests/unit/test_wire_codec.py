"""The one codec of gtflow.wire: declared fields read and written by one walker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from gtflow.errors import ContractError
from gtflow.wire import BoundingBoxAnnotation, ConsolidationResponseItem, ObjectConfidence
from gtflow.wire._base import EXTRA, KEY_ORDER, Pixel, Size, WireValue, whole_pixel, wire


@dataclass(frozen=True, slots=True)
class _Sample(WireValue):
    name: str = wire("the-name")
    count: int = wire()
    where: Pixel = wire()
    size: Size = wire()
    note: str | None = wire(default=None)
    tags: tuple[str, ...] | None = wire(default=None)
    scores: Mapping[str, float] | None = wire(default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("count", "the-name", "where", "size", "note", "tags", "scores")


GOOD = {"the-name": "a", "count": 1, "where": 2.5, "size": 0}


def test_a_field_knows_its_key_type_and_whether_it_is_required() -> None:
    v = _Sample.from_dict({**GOOD, "tags": ["x"], "scores": {"k": 1}})
    assert (v.name, v.count, v.where, v.size, v.tags, v.scores) == ("a", 1, 2.5, 0, ("x",), {"k": 1})
    assert _Sample.wire_keys() == _Sample._ORDER and _Sample.key_of("name") == "the-name"
    for key, bad, message in [
        ("the-name", None, "expected a string, got null"), ("count", 1.0, "expected an integer"),
        ("count", True, "expected an integer"), ("where", "2", "expected a number"),
        ("where", float("nan"), "finite"), ("size", -1, "non-negative"), ("tags", ["x", 1], "string"),
        ("scores", {"k": "1"}, "number"),
    ]:
        with pytest.raises(ContractError, match=message) as e:
            _Sample.from_dict({**GOOD, key: bad}, "p")
        assert e.value.field is not None and e.value.field.startswith(f"p.{key}")
    with pytest.raises(ContractError, match="missing required field") as e:
        _Sample.from_dict({"count": 1, "where": 0, "size": 0}, "p")
    assert e.value.field == "p.the-name"


def test_unknown_keys_and_key_order_survive_a_round_trip() -> None:
    doc = {"zz": [1], "size": 3, "where": 1, "note": None, "the-name": "n", "count": 2}
    v = _Sample.from_dict(doc)
    assert v.extra == {"zz": [1]} and json.dumps(v.to_dict()) == json.dumps(doc)  # null kept, order kept
    built = _Sample("n", 2, 1, 3)
    assert list(built.to_dict()) == ["count", "the-name", "where", "size"]  # GT's order, None omitted


def test_strict_types_refuse_unknown_keys_and_nothing_writes_nan() -> None:
    with pytest.raises(ContractError, match="unknown field") as e:
        ConsolidationResponseItem.from_dict({"datasetObjectId": "0", "consolidatedAnnotation": {"content": {"a": 1}},
                                             "x": 1})
    assert e.value.field == "x"
    with pytest.raises(ContractError, match="NaN"):
        ObjectConfidence(float("nan")).to_dict()
    with pytest.raises(ContractError, match="NaN"):
        BoundingBoxAnnotation(0, 1, 2, float("inf"), 4).to_dict()


def test_whole_pixel_rounds_half_up() -> None:
    assert [whole_pixel(v) for v in (10.4, 10.5, 10.6, 588.5, 0, 3)] == [10, 11, 11, 589, 0, 3]


def test_wire_loads_lazily() -> None:
    code = (
        "import sys, gtflow.wire as w\n"
        "before = sorted(m for m in sys.modules if m.startswith('gtflow.wire'))\n"
        "from gtflow.wire.gt_pre import PreAnnotationEvent\n"
        "pre = sorted(m for m in sys.modules if m.startswith('gtflow.wire'))\n"
        "w.HumanLoopOutput\n"
        "after = sorted(m for m in sys.modules if m.startswith('gtflow.wire'))\n"
        "print(before, pre, 'gtflow.wire.a2i' in after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "['gtflow.wire'] ['gtflow.wire', 'gtflow.wire._base', 'gtflow.wire.gt_pre'] True"
