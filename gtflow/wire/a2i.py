"""Amazon A2I payloads: ``output.json``, the EventBridge status-change event, and the
StartHumanLoop / DescribeHumanLoop request and responses (CONTRACTS.md section 4).

``output.json`` of a custom task type (CONTRACTS.md 4.5)::

    {"flowDefinitionArn": "...", "humanAnswers": [{...}], "humanLoopName": "...",
     "inputContent": {...}}

Built-in task types add ``awsManagedHumanLoopRequestSource``; unknown keys are kept.

    >>> out = HumanLoopOutput.from_dict({
    ...     "flowDefinitionArn": "arn:aws:sagemaker:us-west-2:111122223333:flow-definition/fd",
    ...     "humanAnswers": [{"answerContent": {"t": "x"}, "submissionTime": "2020-06-18T17:08:26.246Z",
    ...                       "workerId": "ef7294f850a3d9d1"}],
    ...     "humanLoopName": "loop-1", "inputContent": {"taskObject": "s3://b/k.jpg"}})
    >>> out.flow_definition_name, out.human_answers[0].worker_id
    ('fd', 'ef7294f850a3d9d1')
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gtflow.errors import ContractError
from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    expect_list,
    expect_object,
    extra_of,
    fail,
    forbid_extra,
    get_list,
    get_object,
    get_str,
    get_str_list,
    index,
    join,
    type_name,
    wire,
)
from gtflow.wire.worker import HumanAnswer, IdentityData, WorkerMetadata

__all__ = [
    "HumanAnswer",
    "WorkerMetadata",
    "IdentityData",
    "HumanLoopOutput",
    "HumanLoopStatus",
    "HUMAN_LOOP_STATUSES",
    "FAILURE_CODES",
    "HumanLoopOutputRef",
    "HumanLoopStatusChangeDetail",
    "HumanLoopStatusChangeEvent",
    "StartHumanLoopRequest",
    "StartHumanLoopResponse",
    "DescribeHumanLoopResponse",
    "HUMAN_LOOP_NAME_RE",
    "MAX_INPUT_CONTENT_CHARS",
    "CONTENT_CLASSIFIERS",
    "AWS_MANAGED_SOURCES",
    "validate_human_loop_name",
    "output_json_uri",
    "name_from_arn",
    "Condition",
    "ConditionGroup",
    "ActivationConditions",
    "MAX_ACTIVATION_CONDITIONS_CHARS",
]

# [BOTO sagemaker-a2i-runtime] StartHumanLoopRequest.HumanLoopName and InputContent.
HUMAN_LOOP_NAME_RE = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
MAX_HUMAN_LOOP_NAME = 63
MAX_INPUT_CONTENT_CHARS = 3_145_728
CONTENT_CLASSIFIERS = ("FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent")
AWS_MANAGED_SOURCES = (
    "AWS/Rekognition/DetectModerationLabels/Image/V3",
    "AWS/Textract/AnalyzeDocument/Forms/V1",
)
HUMAN_LOOP_STATUSES = ("InProgress", "Failed", "Completed", "Stopped", "Stopping")
FAILURE_CODES = ("ValidationError", "Expired", "InternalError")


class HumanLoopStatus:
    """The ``HumanLoopStatus`` enum values, as constants."""

    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    COMPLETED = "Completed"
    STOPPED = "Stopped"
    STOPPING = "Stopping"


def validate_human_loop_name(name: str, *, field_path: str = "HumanLoopName") -> str:
    """Return ``name`` if A2I accepts it (``^[a-z0-9](-*[a-z0-9])*$``, 1-63), else raise.

    >>> validate_human_loop_name("2b2b07bb-7bfc-40b9-ab3a-7995c0fa04d6")
    '2b2b07bb-7bfc-40b9-ab3a-7995c0fa04d6'
    """
    if not isinstance(name, str) or not name:
        raise fail(field_path, "a human loop name must be a non-empty string")
    if len(name) > MAX_HUMAN_LOOP_NAME:
        raise fail(field_path, f"{name!r} is longer than {MAX_HUMAN_LOOP_NAME} characters")
    if not HUMAN_LOOP_NAME_RE.match(name):
        raise fail(
            field_path,
            f"{name!r} is not a valid human loop name: lowercase letters, digits and inner "
            "hyphens only",
        )
    return name


def name_from_arn(arn: str) -> str:
    """The resource name after the last ``/`` of an ARN.

    >>> name_from_arn("arn:aws:sagemaker:us-west-2:1:flow-definition/fd-demo")
    'fd-demo'
    """
    return arn.rsplit("/", 1)[-1]


def output_json_uri(
    s3_output_path: str, flow_definition_name: str, creation_time: _dt.datetime, loop_name: str
) -> str:
    """Where A2I writes ``output.json``: ``<S3OutputPath>/<flow>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json``.

    The date is the loop's creation time in UTC truncated to seconds (CONTRACTS.md 4.5); a
    naive datetime is taken as UTC.

    >>> import datetime as dt
    >>> output_json_uri("s3://b/a2i-results", "fd", dt.datetime(2021, 5, 6, 21, 25, 42, 373000), "l1")
    's3://b/a2i-results/fd/2021/05/06/21/25/42/l1/output.json'
    """
    t = creation_time
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc)
    return f"{s3_output_path.rstrip('/')}/{flow_definition_name}/{t:%Y/%m/%d/%H/%M/%S}/{loop_name}/output.json"


@dataclass(frozen=True, slots=True)
class HumanLoopOutput(WireValue):
    """A2I ``output.json`` (custom and built-in task types)."""

    flow_definition_arn: str = wire("flowDefinitionArn")
    human_answers: tuple[HumanAnswer, ...] = wire("humanAnswers")
    human_loop_name: str = wire("humanLoopName")
    input_content: Mapping[str, Any] = wire("inputContent")
    aws_managed_human_loop_request_source: str | None = wire("awsManagedHumanLoopRequestSource", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "awsManagedHumanLoopRequestSource",
        "flowDefinitionArn",
        "humanAnswers",
        "humanLoopName",
        "inputContent",
    )

    @property
    def flow_definition_name(self) -> str:
        return name_from_arn(self.flow_definition_arn)

    def answers_for(self, widget_name: str) -> list[Any]:
        """Each worker's value for one form field (workers who left it empty are skipped).

        >>> HumanLoopOutput("arn:x/fd", (HumanAnswer({"n": "a"}, "t", "w"),), "l", {}).answers_for("n")
        ['a']
        """
        return [
            a.answer_content[widget_name]
            for a in self.human_answers
            if widget_name in a.answer_content
        ]


@dataclass(frozen=True, slots=True)
class HumanLoopOutputRef(WireValue):
    """``HumanLoopOutput`` of DescribeHumanLoop (``OutputS3Uri``) or of the EventBridge
    detail (``outputS3Uri``): the key differs in case, so the wire key is a field."""

    output_s3_uri: str
    camel: bool = False  # True: "outputS3Uri" (EventBridge); False: "OutputS3Uri" (API)
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        key = "outputS3Uri" if self.camel else "OutputS3Uri"
        out: dict[str, Any] = {}
        order = self.key_order or (key,)
        for k in order:
            if k == key:
                out[k] = self.output_s3_uri
            elif k in self.extra:
                out[k] = self.extra[k]
        out.setdefault(key, self.output_s3_uri)
        for k, v in self.extra.items():
            out.setdefault(k, v)
        return out

    @classmethod
    def from_dict(cls, d: Any, path: str = "", *, camel: bool = False) -> HumanLoopOutputRef:
        d = expect_object(d, path)
        key = "outputS3Uri" if camel else "OutputS3Uri"
        return cls(
            output_s3_uri=get_str(d, key, path),
            camel=camel,
            extra=extra_of(d, (key,)),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class HumanLoopStatusChangeDetail(WireValue):
    """``detail`` of the "SageMaker A2I HumanLoop Status Change" EventBridge event."""

    creation_time: str = wire("creationTime")
    flow_definition_arn: str = wire("flowDefinitionArn")
    human_loop_arn: str = wire("humanLoopArn")
    human_loop_name: str = wire("humanLoopName")
    human_loop_status: str = wire("humanLoopStatus")
    human_loop_output: HumanLoopOutputRef | None = wire(
        "humanLoopOutput",
        default=None,
        parse=lambda v, p: HumanLoopOutputRef.from_dict(v, p, camel=True),
    )
    failure_code: str | None = wire("failureCode", default=None)
    failure_reason: str | None = wire("failureReason", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "creationTime",
        "failureCode",
        "failureReason",
        "flowDefinitionArn",
        "humanLoopArn",
        "humanLoopName",
        "humanLoopOutput",
        "humanLoopStatus",
    )
    # The [DG] sample writes failureCode/failureReason as null on success.
    _ALWAYS: ClassVar[frozenset[str]] = frozenset({"failureCode", "failureReason"})


@dataclass(frozen=True, slots=True)
class HumanLoopStatusChangeEvent(WireValue):
    """The EventBridge event A2I sends for Completed, Failed and Stopped loops (at least once)."""

    detail: HumanLoopStatusChangeDetail = wire()
    version: str | None = wire(default="0")
    id: str | None = wire(default=None)
    detail_type: str = wire("detail-type", default="SageMaker A2I HumanLoop Status Change", required=True)
    source: str = wire(default="aws.sagemaker", required=True)
    account: str | None = wire(default=None)
    time: str | None = wire(default=None)
    region: str | None = wire(default=None)
    resources: tuple[str, ...] | None = wire(default=())
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    )
    DETAIL_TYPE: ClassVar[str] = "SageMaker A2I HumanLoop Status Change"


@dataclass(frozen=True, slots=True)
class StartHumanLoopRequest(WireValue):
    """StartHumanLoop parameters, validated as the service model does.

    ``InputContent`` is a JSON *string* on the wire; :attr:`input_content` is the parsed object.

    >>> r = StartHumanLoopRequest("loop-1", "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/fd",
    ...                           {"taskObject": "s3://b/k.jpg"})
    >>> r.to_dict()["HumanLoopInput"]["InputContent"]
    '{"taskObject": "s3://b/k.jpg"}'
    """

    human_loop_name: str
    flow_definition_arn: str
    input_content: Mapping[str, Any]
    content_classifiers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_human_loop_name(self.human_loop_name)
        if len(self.input_content_json()) > MAX_INPUT_CONTENT_CHARS:
            raise fail(
                "HumanLoopInput.InputContent",
                f"longer than {MAX_INPUT_CONTENT_CHARS} characters (A2I's 3 MiB limit)",
            )
        for i, c in enumerate(self.content_classifiers):
            if c not in CONTENT_CLASSIFIERS:
                raise fail(f"DataAttributes.ContentClassifiers[{i}]", f"unknown classifier {c!r}")

    def input_content_json(self) -> str:
        return json.dumps(self.input_content, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "HumanLoopName": self.human_loop_name,
            "FlowDefinitionArn": self.flow_definition_arn,
            "HumanLoopInput": {"InputContent": self.input_content_json()},
        }
        if self.content_classifiers:
            out["DataAttributes"] = {"ContentClassifiers": list(self.content_classifiers)}
        return out

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> StartHumanLoopRequest:
        d = expect_object(d, path)
        forbid_extra(
            d, ("HumanLoopName", "FlowDefinitionArn", "HumanLoopInput", "DataAttributes"), path
        )
        hli = get_object(d, "HumanLoopInput", path)
        hli_path = join(path, "HumanLoopInput")
        forbid_extra(hli, ("InputContent",), hli_path)
        raw = get_str(hli, "InputContent", hli_path)
        try:
            content = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise fail(join(hli_path, "InputContent"), f"not valid JSON: {exc.msg}") from exc
        if not isinstance(content, dict):
            raise fail(
                join(hli_path, "InputContent"), f"expected a JSON object, got {type_name(content)}"
            )
        attrs = get_object(d, "DataAttributes", path, required=False) or {}
        classifiers = get_str_list(
            attrs, "ContentClassifiers", join(path, "DataAttributes"), required=False
        )
        try:
            return cls(
                human_loop_name=get_str(d, "HumanLoopName", path),
                flow_definition_arn=get_str(d, "FlowDefinitionArn", path),
                input_content=content,
                content_classifiers=classifiers or (),
            )
        except ContractError as err:
            if path and err.field:
                err.field = join(path, err.field)
            raise


@dataclass(frozen=True, slots=True)
class StartHumanLoopResponse(WireValue):
    """``{"HumanLoopArn": "arn:...:human-loop/<name>"}`` (HTTP 201). boto3's
    ``ResponseMetadata`` lands in ``extra``."""

    human_loop_arn: str = wire("HumanLoopArn")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("HumanLoopArn",)

    @property
    def human_loop_name(self) -> str:
        return name_from_arn(self.human_loop_arn)


@dataclass(frozen=True, slots=True)
class DescribeHumanLoopResponse(WireValue):
    """DescribeHumanLoop's answer. ``CreationTime`` is kept as given: boto3 hands a
    ``datetime``, recorded JSON a string. ``HumanLoopOutput.OutputS3Uri`` is set already while
    the loop is InProgress."""

    creation_time: _dt.datetime | str = wire("CreationTime")
    human_loop_status: str = wire("HumanLoopStatus")
    human_loop_name: str = wire("HumanLoopName")
    human_loop_arn: str = wire("HumanLoopArn")
    flow_definition_arn: str = wire("FlowDefinitionArn")
    human_loop_output: HumanLoopOutputRef | None = wire("HumanLoopOutput", default=None)
    failure_reason: str | None = wire("FailureReason", default=None)
    failure_code: str | None = wire("FailureCode", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "CreationTime",
        "FailureReason",
        "FailureCode",
        "HumanLoopStatus",
        "HumanLoopName",
        "HumanLoopArn",
        "FlowDefinitionArn",
        "HumanLoopOutput",
    )

    def _check(self, path: str) -> None:
        if self.human_loop_status not in HUMAN_LOOP_STATUSES:
            raise fail(
                join(path, "HumanLoopStatus"), f"unknown status {self.human_loop_status!r}"
            )

    @property
    def output_s3_uri(self) -> str | None:
        return None if self.human_loop_output is None else self.human_loop_output.output_s3_uri


# --------------------------------------------------------------------------- activation conditions

MAX_ACTIVATION_CONDITIONS_CHARS = 10_240
MAX_CONDITION_NESTING = 2


@dataclass(frozen=True, slots=True)
class Condition(WireValue):
    """One activation condition: ``{"ConditionType": ..., "ConditionParameters": {...}}``.

    Evaluated copies (in built-in ``inputContent``) carry ``EvaluationResult``; it is kept in
    ``extra``.
    """

    condition_type: str = wire("ConditionType")
    condition_parameters: Mapping[str, Any] | None = wire("ConditionParameters", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("ConditionType", "ConditionParameters")


@dataclass(frozen=True, slots=True)
class ConditionGroup(WireValue):
    """``{"Or": [...]}`` or ``{"And": [...]}`` with at least two members."""

    operator: str  # "Or" | "And"
    members: tuple[Condition | ConditionGroup, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        members = [m.to_dict() for m in self.members]
        out: dict[str, Any] = {}
        for k in self.key_order or (self.operator,):
            if k == self.operator:
                out[k] = members
            elif k in self.extra:
                out[k] = self.extra[k]
        out.setdefault(self.operator, members)
        for k, v in self.extra.items():
            out.setdefault(k, v)
        return out


def _parse_condition(d: Any, path: str, depth: int) -> Condition | ConditionGroup:
    d = expect_object(d, path)
    ops = [op for op in ("Or", "And") if op in d]
    if not ops:
        return Condition.from_dict(d, path)
    if len(ops) > 1 or "ConditionType" in d:
        raise fail(path, "a condition is either a ConditionType, an Or or an And")
    op = ops[0]
    if depth >= MAX_CONDITION_NESTING:
        raise fail(join(path, op), f"conditions nest at most {MAX_CONDITION_NESTING} levels")
    items = get_list(d, op, path)
    if len(items) < 2:
        raise fail(join(path, op), f"{op} needs at least 2 members")
    p = join(path, op)
    return ConditionGroup(
        operator=op,
        members=tuple(_parse_condition(x, f"{p}[{i}]", depth + 1) for i, x in enumerate(items)),
        extra=extra_of(d, (op,)),
        key_order=tuple(d),
    )


@dataclass(frozen=True, slots=True)
class ActivationConditions(WireValue):
    """``HumanLoopActivationConditions`` (built-in task types only; a JSON *string* of at most
    10240 characters in CreateFlowDefinition).

    >>> c = ActivationConditions.from_dict({"Conditions": [{"ConditionType": "Sampling",
    ...     "ConditionParameters": {"RandomSamplingPercentage": 5}}]})
    >>> c.conditions[0].condition_type
    'Sampling'
    """

    conditions: tuple[Condition | ConditionGroup, ...] = wire(
        "Conditions",
        parse=lambda v, p: tuple(
            _parse_condition(x, index(p, i), 0) for i, x in enumerate(expect_list(v, p))
        ),
    )
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("Conditions",)

    def to_json(self) -> str:
        """The string CreateFlowDefinition takes; raises if over 10240 characters."""
        text = json.dumps(self.to_dict(), separators=(",", ":"))
        if len(text) > MAX_ACTIVATION_CONDITIONS_CHARS:
            raise fail(
                "HumanLoopActivationConditions",
                f"longer than {MAX_ACTIVATION_CONDITIONS_CHARS} characters",
            )
        return text
