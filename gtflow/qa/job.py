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
    'Run-1'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ManifestError, UsageError
from gtflow.logs import get_logger
from gtflow.qa.records import Verdict
from gtflow.uris import S3Uri

__all__ = [
    "BulkQaSpec",
    "RowCounts",
    "JOB_NAME_RE",
    "TEMPLATE",
    "PRE_HANDLER",
    "POST_HANDLER",
    "job_name_for",
    "pre_options",
    "build_qa_batches",
    "answer_for",
    "export_verdicts",
    "count_by_outcome",
    "local_job_spec",
    "start_local",
    "simulate_workers",
    "open_table",
    "start_aws",
    "aws_job_spec",
]

log = get_logger(__name__)

#: CreateLabelingJob's LabelingJobName pattern (botocore sagemaker model).
JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
TEMPLATE = "bulk-qa"
PRE_HANDLER = "bulk-qa"
POST_HANDLER = "bulk-qa-verdicts"
WIDGET = "confirmed"


def job_name_for(prefix: str) -> str:
    """A labeling-job name derived from the job's prefix (its last folder), so a rerun on the
    same prefix names the same job. Over-long names keep a hash of the whole prefix. Case is
    kept, as ``gtflow job run`` keeps the name it is given (one rule: the portal and ``job
    status`` find the job by the spelling the user wrote).

        >>> job_name_for("s3://bucket/qa/cats_and_dogs/")
        'cats-and-dogs'
        >>> job_name_for("s3://bucket/qa/BirdsQA/")
        'BirdsQA'
    """
    uri = S3Uri.parse(prefix)
    last = uri.key.rstrip("/").rsplit("/", 1)[-1] or f"bulk-qa-{uri.bucket}"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", last).strip("-") or "bulk-qa"
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
    encoding: str = "utf-8-sig"  # of the CSV (shift_jis for one saved by Japanese Excel)
    show_confidence: bool = False  # workers see the model's confidence (anchors them; off by default)

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


@dataclass
class RowCounts:
    """What ``qa run`` did with each row of the predictions CSV:
    ``read = used + below_min + quarantined``."""

    read: int = 0
    used: int = 0
    below_min: int = 0  # confidence under min_confidence
    quarantined: int = 0
    quarantine_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "used": self.used, "belowMinConfidence": self.below_min,
                "quarantined": self.quarantined, "quarantineIds": list(self.quarantine_ids)}


def quarantine_for(spec: BulkQaSpec, store: Any) -> Any:
    """The quarantine of ``spec``'s job: ``<prefix>/quarantine/`` (``gtflow quarantine --prefix``)."""
    from gtflow.quarantine import Quarantine

    return Quarantine(store, spec.root)


def build_qa_batches(spec: BulkQaSpec, store: Any, *, rows: RowCounts | None = None) -> Any:
    """Read the CSV (rows below ``min_confidence`` dropped) and write the batch files and their
    manifest under the spec's prefix (``gtflow.manifest.build_batches``). Idempotent.

    A bad row (confidence ``abc``, no image URI, an empty label) goes to the job's quarantine
    (:func:`quarantine_for`, source ``CSV:LINE``, with the reason) and the other rows are used;
    ``rows`` (when given) receives the counts. A file with no usable row at all, or one that is
    not CSV or not in ``spec.encoding``, raises a typed error naming it.
    """
    from gtflow.manifest import build_batches, read_csv_items

    counts = rows if rows is not None else RowCounts()
    bad: list[ManifestError] = []

    def items() -> Any:
        for item in read_csv_items(spec.csv, store=store, image_prefix=spec.image_prefix,
                                   encoding=spec.encoding, on_bad=bad.append):
            counts.read += 1
            if spec.min_confidence is not None and item.confidence < spec.min_confidence:
                counts.below_min += 1
                continue
            counts.used += 1
            yield item

    result = build_batches(items(), store=store, prefix=spec.root, batch_size=spec.batch_size,
                           manifest=spec.manifest_uri)
    counts.read += len(bad)
    if bad and counts.read == len(bad):
        raise ManifestError(f"no usable row (all {len(bad)} are bad; the first: {bad[0]})", path=spec.csv)
    if bad:
        q = quarantine_for(spec, store)
        for exc in bad:
            entry = q.add(stage="qa-run", source=f"{spec.csv}:{exc.line}", reason=str(exc),
                          record={"csv": spec.csv, "line": exc.line, "job": spec.name})
            counts.quarantine_ids.append(entry.id)
        counts.quarantined = len(bad)
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


