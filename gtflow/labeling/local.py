"""The local labeling-job runner: a Ground Truth custom labeling job on one machine.

Given an input manifest, a template and a pre/post handler, :class:`LocalLabelingJob`:

1. calls the pre-annotation handler per manifest line with GT's event (``version
   "2018-10-06"``, the job name **lower-cased** in the ARN, ``dataObject`` = the whole line);
2. queues one task per object needing humans in the local :class:`~gtflow.tasks.TaskQueue`
   (``workers_per_object`` workers each; task id = ``datasetObjectId`` = 0-based line number);
3. as each task completes, writes GT's worker-response file
   ``<output>/<job>/annotations/worker-response/iteration-1/<id>/<YYYY-MM-DD_HH:MM:SS>.json``;
4. when every task is done, writes the consolidation request
   (``annotations/consolidated-annotation/consolidation-request/iteration-1/<ts>.json``), calls
   the post-annotation handler with GT's event (``payload.s3Uri``, ``outputConfig``...), writes
   the ``consolidation-response`` file and ``manifests/output/output.manifest`` (failed objects
   in GT's failure form).

Every step is idempotent: names derive from the inputs and the answers (the timestamp is the
last submission time), tasks are added with their ids (never twice), and the verdict table
keys (item, worker). A crash anywhere followed by ``start()``/``finish()`` converges.

    >>> import tempfile, json
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> store.put_text("s3://bkt/in.manifest", json.dumps({"source": "hello"}) + "\\n")
    >>> job = LocalLabelingJob(LocalJobSpec(name="Demo", input_manifest="s3://bkt/in.manifest",
    ...     output_path="s3://bkt/out", template="<crowd-form></crowd-form>"), store=store)
    >>> job.start().pending
    1
    >>> task = job.queue.next_task(job.queue_name, "alice")
    >>> _ = job.queue.submit(job.queue_name, task.task_id, "alice", {"text": "hi"})
    >>> job.status().complete
    True
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gtflow.errors import ConfigError, ConflictError, ContractError, GtflowError, UsageError
from gtflow.logs import get_logger
from gtflow.tasks import Answer, QueueInfo, Task, TaskQueue
from gtflow.uris import S3Uri
from gtflow.wire.output import format_creation_date

__all__ = [
    "LocalJobSpec",
    "LocalLabelingJob",
    "JobStatus",
    "on_task_complete",
    "OWNER",
    "gt_timestamp",
]

log = get_logger(__name__)

OWNER = "labeling-job"
ITERATION = "iteration-1"
EXPIRED_REASON = (
    "Annotation tasks expired.  Probable Reasons are 1) TaskAvailabilityLifetimeInSeconds "
    "parameter is too small. 2) No worker answered the task."
)


def gt_timestamp(t: _dt.datetime) -> str:
    """GT's file-name timestamp ``YYYY-MM-DD_HH:MM:SS`` (UTC)."""
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d_%H:%M:%S")


