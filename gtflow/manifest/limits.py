"""Ground Truth's limits on manifest lines, and the rules for label attribute names.

GT reads a manifest as JSON Lines: each line one JSON object of at most 100,000 characters,
no single attribute (top-level value) longer than 20,000 characters, and no attribute name
starting with ``$``. ``LabelAttributeName`` follows the botocore pattern
``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}`` and must not end with ``-metadata`` (CONTRACTS.md 3.1).

    >>> attribute_name_problems("bounding-box")
    []
    >>> attribute_name_problems("my_boxes")
    ["'my_boxes' does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,126} (letters, digits and inner hyphens; no '_' or '.')"]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_ATTRIBUTE_CHARS",
    "LABEL_ATTRIBUTE_PATTERN",
    "LABEL_ATTRIBUTE_MAX_LENGTH",
    "AUGMENTED_MANIFEST_MAX_ATTRIBUTES",
    "limit_problems",
    "attribute_name_problems",
]

MAX_LINE_CHARS = 100_000
MAX_ATTRIBUTE_CHARS = 20_000
#: botocore sagemaker ``LabelAttributeName`` (tests compare it with the service model).
LABEL_ATTRIBUTE_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}"
LABEL_ATTRIBUTE_MAX_LENGTH = 127
#: botocore ``AttributeNames`` (S3DataSource) holds at most 16 names.
AUGMENTED_MANIFEST_MAX_ATTRIBUTES = 16

_LABEL_ATTRIBUTE_RE = re.compile(LABEL_ATTRIBUTE_PATTERN)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
# Characters that str.splitlines() treats as line breaks but JSON leaves unescaped when
# ensure_ascii=False; gtflow escapes them so every reader sees one record per line.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def compact_json(value: Any) -> str:
    """``value`` as gtflow writes it: compact, UTF-8 text, Unicode line breaks escaped.

        >>> compact_json({"a": [1, "é"], "b": None})
        '{"a":[1,"é"],"b":null}'
    """
    text = _encode(value)
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        for ch, esc in _LINE_BREAKS.items():
            text = text.replace(ch, esc)
    return text


_compact = compact_json

# A compact re-serialisation can be longer than the text it came from only through float
# spellings ("1e15" -> "1000000000000000.0", at most 4.5x). Lines shorter than this cannot
# hold an attribute over the limit, so the per-attribute check is skipped for them.
SAFE_LINE_CHARS = MAX_ATTRIBUTE_CHARS // 5


def limit_problems(record: Mapping[str, Any], line_chars: int | None = None) -> list[tuple[str, str]]:
    """``(field, message)`` for each GT limit ``record`` breaks (line length, attribute size,
    ``$`` keys). ``line_chars`` is the length of the line as read; the compact serialisation
    is measured when it is not given.

        >>> limit_problems({"$bad": 1})
        [('$bad', "attribute names cannot start with '$'")]
    """
    problems: list[tuple[str, str]] = []
    if line_chars is None:
        line_chars = len(_compact(record))
    if line_chars > MAX_LINE_CHARS:
        problems.append(("", f"line is {line_chars:,} characters; Ground Truth allows {MAX_LINE_CHARS:,}"))
    for key in record:
        if not isinstance(key, str):
            problems.append((str(key), "attribute names must be strings"))
            continue
        if key.startswith("$"):
            problems.append((key, "attribute names cannot start with '$'"))
    if line_chars > SAFE_LINE_CHARS:
        problems.extend(attribute_size_problems(record))
    return problems


def attribute_size_problems(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` for each top-level value over :data:`MAX_ATTRIBUTE_CHARS` (compact JSON)."""
    out = []
    for key, value in record.items():
        if isinstance(value, (int, float, bool)) or value is None:
            continue
        size = len(_compact(value))
        if size > MAX_ATTRIBUTE_CHARS:
            out.append(
                (str(key), f"attribute is {size:,} characters; Ground Truth allows {MAX_ATTRIBUTE_CHARS:,}")
            )
    return out


def attribute_name_problems(name: str, *, allow_ref_suffix: bool = False) -> list[str]:
    """Why ``name`` cannot be a ``LabelAttributeName`` / augmented-manifest attribute ([] if it can).

    ``allow_ref_suffix`` is for the task types whose label attribute must end with ``-ref``
    (semantic segmentation, video frames, point clouds); other task types must not use it.
    """
    problems = []
    if not isinstance(name, str) or not name:
        return ["attribute name must be a non-empty string"]
    if len(name) > LABEL_ATTRIBUTE_MAX_LENGTH or not _LABEL_ATTRIBUTE_RE.fullmatch(name):
        problems.append(
            f"{name!r:.140} does not match {LABEL_ATTRIBUTE_PATTERN} "
            "(letters, digits and inner hyphens; no '_' or '.')"
        )
    if name.endswith("-metadata"):
        problems.append(f"{name!r} ends with '-metadata' (reserved for the label's metadata)")
    if name.endswith("-ref") and not allow_ref_suffix:
        problems.append(f"{name!r} ends with '-ref' (reserved for references to objects)")
    if allow_ref_suffix and not name.endswith("-ref"):
        problems.append(f"{name!r} must end with '-ref' for this task type")
    return problems