def pre_options(spec: BulkQaSpec) -> dict[str, Any]:
    """The ``pre/bulk-qa`` handler's options for ``spec`` (on AWS: the Lambda's
    ``GTFLOW_HANDLER_OPTIONS``).

        >>> pre_options(BulkQaSpec(csv="p.csv", prefix="s3://bucket/qa/run1", header="Photos only"))
        {'header': 'Photos only'}
    """
    opts: dict[str, Any] = {}
    if spec.header:
        opts["header"] = spec.header
    if spec.show_confidence:
        opts["show_confidence"] = True
    return opts


# -- the local backend ------------------------------------------------------------------------
def local_job_spec(spec: BulkQaSpec, *, template: str | None = None) -> Any:
    """The local labeling job for ``spec``: bundled ``bulk-qa`` template, ``pre/bulk-qa`` and
    ``post/bulk-qa-verdicts`` handlers, ``spec.workers`` answers per batch."""
    from gtflow.labeling.local import LocalJobSpec
    from gtflow.ui.bundled import load_bundled

    return LocalJobSpec(
        name=spec.name,
        input_manifest=spec.manifest_uri,
        output_path=spec.output_uri,
        template=template if template is not None else load_bundled(TEMPLATE),
        pre_handler=f"pre/{PRE_HANDLER}",
        post_handler=f"post/{POST_HANDLER}",
        workers_per_object=spec.workers,
        pre_options=pre_options(spec),
        title=f"Bulk label QA · {spec.name}",
        description="Uncheck every image whose label is wrong.",
        time_limit_seconds=spec.task_time_limit,
    )


def start_local(spec: BulkQaSpec, store: Any, *, queue: Any = None, verdicts: Any = None,
                rows: RowCounts | None = None) -> Any:
    """Write the batches and start the local labeling job (idempotent); returns the
    :class:`~gtflow.labeling.local.LocalLabelingJob`, whose tasks now wait in the task queue
    for the portal's workers and for :func:`simulate_workers`. ``rows`` receives the CSV's
    row counts (:func:`build_qa_batches`)."""
    from gtflow.labeling.local import LocalLabelingJob

    result = build_qa_batches(spec, store, rows=rows)
    job = LocalLabelingJob(local_job_spec(spec), store=store, queue=queue, verdicts=verdicts)
    status = job.start()
    log.info("bulk qa job started job=%s items=%d batches=%d pending=%d", spec.name, result.items,
             result.batches, status.pending)
    return job


def simulate_workers(
    job: Any,
    workers: Iterable[str],
    judge: Callable[[str, str, str, float | None], bool],
    *,
    max_tasks: int | None = None,
    portal: Any = None,
) -> int:
    """Let simulated workers answer the job's open tasks; ``judge(worker, image, label,
    confidence)`` decides each box. Each worker takes tasks until none is left for them (or
    ``max_tasks``); returns how many answers were submitted.

    With ``portal`` (a base URL or the portal's ASGI app) each worker signs in with a fresh
    token and answers over the portal's HTTP endpoints (:class:`gtflow.portal.PortalClient`),
    exactly as a person's browser does; without it they call ``TaskQueue.submit`` directly
    (the same submission path, minus HTTP).
    """
    q, name = job.queue, job.queue_name
    submitted = 0
    for worker in workers:
        def make(task_input: Mapping[str, Any], w: str = worker) -> dict[str, Any]:
            return answer_for(task_input, lambda i, lab, c: judge(w, i, lab, c))

        if portal is not None:
            from gtflow.portal import PortalClient

            with PortalClient(portal, q.add_worker(worker)) as client:
                submitted += client.answer_all(
                    name, lambda t: make(q.task(name, t.task_id).task_input), limit=max_tasks)
            continue
        done = 0
        while max_tasks is None or done < max_tasks:
            task = q.next_task(name, worker)
            if task is None:
                break
            res = q.submit(name, task.task_id, worker, make(task.task_input))
            submitted += not res.duplicate
            done += 1
    return submitted