@dataclass(frozen=True)
class LocalJobSpec:
    """What ``CreateLabelingJob`` would say, for a local job.

    ``pre_handler``/``post_handler`` are bundled ids (``pre/bulk-qa``, ``post/bulk-qa-verdicts``)
    or ``module:function`` Lambda-style functions taking ``(event, context)``.
    """

    name: str
    input_manifest: str
    output_path: str
    template: str = field(repr=False)
    pre_handler: str = "pre/passthrough"
    post_handler: str = "post/passthrough"
    label_attribute_name: str | None = None
    workers_per_object: int = 1
    label_categories: tuple[str, ...] | None = None
    pre_options: Mapping[str, Any] = field(default_factory=dict)
    post_options: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    description: str = ""
    time_limit_seconds: int = 3600
    region: str = "us-east-1"
    account: str = "000000000000"
    role_arn: str = "arn:aws:iam::000000000000:role/gtflow-local"

    def __post_init__(self) -> None:
        from gtflow.labeling.names import validate_label_attribute_name, validate_labeling_job_name

        validate_labeling_job_name(self.name)
        validate_label_attribute_name(self.attribute)
        S3Uri.parse(self.input_manifest, require_key=True)
        S3Uri.parse(self.output_path)
        if self.workers_per_object < 1:
            raise ConfigError("workers_per_object must be at least 1", field="workers_per_object")

    @property
    def attribute(self) -> str:
        """The label attribute name (the job name when none is given, as in GT)."""
        return self.label_attribute_name or self.name

    @property
    def arn(self) -> str:
        """The job ARN as GT puts it in events: the job name lower-cased."""
        return f"arn:aws:sagemaker:{self.region}:{self.account}:labeling-job/{self.name.lower()}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label_categories"] = list(self.label_categories) if self.label_categories is not None else None
        d["pre_options"], d["post_options"] = dict(self.pre_options), dict(self.post_options)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LocalJobSpec:
        d = dict(d)
        if d.get("label_categories") is not None:
            d["label_categories"] = tuple(d["label_categories"])
        return cls(**d)


@dataclass(frozen=True)
class JobStatus:
    """Where a local job stands (``gtflow job status``)."""

    name: str
    objects: int
    queued: int
    skipped: int
    failed_pre: int
    pending: int
    answered: int
    answers: int
    complete: bool
    output_manifest: str | None
    labeled: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _call_handler(ref: str, event: dict[str, Any], *, store: Any, options: Mapping[str, Any],
                  verdicts: Any = None) -> Any:
    if ":" in ref:
        module, _, name = ref.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn(event, None)
    from gtflow.handlers import invoke

    return invoke(ref, event, store=store, options=options, verdicts=verdicts)


