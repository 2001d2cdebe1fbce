"""No NaN or Infinity in any JSON gtflow writes."""

from __future__ import annotations

import json

import pytest

from gtflow.strict_json import dumps_strict, finite


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(name)
    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_at_any_depth() -> None:
    value = {"map": float("nan"), "per_class": [{"ap": float("inf")}, {"ap": 0.5}], "t": (1.0, -float("inf"))}
    assert _strict(dumps_strict(value)) == {"map": None, "per_class": [{"ap": None}, {"ap": 0.5}], "t": [1.0, None]}
    assert finite(3) == 3 and finite("NaN") == "NaN"


def test_what_finite_cannot_see_is_still_refused() -> None:
    class Odd:
        def __float__(self) -> float:
            return float("nan")

    with pytest.raises(TypeError):
        dumps_strict({"x": Odd()})