def open_table(backend: Any, *, table_name: str | None = None) -> Any:
    """The backend's verdict table: SQLite beside a local store, DynamoDB on AWS."""
    from gtflow.verdicts import open_verdict_table

    if table_name is not None and backend.supports("aws_clients"):
        return open_verdict_table(table_name=table_name, client=backend.client("dynamodb"))
    return backend.verdicts


# -- the AWS backend --------------------------------------------------------------------------
def aws_job_spec(spec: BulkQaSpec, *, role_arn: str, workteam_arn: str, pre_lambda_arn: str,
                 post_lambda_arn: str, template: str | None = None) -> Any:
    """The Ground Truth ``LabelingJobSpec`` of a bulk QA job (bundled ``bulk-qa`` template;
    the Lambdas are the packaged ``bulk-qa`` and ``bulk-qa-verdicts`` handlers, the latter with
    ``GTFLOW_VERDICT_TABLE`` naming the DynamoDB verdict table)."""
    from gtflow.labeling.aws import LabelingJobSpec
    from gtflow.ui.bundled import load_bundled

    return LabelingJobSpec(
        name=spec.name, input_manifest=spec.manifest_uri, output_path=spec.output_uri,
        role_arn=role_arn, workteam_arn=workteam_arn,
        task_title=f"Bulk label QA: {spec.name}"[:128],
        task_description="Uncheck every image whose label is wrong.",
        template=template if template is not None else load_bundled(TEMPLATE),
        pre_lambda_arn=pre_lambda_arn, post_lambda_arn=post_lambda_arn,
        workers_per_object=spec.workers, task_time_limit_seconds=spec.task_time_limit,
        task_keywords=("bulk QA", "image verification"),
    )


def start_aws(spec: BulkQaSpec, backend: Any, *, role_arn: str, workteam_arn: str, pre_lambda_arn: str,
              post_lambda_arn: str, dry_run: bool = False, client: Any = None) -> dict[str, Any]:
    """Write the batches and their manifest to S3, upload the template and create the labeling
    job. Returns the request and, when created, the job ARN. A rerun with the same inputs
    converges on the same job. ``dry_run`` touches nothing: the batches and template go to an
    in-memory store (listed under ``writes``), the request is checked against botocore's model
    and not sent, and no credentials are needed (the CSV must then be a local file)."""
    from gtflow.labeling.aws import build_request, create_labeling_job, upload_ui

    store = backend.store
    if dry_run:
        from gtflow.dry_run import RecordingStore, validate_request

        store = RecordingStore()
    rows = RowCounts()
    result = build_qa_batches(spec, store, rows=rows)
    job_spec = upload_ui(store, aws_job_spec(spec, role_arn=role_arn, workteam_arn=workteam_arn,
                                             pre_lambda_arn=pre_lambda_arn, post_lambda_arn=post_lambda_arn))
    request = build_request(job_spec)
    out: dict[str, Any] = {"job": spec.name, "batches": result.batches, "items": result.items,
                           "rows": rows.to_dict(), "request": request}
    if pre_options(spec):  # the pre-annotation Lambda reads these from GTFLOW_HANDLER_OPTIONS
        out["preLambdaOptions"] = pre_options(spec)
    if dry_run:
        validate_request("sagemaker", "CreateLabelingJob", request)
        out["dryRun"] = True
        out["calls"] = [{"service": "sagemaker", "operation": "CreateLabelingJob", "request": request}]
        out["writes"] = [{"uri": u, "bytes": len(b)} for u, b in sorted(store.objects.items())]
    else:
        sm = client if client is not None else backend.client("sagemaker")
        out["LabelingJobArn"] = create_labeling_job(sm, store, job_spec)
    return out
