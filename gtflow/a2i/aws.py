"""Human loops on Amazon A2I: ``sagemaker-a2i-runtime`` for loops, ``sagemaker`` for flow
definitions and UIs, S3 for the answers. Clients are injected (tests use ``Stubber``).

    from gtflow.store import make_client, S3Store
    loops = AwsHumanLoops(make_client("sagemaker-a2i-runtime"), make_client("sagemaker"), S3Store())
    loops.start_many("od-review", inputs)

Throttling is retried by botocore's standard mode and then by a bounded retry of our own;
validation errors are not retried. A ``ConflictException`` (same name, input the service
considers different) is resolved by describing the loop: same flow and same input (read
back from output.json when it exists, else implied by the name's input hash) is accepted,
anything else raises :class:`~gtflow.errors.ConflictError`.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from gtflow.a2i._retry import call_with_retry, error_code
from gtflow.a2i.collect import CollectedOutput, collect_outputs, parse_output
from gtflow.a2i.flow_definition import FlowDefinition, create_flow_definition
from gtflow.a2i.human_loops import HumanLoop, LoopInput, StartResult, _StartManyMixin
from gtflow.a2i.human_task_ui import HumanTaskUi, create_human_task_ui
from gtflow.a2i.names import loop_name
from gtflow.errors import ConflictError, GtflowError, ObjectNotFoundError, ServiceError, UsageError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.wire.a2i import CONTENT_CLASSIFIERS, DescribeHumanLoopResponse, name_from_arn

__all__ = ["AwsHumanLoops"]

log = get_logger(__name__)


def _utc(t: Any) -> _dt.datetime:
    if isinstance(t, str):
        t = _dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    if t.tzinfo is None:
        return t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc)


class AwsHumanLoops(_StartManyMixin):
    """:class:`~gtflow.a2i.HumanLoops` on A2I. ``flow`` arguments are a flow definition name or ARN."""

    def __init__(
        self,
        runtime: Any,
        sagemaker: Any,
        store: ObjectStore,
        *,
        content_classifiers: Sequence[str] = (),
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for c in content_classifiers:
            if c not in CONTENT_CLASSIFIERS:
                raise UsageError(f"unknown content classifier {c!r}", field="ContentClassifiers")
        self.runtime = runtime
        self.sagemaker = sagemaker
        self.store = store
        self.content_classifiers = tuple(content_classifiers)
        self._retry: dict[str, Any] = {"attempts": attempts, "sleep": sleep}
        self._flows: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return "AwsHumanLoops()"

    # -- flow definitions and UIs ----------------------------------------------------------------
    def create_human_task_ui(self, ui: HumanTaskUi) -> str:
        return create_human_task_ui(self.sagemaker, ui, **self._retry)

    def create_flow_definition(self, fd: FlowDefinition, *, wait: bool = True) -> str:
        return create_flow_definition(self.sagemaker, fd, wait=wait, **self._retry)

    def flow(self, flow: str) -> dict[str, Any]:
        """DescribeFlowDefinition of ``flow`` (name or ARN), cached."""
        name = self._flow_name(flow)
        if name not in self._flows:
            self._flows[name] = call_with_retry(self.sagemaker.describe_flow_definition, FlowDefinitionName=name, **self._retry)
        return self._flows[name]

    def _flow_arn(self, flow: str) -> str:
        if flow.startswith("arn:"):
            return flow
        return str(self.flow(flow)["FlowDefinitionArn"])

    def output_prefix(self, flow: str) -> str:
        """``<S3OutputPath>/<flow>/``: where this flow's output.json files are."""
        path = str(self.flow(flow)["OutputConfig"]["S3OutputPath"])
        if not path.startswith("s3://"):
            raise UsageError(f"S3OutputPath {path!r:.100} is not an s3:// URI", field="S3OutputPath")
        return f"{path.rstrip('/')}/{self._flow_name(flow)}/"

    def _loop_arn(self, flow: str, name: str) -> str:
        return self._flow_arn(flow).rsplit(":flow-definition/", 1)[0] + f":human-loop/{name}"

    # -- starting --------------------------------------------------------------------------------
    def _existing_names(self, flow: str) -> set[str]:
        return {loop.name for loop in self.list(flow)}

    def _start_prepared(self, flow: str, loop: LoopInput) -> StartResult:
        req: dict[str, Any] = {
            "HumanLoopName": loop.name,
            "FlowDefinitionArn": self._flow_arn(flow),
            "HumanLoopInput": {"InputContent": loop.content},
        }
        if self.content_classifiers:
            req["DataAttributes"] = {"ContentClassifiers": list(self.content_classifiers)}
        try:
            resp = call_with_retry(
                self.runtime.start_human_loop, passthrough=frozenset({"ConflictException"}), **self._retry, **req
            )
        except Exception as exc:
            if error_code(exc) != "ConflictException":
                raise
            return self._resolve_conflict(flow, loop)
        return StartResult(loop.name, str(resp["HumanLoopArn"]), True, "started", loop.task_object)

    def _resolve_conflict(self, flow: str, loop: LoopInput) -> StartResult:
        try:
            existing = self.describe(loop.name)
        except GtflowError as exc:
            raise ServiceError(f"ConflictException for {loop.name!r} but the loop cannot be described: {exc}") from exc
        if name_from_arn(existing.flow_definition_arn) != self._flow_name(flow):
            raise ConflictError(
                f"human loop {loop.name!r} belongs to flow {name_from_arn(existing.flow_definition_arn)!r}",
                field="HumanLoopName",
            )
        theirs: Any = None
        if existing.output_uri:
            try:
                theirs = parse_output(self.store.get_bytes(existing.output_uri), existing.output_uri).input_content
            except ObjectNotFoundError:
                theirs = None
        if theirs is not None:
            same = theirs == json.loads(loop.content)
        else:
            # No output yet: a name derived from the input's hash stands for that input.
            same = loop.name == loop_name(self._flow_name(flow), loop.content)
        if not same:
            raise ConflictError(
                f"human loop {loop.name!r} exists with different input", field="HumanLoopInput.InputContent"
            )
        log.info("human loop %s already exists with the same input", loop.name)
        return StartResult(loop.name, existing.arn or self._loop_arn(flow, loop.name), False, "conflict-same-input", loop.task_object)

    # -- reading ---------------------------------------------------------------------------------
    def describe(self, name: str) -> HumanLoop:
        try:
            resp = call_with_retry(self.runtime.describe_human_loop, HumanLoopName=name, **self._retry)
        except ServiceError as exc:
            if isinstance(exc.__cause__, Exception) and error_code(exc.__cause__) == "ResourceNotFoundException":
                raise ObjectNotFoundError(f"no human loop {name!r}", field="HumanLoopName") from exc
            raise
        d = DescribeHumanLoopResponse.from_dict({k: v for k, v in resp.items() if k != "ResponseMetadata"})
        return HumanLoop(
            name=d.human_loop_name, status=d.human_loop_status, flow_definition_arn=d.flow_definition_arn,
            creation_time=_utc(d.creation_time), output_uri=d.output_s3_uri, arn=d.human_loop_arn,
            failure_reason=d.failure_reason, failure_code=d.failure_code,
        )

    def list(
        self,
        flow: str,
        *,
        status: str | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
    ) -> Iterator[HumanLoop]:
        """ListHumanLoops of the flow, oldest first (deleted loops are not listed)."""
        req: dict[str, Any] = {"FlowDefinitionArn": self._flow_arn(flow), "SortOrder": "Ascending", "MaxResults": 100}
        if created_after is not None:
            req["CreationTimeAfter"] = created_after
        if created_before is not None:
            req["CreationTimeBefore"] = created_before
        while True:
            page = call_with_retry(self.runtime.list_human_loops, **self._retry, **req)
            for s in page.get("HumanLoopSummaries", ()):
                if status is not None and s.get("HumanLoopStatus") != status:
                    continue
                yield HumanLoop(
                    name=s["HumanLoopName"], status=s["HumanLoopStatus"],
                    flow_definition_arn=s.get("FlowDefinitionArn", req["FlowDefinitionArn"]),
                    creation_time=_utc(s["CreationTime"]), failure_reason=s.get("FailureReason"),
                )
            token = page.get("NextToken")
            if not token:
                return
            req["NextToken"] = token

    def stop(self, name: str) -> None:
        call_with_retry(self.runtime.stop_human_loop, HumanLoopName=name, **self._retry)

    def collect(
        self,
        flow: str,
        *,
        since: _dt.datetime | None = None,
        max_workers: int = 32,
        errors: builtins.list[GtflowError] | None = None,
    ) -> builtins.list[CollectedOutput]:
        """The flow's output.json files written since ``since``, read concurrently from S3."""
        return collect_outputs(self.store, self.output_prefix(flow), since=since, max_workers=max_workers, errors=errors)
