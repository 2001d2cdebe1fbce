"""The bulk QA job: CSV of predictions → same-label batches → labeling job → verdict table.

The labeling job is whatever the backend runs (``gtflow.labeling``): locally the local job
runner, whose tasks wait in the local task queue for the portal's workers and for simulated
workers; on AWS a ``CreateLabelingJob`` request with the Lambda ARNs. Either way the bundled
``bulk-qa`` template shows a batch, the ``bulk-qa`` pre-annotation handler turns the batch file
into ``taskInput``, and the ``bulk-qa-verdicts`` post-annotation handler writes one verdict per
(image, label, worker) into the verdict table (SQLite locally, DynamoDB on AWS).

This module holds the pure and store-level parts: the job spec and its derived names, the
batches, the worker answer, and the export of the verdict table.

    >>> spec = BulkQaSpec(csv="preds.csv", prefix="s3://bucket/qa/Run 1")
    >>> spec.name
    'run-1'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gtflow.errors import UsageError
from gtflow.qa.records import Verdict
from gtflow.uris import S3Uri

__all__ = [
    "BulkQaSpec",
    "JOB_NAME_RE",
    "TEMPLATE",
    "PRE_HANDLER",
    "POST_HANDLER",
    "job_name_for",
    "build_qa_batches",
    "answer_for",
    "export_verdicts",
]

#: CreateLabelingJob's LabelingJobName pattern (botocore sagemaker model).
JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
TEMPLATE = "bulk-qa"
PRE_HANDLER = "bulk-qa"
POST_HANDLER = "bulk-qa-verdicts"
WIDGET = "confirmed"


def job_name_for(prefix: str) -> str:
    """A labeling-job name derived from the job's prefix (its last folder), so a rerun on the
    same prefix names the same job. Over-long names keep a hash of the whole prefix.

        >>> job_name_for("s3://bucket/qa/cats_and_dogs/")
        'cats-and-dogs'
    """
    uri = S3Uri.parse(prefix)
    last = uri.key.rstrip("/").rsplit("/", 1)[-1] or f"bulk-qa-{uri.bucket}"
    slug = re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-") or "bulk-qa"
    if len(slug) > 63:
        digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
        slug = slug[:54].rstrip("-") + "-" + digest
    return slug


@dataclass(frozen=True)
class BulkQaSpec:
    """What a bulk QA job is made from; every name it creates derives from these fields."""

    csv: str  # local path or s3:// URI of image,label,confidence
    prefix: str  # s3://bucket/qa/run1 — batches, manifest and job output live under it
    min_confidence: float | None = 80.0
    batch_size: int = 25
    workers: int = 1  # answers per batch
    job_name: str | None = None
    image_prefix: str | None = None  # joined to image names in the CSV that are not s3:// URIs
    header: str | None = None
    task_time_limit: int = 3600

    def __post_init__(self) -> None:
        S3Uri.parse(self.prefix.rstrip("/") + "/")
        if type(self.batch_size) is not int or not 1 <= self.batch_size <= 1000:
            raise UsageError("batch size must be an integer from 1 to 1000", field="batch_size")
        if type(self.workers) is not int or not 1 <= self.workers <= 9:
            raise UsageError("workers per batch must be 1..9 (Ground Truth's limit)", field="workers")
        if self.job_name is not None and not JOB_NAME_RE.match(self.job_name):
            raise UsageError(f"job name {self.job_name!r} does not match {JOB_NAME_RE.pattern}", field="job_name")

    @property
    def name(self) -> str:
        return self.job_name or job_name_for(self.prefix)

    @property
    def root(self) -> str:
        return self.prefix.rstrip("/")

    @property
    def manifest_uri(self) -> str:
        return f"{self.root}/batches.manifest"

    @property
    def output_uri(self) -> str:
        return f"{self.root}/output/"


def build_qa_batches(spec: BulkQaSpec, store: Any) -> Any:
    """Read the CSV (rows below ``min_confidence`` dropped) and write the batch files and their
    manifest under the spec's prefix (``gtflow.manifest.build_batches``). Idempotent."""
    from gtflow.manifest import build_batches, read_csv_items

    items = read_csv_items(spec.csv, store=store, min_confidence=spec.min_confidence,
                           image_prefix=spec.image_prefix)
    result = build_batches(items, store=store, prefix=spec.root, batch_size=spec.batch_size,
                           manifest=spec.manifest_uri)
    if result.items == 0:
        raise UsageError(f"no row of {spec.csv} has confidence >= {spec.min_confidence}", path=spec.csv)
    return result


def answer_for(task_input: Mapping[str, Any], judge: Callable[[str, str, float | None], bool]) -> dict[str, Any]:
    """The bulk-qa template's answer for a batch: ``{"confirmed": {"0": true, ...}}``, with
    ``judge(image, label, confidence)`` deciding each box (a simulated worker's eye).

        >>> answer_for({"label": "cat", "items": [{"image": "a"}, {"image": "b"}]}, lambda i, l, c: i == "a")
        {'confirmed': {'0': True, '1': False}}
    """
    label = str(task_input.get("label", ""))
    items = task_input.get("items") or []
    return {WIDGET: {str(i): bool(judge(str(it.get("image")), label, it.get("confidence")))
                     for i, it in enumerate(items)}}


def export_verdicts(table: Any, *, job: str | None = None, label: str | None = None) -> Iterator[Verdict]:
    """Per-image verdict records from the verdict table (``table.items()``), optionally only
    one job's (compared case-insensitively: GT lower-cases job names in its ARNs)."""
    want = job.lower() if job else None
    for rec in table.items(label=label):
        if want is not None and str(rec.get("job") or "").lower() != want:
            continue
        if rec.get("confidence") is None:
            continue  # a verdict without the model's confidence cannot be analysed
        yield Verdict.from_dict(rec)


def count_by_outcome(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """``{"confirmed": n, "disconfirmed": n, "split": n, "unreviewed": n}``."""
    out = {"confirmed": 0, "disconfirmed": 0, "split": 0, "unreviewed": 0}
    for v in verdicts:
        out[v.outcome] += 1
    return out
