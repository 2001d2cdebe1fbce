"""Writing manifests: compact JSON Lines, key order kept, atomic, GT limits enforced.

    >>> import io
    >>> out = io.BytesIO()
    >>> write_manifest(out, [{"source-ref": "s3://bucket/1.jpg", "label": "café"}])
    1
    >>> out.getvalue().decode()
    '{"source-ref":"s3://bucket/1.jpg","label":"café"}\\n'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gtflow.errors import ManifestError
from gtflow.manifest._streams import Dest, open_dest
from gtflow.manifest.limits import (
    MAX_ATTRIBUTE_CHARS,
    MAX_LINE_CHARS,
    attribute_size_problems,
    compact_json,
)
from gtflow.store.base import ObjectStore

__all__ = ["write_manifest", "encode_record"]

_CHUNK = 512


def encode_record(record: Mapping[str, Any]) -> str:
    """One manifest line (without the newline) for ``record``, or ManifestError.

        >>> encode_record({"a": [1, 2], "b": "x"})
        '{"a":[1,2],"b":"x"}'
    """
    if not isinstance(record, Mapping):
        raise ManifestError(f"a manifest record must be a JSON object, not {type(record).__name__}")
    try:
        text = compact_json(record)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"record cannot be written as JSON: {exc}") from exc
    for key in record:
        if not isinstance(key, str):
            raise ManifestError("attribute names must be strings", field=str(key))
        if key[:1] == "$":
            raise ManifestError("attribute names cannot start with '$'", field=key)
    n = len(text)
    if n > MAX_LINE_CHARS:
        raise ManifestError(f"line would be {n:,} characters; Ground Truth allows {MAX_LINE_CHARS:,}")
    # Every value is a substring of the compact line, so short lines cannot break the limit.
    if n > MAX_ATTRIBUTE_CHARS:
        problems = attribute_size_problems(record)
        if problems:
            field, message = problems[0]
            raise ManifestError(message, field=field)
    return text


def write_manifest(
    dest: Dest, records: Iterable[Mapping[str, Any]], *, store: ObjectStore | None = None
) -> int:
    """Write ``records`` to ``dest`` as JSON Lines and return how many lines were written.

    ``dest`` is a local path (written to a temporary file and renamed into place), an
    ``s3://`` URI (through ``store.open_write``, which is atomic) or a binary stream. Lines
    are compact (``","`` and ``":"``), UTF-8 (``ensure_ascii=False``), in the records' key
    order. A record that breaks a Ground Truth limit raises ManifestError naming the line
    and field, and (for paths and URIs) nothing is written. ``records`` may also be
    :class:`~gtflow.manifest.ManifestLine` values, so ``write_manifest(dst, read_manifest(src))``
    copies a manifest.
    """
    count = 0
    with open_dest(dest, store) as (label, fh):
        chunk: list[bytes] = []
        for item in records:
            record = item.record if isinstance(item, tuple) and hasattr(item, "record") else item
            count += 1
            try:
                chunk.append(encode_record(record).encode("utf-8") + b"\n")
            except ManifestError as exc:
                raise exc.at(path=label, line=count) from exc.__cause__
            except UnicodeEncodeError as exc:
                raise ManifestError(
                    "record holds a lone surrogate, which UTF-8 cannot encode", path=label, line=count
                ) from exc
            if len(chunk) >= _CHUNK:
                fh.write(b"".join(chunk))
                chunk.clear()
        if chunk:
            fh.write(b"".join(chunk))
    return count
