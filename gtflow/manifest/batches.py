"""Bulk label QA batches: items grouped by label into JSON files of N, plus a manifest of them.

The layout every part of gtflow agrees on (CONTRACTS_LOCAL.md):

* batch file ``<prefix>/batches/<label-slug>-<NNNN>.json``:
  ``{"label": "cat", "batchId": "cat-0003", "items": [{"image": "s3://...", "confidence": 93.5}, ...]}``
* manifest line per batch:
  ``{"source-ref": "<prefix>/batches/cat-0003.json", "label": "cat", "batchId": "cat-0003", "itemCount": 25}``

Batches are numbered from 0001 per label, items keep their input order within a label, and
manifest lines are sorted by batch id, so a rerun on the same input writes the same names
and the same bytes (it overwrites; batch files from an earlier, larger run are left alone).

    >>> batch_id("Traffic Light", 3)
    'traffic-light-0003'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ManifestError, UsageError
from gtflow.manifest._streams import Dest
from gtflow.manifest.csv_items import CsvItem
from gtflow.manifest.writer import write_manifest
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["build_batches", "BatchesResult", "batch_slug", "batch_id", "DEFAULT_BATCH_SIZE", "BATCHES_FOLDER"]

DEFAULT_BATCH_SIZE = 25
BATCHES_FOLDER = "batches"
DEFAULT_MANIFEST_NAME = "batches.manifest"
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def batch_slug(label: str) -> str:
    """A label as it appears in batch names: lower case, runs of other characters -> '-'."""
    slug = _SLUG_RE.sub("-", label.lower()).strip("-")
    return slug[:100] or "label"


def batch_id(label: str, index: int) -> str:
    """``<label-slug>-<NNNN>`` for the ``index``-th (1-based) batch of ``label``."""
    return f"{batch_slug(label)}-{index:04d}"


@dataclass(frozen=True)
class BatchesResult:
    """What :func:`build_batches` wrote."""

    manifest: str
    batches: int
    items: int
    batches_per_label: dict[str, int] = field(default_factory=dict)


def _fields(item: CsvItem | Mapping[str, Any]) -> tuple[str, str, Any, int | None]:
    if isinstance(item, CsvItem):
        return item.image, item.label, item.confidence, item.line
    try:
        return item["image"], item["label"], item.get("confidence"), None
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"batch items need image and label: {exc}") from exc


def build_batches(
    items: Iterable[CsvItem | Mapping[str, Any]],
    *,
    store: ObjectStore,
    prefix: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    manifest: Dest | None = None,
) -> BatchesResult:
    """Group ``items`` (CsvItem values or ``{"image", "label", "confidence"}`` mappings) by
    label into batch files of ``batch_size`` under ``<prefix>/batches/`` and write the manifest
    (``<prefix>/batches.manifest`` unless ``manifest`` names another path or URI).

    Memory holds at most ``batch_size`` items per label plus one line per batch.

        >>> import tempfile
        >>> from gtflow.store import LocalStore
        >>> store = LocalStore(tempfile.mkdtemp())
        >>> items = [{"image": f"s3://bucket/{i}.jpg", "label": "cat", "confidence": 90} for i in range(3)]
        >>> build_batches(items, store=store, prefix="s3://bucket/qa", batch_size=2).batches
        2
        >>> store.get_text("s3://bucket/qa/batches/cat-0002.json")
        '{"label":"cat","batchId":"cat-0002","items":[{"image":"s3://bucket/2.jpg","confidence":90}]}'
    """
    if type(batch_size) is not int or batch_size < 1:
        raise UsageError("batch_size must be a positive integer", field="batch_size")
    root = S3Uri.parse(prefix)
    folder = root.join(BATCHES_FOLDER)
    manifest_dest: Dest = manifest if manifest is not None else str(root.join(DEFAULT_MANIFEST_NAME))

    pending: dict[str, list[dict[str, Any]]] = {}
    written: dict[str, int] = {}
    slugs: dict[str, str] = {}
    lines: list[tuple[str, int, dict[str, Any]]] = []
    total = 0

    def flush(label: str) -> None:
        index = written.get(label, 0) + 1
        written[label] = index
        bid = batch_id(label, index)
        batch_items = pending.pop(label)
        uri = str(folder.join(f"{bid}.json"))
        body = {"label": label, "batchId": bid, "items": batch_items}
        try:
            data = _dumps(body).encode("utf-8")
        except ValueError as exc:
            raise ManifestError(f"batch {bid} cannot be written as JSON: {exc}") from exc
        store.put_bytes(uri, data, content_type="application/json")
        rec = {"source-ref": uri, "label": label, "batchId": bid, "itemCount": len(batch_items)}
        lines.append((batch_slug(label), index, rec))

    for item in items:
        image, label, confidence, line = _fields(item)
        if not isinstance(label, str) or not label.strip():
            raise ManifestError("label must be a non-empty string", line=line, field="label")
        slug = batch_slug(label)
        owner = slugs.setdefault(slug, label)
        if owner != label:
            raise ManifestError(
                f"labels {owner!r} and {label!r} would share batch names '{slug}-NNNN'; rename one",
                line=line,
                field="label",
            )
        entry: dict[str, Any] = {"image": image}
        if confidence is not None:
            entry["confidence"] = confidence
        bucket = pending.setdefault(label, [])
        bucket.append(entry)
        total += 1
        if len(bucket) >= batch_size:
            flush(label)
    for label in list(pending):
        flush(label)

    lines.sort(key=lambda t: (t[0], t[1]))
    write_manifest(manifest_dest, (rec for _, _, rec in lines), store=store)
    return BatchesResult(
        manifest=str(manifest_dest),
        batches=len(lines),
        items=total,
        batches_per_label=dict(sorted(written.items())),
    )
