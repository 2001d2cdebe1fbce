"""Strict JSON out: no NaN or Infinity in any JSON gtflow writes (strict parsers refuse them).

A metric that cannot be computed (no ground truth for a class) is NaN in Python; written as
JSON it becomes ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["finite", "dumps_strict"]


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (JSON has no NaN; strict parsers refuse it).

    >>> finite({"map50": float("nan"), "per_class": {"a": 0.5, "b": float("inf")}})
    {'map50': None, 'per_class': {'a': 0.5, 'b': None}}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps_strict(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`finite` ``(value)`` that refuses anything else non-JSON."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
