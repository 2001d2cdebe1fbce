"""Model predictions as a CSV of ``image,label,confidence``: read, filter, turn into a manifest.

The first row is a header when it names the columns (any order, extra columns ignored);
otherwise the three columns are taken in that order. ``image`` is an ``s3://`` URI, or a
name joined to ``image_prefix``. ``confidence`` keeps the CSV's scale (0-1 or 0-100).

    >>> import io
    >>> csv = io.BytesIO(b"image,label,confidence\\ns3://bucket/1.jpg,cat,93.5\\ns3://bucket/2.jpg,dog,40\\n")
    >>> list(records_from_csv(csv, min_confidence=50))
    [{'source-ref': 's3://bucket/1.jpg', 'label': 'cat', 'confidence': 93.5}]
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from gtflow.errors import GtflowError, ManifestError, UsageError
from gtflow.manifest._streams import Source, describe, open_lines
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["CsvItem", "read_csv_items", "records_from_csv", "CSV_COLUMNS"]

CSV_COLUMNS = ("image", "label", "confidence")


@dataclass(frozen=True)
class CsvItem:
    """One CSV row: an image, the label a model gave it, and the model's confidence."""

    image: str
    label: str
    confidence: float
    line: int  # the CSV line the row ends on (1-based)

    def to_record(self) -> dict[str, Any]:
        """The input-manifest line for this item."""
        return {"source-ref": self.image, "label": self.label, "confidence": self.confidence}


def _rows(source: Source | io.TextIOBase, store: ObjectStore | None,
          encoding: str = "utf-8-sig") -> Generator[tuple[str, Any], None, None]:
    """(label, csv.reader) over ``source`` (a path, an s3:// URI, a binary or text stream)."""
    if isinstance(source, io.TextIOBase):
        yield describe(source), csv.reader(source)
        return
    with open_lines(source, store) as (label, fh):
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")  # type: ignore[type-var]
        try:
            yield label, csv.reader(text)
        finally:
            text.detach()  # the stream belongs to open_lines or to the caller


def read_csv_items(
    source: Source | io.TextIOBase,
    *,
    store: ObjectStore | None = None,
    min_confidence: float | None = None,
    image_prefix: str | None = None,
    encoding: str = "utf-8-sig",
    on_bad: Callable[[ManifestError], None] | None = None,
) -> Iterator[CsvItem]:
    """Yield the rows of an ``image,label,confidence`` CSV whose confidence is at least
    ``min_confidence`` (all rows when None), in file order, streaming.

    A bad row raises ManifestError naming the CSV path, line and column; with ``on_bad`` the
    row's error is passed to it instead and the rows after it are read (the caller quarantines
    and counts it). Errors about the file as a whole always raise: a header without the
    columns, text that is not CSV, bytes that are not ``encoding`` (UTF-8 by default;
    ``shift_jis`` for a CSV from Japanese Excel; the error names the line).
    """
    if image_prefix is not None:
        S3Uri.parse(image_prefix)
    if min_confidence is not None and not math.isfinite(min_confidence):
        raise UsageError("min_confidence must be a finite number", field="min_confidence")
    gen = _rows(source, store, encoding)
    label, reader = next(gen)
    try:
        yield from _items(label, reader, min_confidence, image_prefix, encoding, on_bad)
    finally:
        gen.close()


def _items(
    label: str, reader: Any, min_confidence: float | None, image_prefix: str | None, encoding: str = "utf-8-sig",
    on_bad: Callable[[ManifestError], None] | None = None,
) -> Iterator[CsvItem]:
    cols: tuple[int, int, int] | None = None
    try:
        for row in reader:
            n = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if cols is None:
                cols = _columns(row, label, n)
                if cols != (-1, -1, -1):
                    continue  # a header row
                cols = (0, 1, 2)
            try:
                item = _item(row, cols, label, n, image_prefix)
            except ManifestError as exc:
                if on_bad is None:
                    raise
                on_bad(exc)
                continue
            if min_confidence is None or item.confidence >= min_confidence:
                yield item
    except csv.Error as exc:
        raise ManifestError(f"not valid CSV: {exc}", path=label, line=reader.line_num) from exc
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.replace("_", "-").lower() in ("utf-8-sig", "utf-8", "utf8") else encoding
        raise ManifestError(f"not valid {name} (pass --encoding, e.g. shift_jis for a CSV from Japanese Excel)",
                            path=label, line=reader.line_num + 1) from exc


def _columns(row: list[str], label: str, n: int) -> tuple[int, int, int]:
    """Column indexes from a header row, or (-1, -1, -1) when the row is data."""
    names = [c.strip().lower() for c in row]
    if "image" in names or "label" in names:
        missing = [c for c in CSV_COLUMNS if c not in names]
        if missing:
            raise ManifestError(
                f"header lacks column(s) {', '.join(missing)} (needs image,label,confidence)",
                path=label,
                line=n,
            )
        return names.index("image"), names.index("label"), names.index("confidence")
    if len(row) < 3:
        raise ManifestError(
            f"row has {len(row)} column(s); expected image,label,confidence", path=label, line=n
        )
    try:
        float(row[2])
    except ValueError:
        raise ManifestError(
            "first row is neither a header naming image,label,confidence nor a data row",
            path=label,
            line=n,
        ) from None
    return (-1, -1, -1)


def _item(
    row: list[str],
    cols: tuple[int, int, int],
    label: str,
    n: int,
    image_prefix: str | None,
) -> CsvItem:
    i_img, i_lab, i_conf = cols
    if len(row) <= max(cols):
        raise ManifestError(f"row has {len(row)} column(s); expected at least {max(cols) + 1}", path=label, line=n)
    image = row[i_img].strip()
    name = row[i_lab].strip()
    raw_conf = row[i_conf].strip()
    if not image:
        raise ManifestError("empty", path=label, line=n, field="image")
    if not image.startswith("s3://") and image_prefix is None:
        raise ManifestError(
            f"{image!r:.80} is not an s3:// URI (pass an image prefix to join relative names)",
            path=label,
            line=n,
            field="image",
        )
    try:
        if not image.startswith("s3://"):
            image = str(S3Uri.parse(image_prefix or "").join(image))
        S3Uri.parse(image, require_key=True)
    except GtflowError as exc:
        raise ManifestError(exc.message, path=label, line=n, field="image") from exc
    if not name:
        raise ManifestError("empty", path=label, line=n, field="label")
    try:
        confidence = float(raw_conf)
    except ValueError:
        raise ManifestError(f"not a number: {raw_conf!r:.40}", path=label, line=n, field="confidence") from None
    if not math.isfinite(confidence):
        raise ManifestError(f"not a finite number: {raw_conf!r:.40}", path=label, line=n, field="confidence")
    return CsvItem(image, name, confidence, n)


def records_from_csv(
    source: Source | io.TextIOBase,
    *,
    store: ObjectStore | None = None,
    min_confidence: float | None = None,
    image_prefix: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Input-manifest lines ``{"source-ref", "label", "confidence"}`` from a predictions CSV
    (see :func:`read_csv_items`); GT passes the extra keys to the task as ``dataObject``."""
    for item in read_csv_items(source, store=store, min_confidence=min_confidence, image_prefix=image_prefix):
        yield item.to_record()
