"""Deterministic names for side-effecting things (training jobs, models, endpoint configs).

SageMaker names follow ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`` (1-63 characters). A name is a
sanitised prefix plus a digest of the inputs, so a rerun with the same inputs reuses the name.

    >>> derive_name("gtflow-od", {"a": 1})
    'gtflow-od-015abd7f5cc5'
    >>> len(derive_name("x" * 80, {"a": 1}))
    63
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from gtflow.errors import UsageError

__all__ = ["NAME_PATTERN", "derive_name", "digest", "check_name"]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_MAX = 63


def digest(payload: Any) -> str:
    """sha256 hex of the canonical JSON of ``payload``."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_name(name: str, *, field: str = "name") -> str:
    if not NAME_PATTERN.match(name):
        raise UsageError(f"{name!r} does not match {NAME_PATTERN.pattern} (1-63 letters, digits, '-')",
                         field=field)
    return name


def derive_name(prefix: str, payload: Any, *, hash_chars: int = 12) -> str:
    """``<prefix>-<hash of payload>``, cut to 63 characters, always a valid SageMaker name."""
    clean = re.sub(r"[^a-zA-Z0-9-]+", "-", prefix).strip("-") or "gtflow"
    clean = re.sub(r"-{2,}", "-", clean)
    tail = digest(payload)[:hash_chars]
    head = clean[: _MAX - len(tail) - 1].rstrip("-")
    return check_name(f"{head}-{tail}")