class LocalLabelingJob:
    """One local labeling job in a LocalStore (see the module docstring)."""

    def __init__(self, spec: LocalJobSpec, *, store: Any, queue: TaskQueue | None = None,
                 verdicts: Any = None) -> None:
        self.spec = spec
        self.store = store
        self.queue = queue or TaskQueue.for_store(store)
        if self.queue.store is None:
            self.queue.store = store
        self._verdicts = verdicts

    @classmethod
    def open(cls, name: str, *, store: Any, queue: TaskQueue | None = None) -> LocalLabelingJob:
        """A job started earlier in this store, by name."""
        q = queue or TaskQueue.for_store(store)
        try:
            info = q.queue(queue_name(name))
        except UsageError:
            raise UsageError(f"no local labeling job {name!r} in {store!r}", field="name") from None
        return cls(LocalJobSpec.from_dict(info.meta), store=store, queue=q)

    def __repr__(self) -> str:
        return f"LocalLabelingJob({self.spec.name!r})"

    # -- names -------------------------------------------------------------------------------
    @property
    def queue_name(self) -> str:
        return queue_name(self.spec.name)

    @property
    def job_root(self) -> S3Uri:
        """``<S3OutputPath>/<LabelingJobName>`` (case kept, as GT does)."""
        return S3Uri.parse(self.spec.output_path).join(self.spec.name)

    @property
    def annotations_uri(self) -> str:
        return str(self.job_root.join("annotations"))

    @property
    def output_manifest_uri(self) -> str:
        return str(self.job_root.join("manifests", "output", "output.manifest"))

    def worker_response_prefix(self, dataset_object_id: str) -> str:
        return str(self.job_root.join("annotations", "worker-response", ITERATION, dataset_object_id)) + "/"

    def _consolidation_uri(self, kind: str, ts: str) -> str:
        return str(self.job_root.join("annotations", "consolidated-annotation", kind, ITERATION, f"{ts}.json"))

    @property
    def _state_path(self) -> Path:
        return Path(self.store.state_dir) / "labeling-jobs" / f"{self.spec.name}.json"

    @property
    def verdicts(self) -> Any:
        if self._verdicts is None:
            from gtflow.verdicts import open_verdict_table

            self._verdicts = open_verdict_table(self.store)
        return self._verdicts

    # -- manifest ----------------------------------------------------------------------------
    def _lines(self) -> Iterator[tuple[str, dict[str, Any]]]:
        from gtflow.manifest import read_manifest

        for i, line in enumerate(read_manifest(self.spec.input_manifest, store=self.store)):
            yield str(i), line.record

    # -- state -------------------------------------------------------------------------------
    def _read_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self._state_path.read_text())
            return state
        except FileNotFoundError:
            return None

    def _write_state(self, state: Mapping[str, Any]) -> None:
        from gtflow.store.local import atomic_write_file

        atomic_write_file(self._state_path, json.dumps(state, sort_keys=True).encode(),
                          state_dir=Path(self.store.state_dir))

    # -- step 1-2: pre-annotation and queueing -----------------------------------------------
    def start(self) -> JobStatus:
        """Register the queue, run the pre-annotation handler on every line, queue the tasks.

        Safe to call again: tasks already queued are not added twice, and a changed template
        or worker count for the same job name raises ConflictError. A template with a Crowd
        element the local portal cannot run raises TemplateError before anything is queued.
        """
        from gtflow.ui.local_support import require_local_support

        spec = self.spec
        require_local_support(spec.template)  # before anything is queued
        info = self.queue.register_queue(
            self.queue_name, owner=OWNER, template=spec.template, title=spec.title or spec.name,
            description=spec.description, workers_per_task=spec.workers_per_object,
            time_limit_seconds=spec.time_limit_seconds, meta=spec.to_dict(),
        )
        if dict(info.meta) != spec.to_dict():
            changed = sorted(k for k, v in spec.to_dict().items() if info.meta.get(k) != v)
            raise ConflictError(
                f"labeling job {spec.name!r} already exists with other settings ({', '.join(changed)}); "
                "use a new job name", field="name")
        objects: dict[str, dict[str, Any]] = {}
        batch: list[tuple[str, Mapping[str, Any]]] = []
        n = 0
        pre_options = dict(spec.pre_options)
        if spec.pre_handler.endswith("object-detection-review") and spec.label_categories is not None:
            pre_options.setdefault("labels", list(spec.label_categories))  # the job's full list
        for oid, line in self._lines():
            n += 1
            event = {"version": "2018-10-06", "labelingJobArn": spec.arn, "dataObject": line}
            try:
                raw = _call_handler(spec.pre_handler, event, store=self.store, options=pre_options)
                from gtflow.wire.gt_lambda import PreAnnotationResponse

                resp = PreAnnotationResponse.from_dict(raw)
            except GtflowError as exc:
                objects[oid] = {"status": "failed", "reason": f"pre-annotation handler: {exc}"}
                continue
            except Exception as exc:  # a user Lambda raising: that object fails, as on GT
                objects[oid] = {"status": "failed", "reason": f"pre-annotation handler: {type(exc).__name__}: {exc}"}
                continue
            if not resp.is_human_annotation_required:
                objects[oid] = {"status": "skipped"}
                continue
            objects[oid] = {"status": "queued"}
            batch.append((oid, dict(resp.task_input)))
            if len(batch) >= 500:
                self.queue.add_tasks(self.queue_name, batch)
                batch.clear()
        if batch:
            self.queue.add_tasks(self.queue_name, batch)
        self._write_state({"lines": n, "objects": objects})
        log.info("labeling job started job=%s lines=%d queued=%d", spec.name, n,
                 sum(o["status"] == "queued" for o in objects.values()))
        status = self.status()
        if status.pending == 0:
            self.finish()
            status = self.status()
        return status

    # -- step 3: one task completes ----------------------------------------------------------
    def write_worker_response(self, task: Task, answers: Sequence[Answer]) -> str | None:
        """Write GT's worker-response file for a completed task (same name and bytes on rerun)."""
        if not answers:
            return None
        last = max(a.submitted_at for a in answers)
        uri = self.worker_response_prefix(task.task_id) + f"{gt_timestamp(last)}.json"
        body = {"answers": [self._gt_answer(a) for a in sorted(answers, key=lambda a: (a.submitted_at, a.worker_id))]}
        self.store.put_text(uri, json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                            content_type="application/json")
        return uri

    def gt_worker_id(self, worker_id: str) -> str:
        """GT's ``private.<region>.<id>`` form of a local worker id."""
        return worker_id if worker_id.startswith(("private.", "public.")) else f"private.{self.spec.region}.{worker_id}"

    def _gt_answer(self, a: Answer) -> dict[str, Any]:
        d = a.to_a2i()
        d["workerId"] = self.gt_worker_id(a.worker_id)
        return d

    # -- step 4: consolidation ---------------------------------------------------------------
    def finish(self, *, expire: bool = False) -> JobStatus:
        """Consolidate and write ``output.manifest`` once no task is pending.

        ``expire=True`` first closes pending tasks with the answers they have (GT's
        ``TaskAvailabilityLifetimeInSeconds`` running out); objects without answers fail.
        """
        state = self._read_state()
        if state is None:
            raise UsageError(f"job {self.spec.name!r} was not started", field="name")
        if expire:
            for t in self.queue.tasks(self.queue_name, status="pending"):
                self.queue.complete(self.queue_name, t.task_id)
        counts = self.queue.counts(self.queue_name)
        if counts.pending:
            return self.status()
        self._consolidate(state)
        return self.status()

    def _consolidate(self, state: Mapping[str, Any]) -> None:
        from gtflow.wire.gt_lambda import (
            ConsolidationRequestItem,
            ConsolidationResponse,
            DataObject,
            WorkerAnnotation,
            WorkerResponse,
        )

        spec = self.spec
        attr = spec.attribute
        objects: Mapping[str, Mapping[str, Any]] = state["objects"]
        lines = dict(self._lines())
        items = []
        all_answers: list[Answer] = []
        no_answers: set[str] = set()
        for oid, info in objects.items():
            if info["status"] != "queued":
                continue
            answers = self.queue.answers(self.queue_name, oid)
            if not answers:
                no_answers.add(oid)
                continue
            all_answers.extend(answers)
            wr = WorkerResponse.from_dict({"answers": [self._gt_answer(a) for a in answers]})
            items.append(ConsolidationRequestItem(
                dataset_object_id=oid, data_object=DataObject.from_manifest_line(lines[oid]),
                annotations=tuple(WorkerAnnotation.from_answer(a) for a in wr.answers)))
        items.sort(key=lambda it: int(it.dataset_object_id))
        last = max((a.submitted_at for a in all_answers), default=None)
        if last is None:
            uri_mtime = _dt.datetime.now(_dt.timezone.utc)
            last = uri_mtime
        ts = gt_timestamp(last)
        content_by_id: dict[str, Mapping[str, Any]] = {}
        if items:
            request_uri = self._consolidation_uri("consolidation-request", ts)
            self.store.put_text(request_uri, json.dumps([it.to_dict() for it in items], ensure_ascii=False,
                                                        separators=(",", ":")), content_type="application/json")
            event: dict[str, Any] = {"version": "2018-10-06", "labelingJobArn": spec.arn}
            if spec.label_categories is not None:
                event["labelCategories"] = list(spec.label_categories)
            event.update({
                "labelAttributeName": attr,
                "roleArn": spec.role_arn,
                "payload": {"s3Uri": request_uri},
                "outputConfig": self.annotations_uri,
                "maxHumanWorkersPerDataObject": spec.workers_per_object,
                "vpcEnabled": False,
            })
            raw = _call_handler(spec.post_handler, event, store=self.store, options=spec.post_options,
                                verdicts=self.verdicts if spec.post_handler.endswith("bulk-qa-verdicts") else None)
            try:
                response = ConsolidationResponse.from_list(raw)
            except ContractError as exc:
                raise ContractError(f"post-annotation handler returned an invalid response: {exc}",
                                    path=spec.post_handler) from exc
            self.store.put_text(self._consolidation_uri("consolidation-response", ts),
                                json.dumps(response.to_list(), ensure_ascii=False, separators=(",", ":")),
                                content_type="application/json")
            content_by_id = {i.dataset_object_id: i.consolidated_annotation.content for i in response.items}
        self._write_output(lines, objects, content_by_id, no_answers, format_creation_date(last))

    def _write_output(self, lines: Mapping[str, dict[str, Any]], objects: Mapping[str, Mapping[str, Any]],
                      content_by_id: Mapping[str, Mapping[str, Any]], no_answers: set[str], created: str) -> None:
        from gtflow.consolidate.request import failure_metadata
        from gtflow.manifest import write_manifest

        attr, meta_key = self.spec.attribute, f"{self.spec.attribute}-metadata"
        default_meta = {"job-name": f"labeling-job/{self.spec.name.lower()}", "type": "groundtruth/custom",
                        "human-annotated": "yes", "creation-date": created}

        def records() -> Iterator[dict[str, Any]]:
            for oid in sorted(lines, key=int):
                rec = dict(lines[oid])
                info = objects.get(oid, {"status": "failed", "reason": "not processed"})
                if info["status"] == "skipped":
                    yield rec
                    continue
                if info["status"] == "failed":
                    rec[meta_key] = failure_metadata(info.get("reason", "failed"))
                elif oid in no_answers:
                    rec[meta_key] = failure_metadata(EXPIRED_REASON)
                elif oid not in content_by_id:
                    rec[meta_key] = failure_metadata("the post-annotation handler returned no label for this object")
                else:
                    content = content_by_id[oid]
                    if attr in content:
                        rec[attr] = content[attr]
                    rec[meta_key] = dict(content.get(meta_key) or default_meta)
                yield rec

        write_manifest(self.output_manifest_uri, records(), store=self.store)
        log.info("output manifest written job=%s lines=%d", self.spec.name, len(lines))

    # -- status ------------------------------------------------------------------------------
    def status(self) -> JobStatus:
        state = self._read_state() or {"lines": 0, "objects": {}}
        objs = state["objects"].values()
        counts = self.queue.counts(self.queue_name)
        out = self.output_manifest_uri if self.store.exists(self.output_manifest_uri) else None
        labeled = failed = 0
        if out is not None:
            from gtflow.manifest import read_manifest

            for line in read_manifest(out, store=self.store):
                meta = line.record.get(f"{self.spec.attribute}-metadata")
                if isinstance(meta, Mapping) and "failure-reason" in meta:
                    failed += 1
                elif self.spec.attribute in line.record or meta is not None:
                    labeled += 1
        return JobStatus(
            name=self.spec.name, objects=state["lines"],
            queued=sum(o["status"] == "queued" for o in objs),
            skipped=sum(o["status"] == "skipped" for o in objs),
            failed_pre=sum(o["status"] == "failed" for o in objs),
            pending=counts.pending, answered=counts.complete, answers=counts.answers,
            complete=out is not None and counts.pending == 0, output_manifest=out,
            labeled=labeled, failed=failed,
        )


def queue_name(job_name: str) -> str:
    return f"labeling-job-{job_name}"


def on_task_complete(queue: TaskQueue, info: QueueInfo, task: Task, answers: list[Answer]) -> None:
    """TaskQueue completion hook for ``labeling-job`` queues (called by :mod:`gtflow.tasks`).

    Writes the worker-response file; when it was the last pending task (and the job has
    queued every line), consolidates and writes the output manifest.
    """
    if queue.store is None:
        raise UsageError("a labeling-job queue needs TaskQueue(store=...) to write outputs")
    job = LocalLabelingJob(LocalJobSpec.from_dict(info.meta), store=queue.store, queue=queue)
    job.write_worker_response(task, answers)
    state = job._read_state()
    if state is not None and queue.counts(info.name).pending == 0:
        job.finish()
