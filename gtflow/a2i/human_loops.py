"""Human loops behind one interface, on AWS (:class:`~gtflow.a2i.aws.AwsHumanLoops`) or on one
machine (:class:`~gtflow.a2i.local.LocalHumanLoops`).

Starting is idempotent by construction: a loop's name is the flow's name plus a hash of the
flow and the exact InputContent (:func:`~gtflow.a2i.names.loop_name`), so a rerun after a crash
sends the same names. :meth:`HumanLoops.start_many` first lists the loops the flow already
has and starts only the missing ones, so each distinct input is started once across reruns.

    from gtflow.backends import open_backend
    loops = open_backend().human_loops
    results = loops.start_many("od-review", [task_input, ...])
    for out in loops.collect("od-review", since=last_run):
        ...  # HumanLoopOutput values, all workers' answers kept
"""

from __future__ import annotations

import builtins
import datetime as _dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gtflow.a2i.input_content import encode_input_content
from gtflow.a2i.names import loop_name, validate_loop_name
from gtflow.logs import get_logger

__all__ = ["HumanLoop", "StartResult", "LoopInput", "HumanLoops", "prepare"]

log = get_logger(__name__)

IN_PROGRESS, COMPLETED, STOPPED, FAILED, STOPPING = "InProgress", "Completed", "Stopped", "Failed", "Stopping"


@dataclass(frozen=True)
class HumanLoop:
    """What DescribeHumanLoop / ListHumanLoops say about one loop.

    ``output_uri`` is where ``output.json`` is (or will be) written; ListHumanLoops does not
    report it on AWS, so it is None there until described.
    """

    name: str
    status: str  # InProgress | Completed | Stopped | Stopping | Failed
    flow_definition_arn: str
    creation_time: _dt.datetime  # aware, UTC
    output_uri: str | None = None
    arn: str | None = None
    failure_reason: str | None = None
    failure_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "HumanLoopName": self.name,
            "HumanLoopStatus": self.status,
            "FlowDefinitionArn": self.flow_definition_arn,
            "CreationTime": self.creation_time.isoformat(),
            "OutputS3Uri": self.output_uri,
            "HumanLoopArn": self.arn,
            "FailureReason": self.failure_reason,
            "FailureCode": self.failure_code,
        }


@dataclass(frozen=True)
class StartResult:
    """The outcome of starting one loop.

    ``started`` is True when this call created the loop; False when it already existed with
    the same input (a rerun). ``how``: ``started`` | ``exists`` | ``conflict-same-input``.
    """

    name: str
    arn: str
    started: bool
    how: str
    task_object: str | None = None


@dataclass(frozen=True)
class LoopInput:
    """A prepared loop: its name, the exact InputContent string and the parsed object."""

    name: str
    content: str
    task_input: Mapping[str, Any]

    @property
    def task_object(self) -> str | None:
        v = self.task_input.get("taskObject")
        return v if isinstance(v, str) else None


def prepare(flow_name: str, task_input: Mapping[str, Any], *, name: str | None = None) -> LoopInput:
    """Canonical InputContent (size-checked) and the derived (or given, validated) name."""
    content = encode_input_content(task_input)
    return LoopInput(
        name=validate_loop_name(name) if name is not None else loop_name(flow_name, content),
        content=content,
        task_input=task_input,
    )


@runtime_checkable
class HumanLoops(Protocol):
    """Start, describe, list, stop and collect human loops of a flow definition."""

    def start(self, flow: str, task_input: Mapping[str, Any], *, name: str | None = None) -> StartResult: ...

    def start_many(
        self,
        flow: str,
        task_inputs: Iterable[Mapping[str, Any]],
        *,
        on_result: Callable[[StartResult], None] | None = None,
    ) -> list[StartResult]: ...

    def describe(self, name: str) -> HumanLoop: ...

    def list(
        self,
        flow: str,
        *,
        status: str | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
    ) -> Iterator[HumanLoop]: ...

    def stop(self, name: str) -> None: ...

    def collect(
        self,
        flow: str,
        *,
        since: _dt.datetime | None = None,
        max_workers: int = 32,
        errors: builtins.list[Any] | None = None,
    ) -> builtins.list[Any]:
        """The flow's ``output.json`` files (as :class:`~gtflow.a2i.CollectedOutput`) written since ``since``."""
        ...


class _StartManyMixin:
    """``start_many`` over ``_existing_names`` and ``_start_prepared`` (both backends)."""

    def _existing_names(self, flow: str) -> set[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _start_prepared(self, flow: str, loop: LoopInput) -> StartResult:  # pragma: no cover
        raise NotImplementedError

    def _loop_arn(self, flow: str, name: str) -> str:  # pragma: no cover
        raise NotImplementedError

    def _flow_name(self, flow: str) -> str:
        return flow.rsplit("/", 1)[-1]

    def start(self, flow: str, task_input: Mapping[str, Any], *, name: str | None = None) -> StartResult:
        """Start one loop (or find it already started with the same input)."""
        return self._start_prepared(flow, prepare(self._flow_name(flow), task_input, name=name))

    def start_many(
        self,
        flow: str,
        task_inputs: Iterable[Mapping[str, Any]],
        *,
        on_result: Callable[[StartResult], None] | None = None,
    ) -> builtins.list[StartResult]:
        """Start a loop per distinct input; loops the flow already has are not started again.

        Inputs are prepared (and size-checked) before the first start, so a bad input stops
        the run before anything is sent. Identical inputs in one call give one loop.
        """
        fname = self._flow_name(flow)
        prepared: dict[str, LoopInput] = {}
        for ti in task_inputs:
            li = prepare(fname, ti)
            prepared.setdefault(li.name, li)
        existing = self._existing_names(flow) if prepared else set()
        results = []
        started = 0
        for li in prepared.values():
            if li.name in existing:
                res = StartResult(li.name, self._loop_arn(flow, li.name), False, "exists", li.task_object)
            else:
                res = self._start_prepared(flow, li)
                started += res.started
            results.append(res)
            if on_result is not None:
                on_result(res)
        log.info("human loops flow=%s inputs=%d started=%d existing=%d", fname, len(prepared), started, len(prepared) - started)
        return results
