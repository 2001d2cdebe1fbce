"""Reading manifests: JSON Lines, streamed line by line in constant memory.

    >>> import io
    >>> data = io.BytesIO(b'{"source-ref":"s3://bucket/1.jpg"}\\n{"source":"hello"}\\n')
    >>> [(m.line, m.record) for m in read_manifest(data)]
    [(1, {'source-ref': 's3://bucket/1.jpg'}), (2, {'source': 'hello'})]
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Iterator
from typing import Any, NamedTuple

from gtflow.errors import ManifestError
from gtflow.manifest._streams import Source, open_lines
from gtflow.manifest.limits import SAFE_LINE_CHARS, limit_problems
from gtflow.store.base import ObjectStore

__all__ = ["ManifestLine", "read_manifest", "loads_line", "json_error_message", "line_chars", "kind_of"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# NaN and Infinity are Python extensions, not JSON: refuse them on read, as the writer does.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_scan = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]
_decode = _DECODER.decode


def loads_line(text: str) -> Any:
    """Parse one manifest line (raises ValueError). Calls the C scanner directly: the hot
    path of validation, about a third cheaper than ``json.loads`` per line.

        >>> loads_line('{"a":[1,2]}')
        {'a': [1, 2]}
    """
    try:
        obj, end = _scan(text, 0)
    except StopIteration:
        return _decode(text)  # leading whitespace, or the error message for a bad line
    except RecursionError:  # JSON nested ~1000 deep: a bad line, not a crash
        raise ValueError("nested too deeply (more than about 900 levels)") from None
    rest = len(text) - end
    if rest and not (rest == 1 and text[-1] == "\n") and not text[end:].isspace():
        return _decode(text)  # raises "Extra data"
    return obj


class ManifestLine(NamedTuple):
    """One record of a manifest and its 1-based line number (frozen)."""

    line: int
    record: dict[str, Any]


def json_error_message(exc: ValueError, raw: bytes | None = None) -> str:
    """A short, payload-free description of why a line did not parse (columns counted on
    the line without its line ending, when ``raw`` is given)."""
    if raw is not None and raw.startswith(b"\xef\xbb\xbf"):
        return "line starts with a UTF-8 BOM (allowed only at the start of the file)"
    if raw is not None:
        try:
            loads_line(raw.rstrip(b"\r\n").decode("utf-8"))
        except ValueError as again:
            exc = again
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {exc.start + 1})"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    return f"not valid JSON: {exc}"


def line_chars(text: str) -> int:
    """Characters on the line, without its line ending."""
    return len(text.rstrip("\r\n"))


def kind_of(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def needs_limit_check(text: str) -> bool:
    """False when the line cannot break a GT limit (the common, fast case)."""
    return len(text) > SAFE_LINE_CHARS or '"$' in text or "\\u0024" in text


def strip_bom(raw: bytes, n: int) -> str | None:
    """The first line without a UTF-8 byte order mark, if it has one (tolerated on line 1)."""
    if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    return None


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
                text = raw.decode("utf-8")
                record = loads_line(text)
            except ValueError as exc:
                if not raw.strip():
                    if blank_at is None:
                        blank_at = n
                    continue
                try:
                    text = strip_bom(raw, n) or ""
                    record = loads_line(text)
                except ValueError:
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
            if check_limits and needs_limit_check(text):
                problems = limit_problems(record, line_chars(text))
                if problems:
                    field, message = problems[0]
                    raise ManifestError(message, path=label, line=n, field=field or None)
            yield ManifestLine(n, record)
