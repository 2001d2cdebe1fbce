"""Human loops on one machine: the local task queue plays A2I's part.

A flow definition is a :class:`~gtflow.tasks.TaskQueue` queue of owner ``"human-loop"`` named
after the flow (its template is the human task UI; its meta holds the flow's ARN and
``S3OutputPath``). A human loop is a task whose id is the loop name and whose input is the
InputContent. The review portal (or a test, or a simulated reviewer) answers tasks through
:meth:`TaskQueue.submit`; when a task has its answers, the queue calls
:func:`on_task_complete`, which writes A2I ``output.json`` at A2I's key layout
``<S3OutputPath>/<flow>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json`` (creation time, UTC).

Statuses: a pending task is ``InProgress``, a complete one ``Completed``, a cancelled one
``Stopped``.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gtflow.a2i.collect import CollectedOutput, collect_outputs
from gtflow.a2i.flow_definition import FlowDefinition, local_arn
from gtflow.a2i.human_loops import (
    COMPLETED,
    IN_PROGRESS,
    STOPPED,
    HumanLoop,
    LoopInput,
    StartResult,
    _StartManyMixin,
)
from gtflow.a2i.human_task_ui import HumanTaskUi
from gtflow.errors import ConflictError, GtflowError, ObjectNotFoundError, StoreError, UsageError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.store.local import atomic_write_file
from gtflow.tasks import Answer, QueueInfo, Task, TaskQueue
from gtflow.wire.a2i import HumanLoopOutput, name_from_arn, output_json_uri
from gtflow.wire.worker import HumanAnswer

__all__ = ["LocalHumanLoops", "on_task_complete", "OWNER"]

log = get_logger(__name__)

#: The TaskQueue owner kind of human-loop queues.
OWNER = "human-loop"
_STATUS = {"pending": IN_PROGRESS, "complete": COMPLETED, "cancelled": STOPPED}


def _output_uri(info: QueueInfo, task: Task) -> str:
    return output_json_uri(str(info.meta["S3OutputPath"]), info.name, task.created_at, task.task_id)


def output_document(info: QueueInfo, task: Task, answers: list[Answer]) -> dict[str, Any]:
    """The ``output.json`` of a completed local loop, with every worker's answer."""
    return HumanLoopOutput(
        flow_definition_arn=str(info.meta["FlowDefinitionArn"]),
        human_answers=tuple(HumanAnswer.from_dict(a.to_a2i()) for a in answers),  # checked
        human_loop_name=task.task_id,
        input_content=dict(task.task_input),
    ).to_dict()


def on_task_complete(queue: TaskQueue, info: QueueInfo, task: Task, answers: list[Answer]) -> None:
    """TaskQueue completion hook of ``"human-loop"`` queues: write the loop's ``output.json``.

    Idempotent: a redelivery writes the same object again. A task closed with no answer
    (the availability lifetime ran out) writes nothing, as A2I writes no output for an
    expired loop.
    """
    if not answers:
        log.info("human loop %s closed without answers; no output.json", task.task_id)
        return
    if queue.store is None:
        raise StoreError("the task queue has no store to write output.json to", field="TaskQueue.store")
    uri = _output_uri(info, task)
    body = json.dumps(output_document(info, task, answers), ensure_ascii=False, indent=1)
    queue.store.put_text(uri, body, content_type="application/json")
    log.info("wrote output.json of human loop %s (%d answers)", task.task_id, len(answers))


