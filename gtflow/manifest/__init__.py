"""Manifests: JSON Lines read and written in constant memory, with Ground Truth's limits.

* :func:`read_manifest` / :func:`write_manifest` stream records (local paths, ``s3://`` URIs
  through an :class:`~gtflow.store.ObjectStore`, binary streams);
* builders make input manifests from a store prefix of images, inline texts, a predictions CSV,
  and bulk label QA batches;
* :func:`validate_manifest` checks every line, and with ``task="object-detection"`` lints a
  SageMaker Object Detection training manifest;
* :func:`manifest_stats` counts lines, labels per class, boxes per image and confidences.

    >>> import io
    >>> out = io.BytesIO()
    >>> write_manifest(out, records_from_texts(["a", "b"]))
    2
    >>> validate_manifest(io.BytesIO(out.getvalue())).valid
    True
"""

from __future__ import annotations

from gtflow.manifest.batches import BatchesResult, batch_id, batch_slug, build_batches
from gtflow.manifest.builders import IMAGE_EXTENSIONS, records_from_prefix, records_from_texts
from gtflow.manifest.csv_items import CsvItem, read_csv_items, records_from_csv
from gtflow.manifest.limits import (
    MAX_ATTRIBUTE_CHARS,
    MAX_LINE_CHARS,
    attribute_name_problems,
    limit_problems,
)
from gtflow.manifest.object_detection import DEFAULT_LABEL_WIDTH, EMPTY_POLICIES
from gtflow.manifest.problems import Problem, ValidationReport
from gtflow.manifest.reader import ManifestLine, read_manifest
from gtflow.manifest.stats import ManifestStats, manifest_stats
from gtflow.manifest.validation import TASKS, validate_manifest
from gtflow.manifest.writer import encode_record, write_manifest

__all__ = [
    "ManifestLine",
    "read_manifest",
    "write_manifest",
    "encode_record",
    "MAX_LINE_CHARS",
    "MAX_ATTRIBUTE_CHARS",
    "limit_problems",
    "attribute_name_problems",
    "records_from_prefix",
    "records_from_texts",
    "IMAGE_EXTENSIONS",
    "CsvItem",
    "read_csv_items",
    "records_from_csv",
    "build_batches",
    "BatchesResult",
    "batch_id",
    "batch_slug",
    "validate_manifest",
    "ValidationReport",
    "Problem",
    "TASKS",
    "EMPTY_POLICIES",
    "DEFAULT_LABEL_WIDTH",
    "manifest_stats",
    "ManifestStats",
]
