"""Reading manifests: JSON Lines, streamed line by line in constant memory.

    >>> import io
    >>> data = io.BytesIO(b'{"source-ref":"s3://bucket/1.jpg"}\\n{"source":"hello"}\\n')
    >>> [(m.line, m.record) for m in read_manifest(data)]
    [(1, {'source-ref': 's3://bucket/1.jpg'}), (2, {'source': 'hello'})]
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from gtflow.errors import ManifestError
from gtflow.manifest._streams import Source, open_lines
from gtflow.manifest.limits import SAFE_LINE_CHARS, limit_problems
from gtflow.store.base import ObjectStore

__all__ = ["ManifestLine", "read_manifest", "json_error_message", "line_chars", "kind_of"]

_loads = json.loads


class ManifestLine(NamedTuple):
    """One record of a manifest and its 1-based line number (frozen)."""

    line: int
    record: dict[str, Any]


def json_error_message(exc: ValueError, raw: bytes | None = None) -> str:
    """A short, payload-free description of why a line did not parse (columns counted on
    the line without its line ending, when ``raw`` is given)."""
    if raw is not None:
        try:
            _loads(raw.rstrip(b"\r\n"))
        except ValueError as again:
            exc = again
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {exc.start + 1})"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    return f"not valid JSON: {exc}"


def line_chars(raw: bytes) -> int:
    """Characters on the line, without its line ending (bytes count when not UTF-8)."""
    body = raw.rstrip(b"\r\n")
    try:
        return len(body.decode("utf-8"))
    except UnicodeDecodeError:
        return len(body)


def kind_of(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def needs_limit_check(raw: bytes) -> bool:
    """False when the raw line cannot break a GT limit (the common, fast case)."""
    return len(raw) > SAFE_LINE_CHARS or b'"$' in raw or b"\\u0024" in raw


def read_manifest(
    source: Source, *, store: ObjectStore | None = None, check_limits: bool = True
) -> Iterator[ManifestLine]:
    """Yield each record of the manifest ``source`` with its line number.

    ``source`` is a local path, an ``s3://`` URI read through ``store.open_read``, or a
    binary stream. Memory stays constant however long the file is. Blank lines at the end are
    ignored; a blank line followed by more records, a line that is not a JSON object, and
    (with ``check_limits``) a line that breaks a Ground Truth limit raise
    :class:`~gtflow.errors.ManifestError` naming path, line and field.

        >>> import io
        >>> list(read_manifest(io.BytesIO(b'[1]\\n')))
        Traceback (most recent call last):
        gtflow.errors.ManifestError: <stream>:1: line is a JSON array, not an object
    """
    with open_lines(source, store) as (label, lines):
        blank_at: int | None = None
        for n, raw in enumerate(lines, 1):
            try:
                record = _loads(raw)
            except ValueError as exc:
                if not raw.strip():
                    if blank_at is None:
                        blank_at = n
                    continue
                raise ManifestError(json_error_message(exc, raw), path=label, line=n) from None
            if blank_at is not None:
                raise ManifestError(
                    "blank line inside the manifest (only trailing blank lines are allowed)",
                    path=label,
                    line=blank_at,
                )
            if type(record) is not dict:
                raise ManifestError(
                    f"line is a JSON {kind_of(record)}, not an object", path=label, line=n
                )
            if check_limits and needs_limit_check(raw):
                problems = limit_problems(record, line_chars(raw))
                if problems:
                    field, message = problems[0]
                    raise ManifestError(message, path=label, line=n, field=field or None)
            yield ManifestLine(n, record)