class LocalHumanLoops(_StartManyMixin):
    """:class:`~gtflow.a2i.HumanLoops` on a TaskQueue and an object store.

        >>> import tempfile
        >>> from gtflow.store import LocalStore
        >>> from gtflow.a2i import HumanTaskUi, FlowDefinition
        >>> loops = LocalHumanLoops.for_store(LocalStore(tempfile.mkdtemp()))
        >>> ui_arn = loops.create_human_task_ui(HumanTaskUi.bundled("od-ui"))
        >>> loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i", ui_arn,
        ...     "Check boxes", "Fix the boxes"))
        'arn:aws:sagemaker:local:000000000000:flow-definition/od-review'
        >>> loops.start("od-review", {"taskObject": "s3://bucket/1.jpg", "labels": ["a"],
        ...     "initialValue": []}).started
        True
    """

    def __init__(self, queue: TaskQueue, store: ObjectStore, *, state_dir: Path | None = None) -> None:
        self.queue = queue
        self.store = store
        if queue.store is None:
            queue.store = store
        base = (state_dir or getattr(store, "state_dir", None)
                or (queue.db_path.parent if queue.db_path is not None else Path(".gtflow")))
        self.state_dir = Path(base)
        self.ui_dir = self.state_dir / "a2i" / "human-task-uis"

    @classmethod
    def for_store(cls, store: Any) -> LocalHumanLoops:
        """Loops of a LocalStore, with the queue at ``<root>/.gtflow/tasks.db``."""
        return cls(TaskQueue.for_store(store), store)

    def __repr__(self) -> str:
        return f"LocalHumanLoops({self.queue!r})"

    # -- human task UIs --------------------------------------------------------------------------
    def create_human_task_ui(self, ui: HumanTaskUi) -> str:
        """Register a UI (a JSON file in the state folder); same content again is a no-op.

        A template with a Crowd element the local portal cannot run is refused here
        (TemplateError), not at the worker's first click.
        """
        from gtflow.ui.local_support import require_local_support

        ui.validate()
        require_local_support(ui.content)
        arn = local_arn("human-task-ui", ui.name)
        path = self.ui_dir / f"{ui.name}.json"
        if path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            if old["UiTemplate"]["ContentSha256"] != ui.content_sha256:
                raise ConflictError(f"human task UI {ui.name!r} exists with a different template", field="HumanTaskUiName")
            return arn
        doc = {
            "HumanTaskUiName": ui.name,
            "HumanTaskUiArn": arn,
            "HumanTaskUiStatus": "Active",
            "CreationTime": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "UiTemplate": {"Content": ui.content, "ContentSha256": ui.content_sha256},
        }
        atomic_write_file(path, json.dumps(doc).encode("utf-8"), state_dir=self.state_dir)
        return arn

    def human_task_ui(self, name: str) -> dict[str, Any]:
        """DescribeHumanTaskUi, locally (with the template content)."""
        path = self.ui_dir / f"{name}.json"
        if not path.exists():
            raise UsageError(f"no human task UI {name!r}; create it first", field="HumanTaskUiName")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    # -- flow definitions ------------------------------------------------------------------------
    def create_flow_definition(self, fd: FlowDefinition, *, wait: bool = True) -> str:
        """Register the flow as a ``human-loop`` queue; the same settings again are a no-op."""
        fd.validate(aws=False)
        ui = self.human_task_ui(name_from_arn(fd.human_task_ui_arn))
        arn = local_arn("flow-definition", fd.name)
        meta = {
            "FlowDefinitionName": fd.name,
            "FlowDefinitionArn": arn,
            "S3OutputPath": fd.output_path.rstrip("/"),
            "HumanTaskUiArn": ui["HumanTaskUiArn"],
            "HumanLoopConfig": fd.human_loop_config(),
        }
        info = self.queue.register_queue(
            fd.name, owner=OWNER, template=ui["UiTemplate"]["Content"], title=fd.task_title,
            description=fd.task_description, workers_per_task=fd.task_count,
            time_limit_seconds=fd.task_time_limit_seconds or 3600, meta=meta,
        )
        if dict(info.meta) != json.loads(json.dumps(meta)):
            raise ConflictError(f"flow definition {fd.name!r} exists with different settings", field="FlowDefinitionName")
        return arn

    def flow(self, flow: str) -> QueueInfo:
        """The queue of flow ``flow`` (name or local ARN)."""
        name = self._flow_name(flow)
        try:
            info = self.queue.queue(name)
        except UsageError:
            raise UsageError(f"no flow definition {name!r}; create it first", field="FlowDefinitionName") from None
        if info.owner != OWNER:
            raise UsageError(f"queue {name!r} is not a flow definition (owner {info.owner!r})", field="FlowDefinitionName")
        return info

    def output_prefix(self, flow: str) -> str:
        info = self.flow(flow)
        return f"{info.meta['S3OutputPath']}/{info.name}/"

    def _loop_arn(self, flow: str, name: str) -> str:
        return local_arn("human-loop", name)

    # -- loops -----------------------------------------------------------------------------------
    def _existing_names(self, flow: str) -> set[str]:
        return {t.task_id for t in self.queue.tasks(self.flow(flow).name)}

    def _start_prepared(self, flow: str, loop: LoopInput) -> StartResult:
        info = self.flow(flow)
        try:
            added = self.queue.add_task(info.name, loop.name, loop.task_input)
        except ConflictError as exc:
            raise ConflictError(f"human loop {loop.name!r} exists with different input", field="HumanLoopInput.InputContent") from exc
        return StartResult(loop.name, local_arn("human-loop", loop.name), added, "started" if added else "exists", loop.task_object)

    def _loop(self, info: QueueInfo, task: Task) -> HumanLoop:
        return HumanLoop(
            name=task.task_id, status=_STATUS.get(task.status, task.status),
            flow_definition_arn=str(info.meta["FlowDefinitionArn"]),
            creation_time=task.created_at.astimezone(_dt.timezone.utc),
            output_uri=_output_uri(info, task), arn=local_arn("human-loop", task.task_id),
        )

    def _find(self, name: str) -> tuple[QueueInfo, Task]:
        for info in self.queue.queues(owner=OWNER):
            try:
                return info, self.queue.task(info.name, name)
            except UsageError:
                continue
        raise ObjectNotFoundError(f"no human loop {name!r}", field="HumanLoopName")

    def describe(self, name: str) -> HumanLoop:
        return self._loop(*self._find(name))

    def list(
        self,
        flow: str,
        *,
        status: str | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
    ) -> Iterator[HumanLoop]:
        info = self.flow(flow)
        for task in self.queue.tasks(info.name):
            loop = self._loop(info, task)
            if status is not None and loop.status != status:
                continue
            if created_after is not None and loop.creation_time <= _aware(created_after):
                continue
            if created_before is not None and loop.creation_time >= _aware(created_before):
                continue
            yield loop

    def stop(self, name: str) -> None:
        info, task = self._find(name)
        self.queue.cancel(info.name, task.task_id)

    def collect(
        self,
        flow: str,
        *,
        since: _dt.datetime | None = None,
        max_workers: int = 32,
        errors: builtins.list[GtflowError] | None = None,
    ) -> builtins.list[CollectedOutput]:
        """Deliver answers not yet written, then read the flow's output.json files."""
        info = self.flow(flow)
        self.queue.deliver_pending(info.name)
        return collect_outputs(self.store, self.output_prefix(flow), since=since, max_workers=max_workers, errors=errors)


def _aware(t: _dt.datetime) -> _dt.datetime:
    return t.replace(tzinfo=_dt.timezone.utc) if t.tzinfo is None else t
