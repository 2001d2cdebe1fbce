"""Input manifests from what users have: a store prefix of images, or a list of texts.

Builders yield records; :func:`~gtflow.manifest.write_manifest` writes them, so a builder
never holds a whole manifest in memory.

    >>> list(records_from_texts(["first review", "second review"]))
    [{'source': 'first review'}, {'source': 'second review'}]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gtflow.errors import ManifestError, UsageError
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["records_from_prefix", "records_from_texts", "IMAGE_EXTENSIONS", "normalize_extensions"]

#: Image types Ground Truth's image task types accept.
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def normalize_extensions(extensions: Iterable[str]) -> tuple[str, ...]:
    """``["JPG", ".png"]`` -> ``(".jpg", ".png")``."""
    out = []
    for ext in extensions:
        ext = ext.strip().lower()
        if not ext:
            continue
        out.append(ext if ext.startswith(".") else f".{ext}")
    if not out:
        raise UsageError("no file extensions given", field="extensions")
    return tuple(dict.fromkeys(out))


def records_from_prefix(
    store: ObjectStore, prefix: str, *, extensions: Iterable[str] = IMAGE_EXTENSIONS
) -> Iterator[dict[str, Any]]:
    """One ``{"source-ref": uri}`` per object under ``prefix`` whose name ends with one of
    ``extensions`` (case-insensitive), in key order. Hidden names (``.``-prefixed) are skipped.

        >>> import tempfile
        >>> from gtflow.store import LocalStore
        >>> store = LocalStore(tempfile.mkdtemp())
        >>> store.put_bytes("s3://bucket/img/a.JPG", b"x"); store.put_bytes("s3://bucket/img/notes.txt", b"x")
        >>> list(records_from_prefix(store, "s3://bucket/img/"))
        [{'source-ref': 's3://bucket/img/a.JPG'}]
    """
    S3Uri.parse(prefix)
    exts = normalize_extensions(extensions)
    for info in store.list(prefix):
        name = info.uri.rsplit("/", 1)[-1]
        if name.startswith(".") or info.uri.endswith("/"):
            continue
        if name.lower().endswith(exts):
            yield {"source-ref": info.uri}


def records_from_texts(texts: Iterable[str], *, skip_blank: bool = True) -> Iterator[dict[str, Any]]:
    """One ``{"source": text}`` per text (inline text objects, for text task types).

    Texts are written as JSON strings, so newlines inside a text are escaped and the
    manifest stays one record per line. Blank texts are skipped unless ``skip_blank`` is
    False, in which case they raise ManifestError.
    """
    for i, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise ManifestError(f"text {i} is {type(text).__name__}, not a string", field="source")
        if not text.strip():
            if skip_blank:
                continue
            raise ManifestError(f"text {i} is blank", field="source")
        yield {"source": text}
