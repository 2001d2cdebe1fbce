"""``check_payload``: which GT/A2I payload a file is, whether it is valid, and whether gtflow
writes it back as it came (what ``gtflow payload check`` runs).

Every payload is read through its :mod:`gtflow.wire` type and written back with ``to_dict()``;
the written value is compared with the input (values, number types, key order). A manifest is
checked line by line: each line's labels are found by their metadata
(:mod:`gtflow.wire.task_types`) and parsed by their wire types.

    >>> r = check_text('{"source-ref": "s3://bucket/a.jpg", "cls": 1, "cls-metadata": {"class-name": "cat",'
    ...                ' "type": "groundtruth/image-classification", "job-name": "labeling-job/x"}}\\n')
    >>> r.kind, r.valid, r.faithful, r.items[0].labels[0].task_type.value
    ('manifest', True, True, 'image-classification')

Kinds (``--kind``): see :data:`KINDS`. ``auto`` detects the kind from the payload's keys.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ContractError, GtflowError
from gtflow.manifest.problems import Problem, Severity
from gtflow.uris import S3Uri
from gtflow.wire import a2i as _a2i
from gtflow.wire import crowd as _crowd
from gtflow.wire import gt_lambda as _gt
from gtflow.wire import od as _od
from gtflow.wire import output as _out
from gtflow.wire._base import encode
from gtflow.wire.kinds import KINDS, crowd_widgets, detect_kind
from gtflow.wire.task_types import (
    LabelAttribute,
    TaskType,
    check_label_value,
    classification_type,
    find_label_attributes,
)

__all__ = [
    "KINDS",
    "ItemReport",
    "PayloadReport",
    "check_text",
    "check_value",
    "detect_kind",
    "json_diff",
    "label_problems",
    "service_model_problems",
]

_MAX_DIFFS = 20


@dataclass(slots=True)
class ItemReport:
    """One checked object (a manifest line, or the whole file for other kinds)."""

    kind: str
    line: int | None = None
    problems: list[Problem] = field(default_factory=list)
    labels: list[LabelAttribute] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    typed: bool = True  # False: no wire type holds this kind; the round trip is JSON only
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def faithful(self) -> bool:
        return self.valid and not self.differences

    def add(self, fieldpath: str, message: str) -> None:
        self.problems.append(Problem(self.line, fieldpath, message))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.line is not None:
            out["line"] = self.line
        out["labelAttributes"] = [a.to_dict() for a in self.labels]
        out["valid"] = self.valid
        out["problems"] = [p.to_dict() for p in self.problems]
        out["roundTrip"] = {
            "faithful": self.faithful,
            "typed": self.typed,
            "differences": list(self.differences),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class PayloadReport:
    """What :func:`check_text` found in one file."""

    path: str
    kind: str
    items: list[ItemReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # file-level (not JSON, unknown kind)

    @property
    def valid(self) -> bool:
        return not self.problems and all(i.valid for i in self.items)

    @property
    def faithful(self) -> bool:
        return self.valid and all(i.faithful for i in self.items)

    def format_lines(self) -> list[str]:
        lines = [p.format(self.path) for p in self.problems]
        for item in self.items:
            lines.extend(p.format(self.path) for p in item.problems)
            where = f"{self.path}:{item.line}" if item.line is not None else self.path
            lines.extend(f"{where}: round trip: {d}" for d in item.differences)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "valid": self.valid,
            "faithful": self.faithful,
            "problems": [p.to_dict() for p in self.problems],
            "items": [i.to_dict() for i in self.items],
        }


# --------------------------------------------------------------------------- comparing


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def json_diff(before: Any, after: Any, path: str = "") -> list[str]:
    """How ``after`` differs from ``before``: values, JSON types (an integer written as a
    float counts) and key order. ``[]`` when the round trip is faithful.

    >>> for d in json_diff({"a": 1, "b": 2}, {"b": 2, "a": 1.0}): print(d)
    a: integer 1 became number 1.0
    key order a, b became b, a
    """
    if json.dumps(before) == json.dumps(after):  # the common case, at C speed
        return []
    out: list[str] = []
    _diff(before, after, path, out)
    return out[:_MAX_DIFFS]


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if len(out) >= _MAX_DIFFS:
        return
    ta, tb = _type(a), _type(b)
    where = path or "(top)"
    if ta != tb:
        out.append(f"{where}: {ta} {a!r:.60} became {tb} {b!r:.60}")
        return
    if isinstance(a, dict):
        for k in a:
            if k not in b:
                out.append(f"{_join(path, k)}: dropped")
            else:
                _diff(a[k], b[k], _join(path, k), out)
        for k in b:
            if k not in a:
                out.append(f"{_join(path, k)}: added")
        common_a = [k for k in a if k in b]
        common_b = [k for k in b if k in a]
        if common_a != common_b:
            out.append(f"{path + ': ' if path else ''}key order {', '.join(common_a)} became {', '.join(common_b)}")
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{where}: {len(a)} items became {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {a!r:.60} became {b!r:.60}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --------------------------------------------------------------------------- checking


def _contract(item: ItemReport, exc: GtflowError, prefix: str = "") -> None:
    fieldpath = getattr(exc, "field", None) or ""
    message = getattr(exc, "message", None) or str(exc)
    item.add(_join(prefix, fieldpath) if prefix else fieldpath, message)


def _round_trip(
    item: ItemReport, value: Any, parse: Callable[[Any], Any], write: Callable[[Any], Any] | None = None
) -> Any:
    try:
        typed = parse(value)
    except (ContractError, GtflowError) as exc:
        _contract(item, exc)
        return None
    written = write(typed) if write is not None else typed.to_dict()
    item.differences.extend(json_diff(value, written))
    return typed


def _check_uri(item: ItemReport, uri: Any, fieldpath: str) -> None:
    if isinstance(uri, str) and uri.startswith("s3://"):
        try:
            u = S3Uri.parse(uri)
        except GtflowError as exc:
            item.add(fieldpath, getattr(exc, "message", str(exc)))
            return
        if u.is_legacy:
            note = f"{fieldpath}: bucket {u.bucket!r} has a legacy name (read, but never created by gtflow)"
            if note not in item.notes:
                item.notes.append(note)


def _check_label(item: ItemReport, line: Mapping[str, Any], label: LabelAttribute) -> dict[str, Any]:
    """Parse one label through its wire types; the re-encoded ``{key: value}`` pairs back."""
    mkey = label.metadata_key
    written: dict[str, Any] = {}
    try:
        metadata = _out.parse_metadata(line[mkey], mkey)
    except ContractError as exc:
        _contract(item, exc)
        return {}
    written[mkey] = metadata.to_dict()
    if label.value_key is None:
        if not label.failed:
            ref = label.attribute + "-ref"
            hint = f"; {ref!r} would carry {ref + '-metadata'!r}" if ref in line else ""
            item.add(label.attribute, f"missing label value (its metadata is not a failed object's){hint}")
        return written
    raw = line[label.value_key]
    try:
        value = _out.parse_label_value(raw, metadata, label.value_key)
    except ContractError as exc:
        _contract(item, exc)
        return written
    for sub, message in check_label_value(label, line):
        item.add(f"{label.value_key}{sub if sub.startswith('-') else ('.' + sub if sub else '')}", message)
    written[label.value_key] = encode(value)
    return written


_IMAGE_CLASSIFICATION = (TaskType.IMAGE_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION_MULTILABEL)


def _check_line(item: ItemReport, line: Any) -> None:
    if not isinstance(line, Mapping):
        item.add("", f"a manifest line must be a JSON object, not {_type(line)}")
        return
    if "source-ref" not in line and "source" not in line:
        item.add("source-ref", "neither source-ref nor source is present")
    _check_uri(item, line.get("source-ref"), "source-ref")
    item.labels = find_label_attributes(line)
    rewritten: dict[str, Any] = {}
    text_object = "source" in line and "source-ref" not in line
    for label in item.labels:
        rewritten.update(_check_label(item, line, label))
        if text_object and label.task_type in _IMAGE_CLASSIFICATION:
            item.problems.append(Problem(
                item.line, label.metadata_key + ".type",
                f"{label.metadata_type} on a text object (source): GT writes "
                + classification_type(text=True, multilabel=label.task_type is TaskType.IMAGE_CLASSIFICATION_MULTILABEL),
                "warning",
            ))
        if label.task_type is TaskType.UNKNOWN:
            kind = label.metadata_type
            item.add(
                label.metadata_key + ".type",
                f"unknown task type {kind!r}" if kind else "no type and a value of no known task type",
            )
    if not item.valid:
        return
    out = {k: rewritten.get(k, v) for k, v in line.items()}
    item.differences.extend(json_diff(dict(line), out))


def label_problems(line: Mapping[str, Any]) -> list[tuple[str, str, Severity]]:
    """``(field, message, severity)`` for every problem of a manifest line's labels, as
    :func:`check_value` finds them (what ``manifest validate --labels`` adds).

    >>> label_problems({"source-ref": "s3://bucket/a.jpg", "c": 1,
    ...                 "c-metadata": {"class-name": 3, "type": "groundtruth/image-classification"}})
    [('c-metadata.class-name', 'expected a string, got number', 'error')]
    """
    item = ItemReport(kind="manifest")
    _check_line(item, line)
    return [(p.field, p.message, p.severity) for p in item.problems if p.field != "source-ref"]


def _check_crowd(item: ItemReport, value: Any) -> None:
    inner = _crowd.unwrap_docs_sample(value)
    wrapped = inner is not value
    if wrapped:
        item.notes.append("wrapped in a list as the AWS docs print it; GT and A2I carry the inner object")
    widgets = crowd_widgets(inner)
    if not isinstance(inner, Mapping) or not widgets:
        item.add("", "no crowd element output found")
        return
    try:
        parsed = _crowd.parse_form_output(inner, widgets)
    except ContractError as exc:
        _contract(item, exc)
        return
    item.notes.append("elements: " + ", ".join(f"{k}={v}" for k, v in widgets.items()))
    written: Any = _crowd.form_to_dict(parsed)
    item.differences.extend(json_diff(value, [written] if wrapped else written))


def _check_consolidation_request(item: ItemReport, value: Any) -> None:
    req = _round_trip(item, value, _gt.ConsolidationRequest.from_list)
    if req is None:
        return
    for i, it in enumerate(req.items):
        _check_uri(item, it.data_object.s3_uri, f"[{i}].dataObject.s3Uri")
        for j, ann in enumerate(it.annotations):
            if ann.annotation_data.content is None:
                continue
            where = f"[{i}].annotations[{j}].annotationData"
            try:
                content = ann.annotation_data.parse_content(where)
            except ContractError as exc:
                _contract(item, exc)
                continue
            _check_answer(item, content, f"{where}.content")


def _check_answer(item: ItemReport, answer: Mapping[str, Any], path: str) -> None:
    """A worker's form submission: each widget's output through its crowd element's type."""
    widgets = crowd_widgets(answer)
    try:
        _crowd.parse_form_output(answer, widgets, path)
    except ContractError as exc:
        _contract(item, exc)
        return
    found = sorted(set(widgets.values()))
    if found:
        note = "answers hold " + ", ".join(found)
        if note not in item.notes:
            item.notes.append(note)


def _check_answers(item: ItemReport, answers: Iterable[Any], key: str) -> None:
    for i, answer in enumerate(answers):
        _check_answer(item, answer.answer_content, f"{key}[{i}].answerContent")


def _check_worker_response(item: ItemReport, value: Any) -> None:
    typed = _round_trip(item, value, _gt.WorkerResponse.from_dict)
    if typed is not None:
        _check_answers(item, typed.answers, "answers")


def _check_a2i_output(item: ItemReport, value: Any) -> None:
    typed = _round_trip(item, value, _a2i.HumanLoopOutput.from_dict)
    if typed is not None:
        _check_answers(item, typed.human_answers, _a2i.HumanLoopOutput.key_of("human_answers"))


def _check_consolidation_response(item: ItemReport, value: Any) -> None:
    resp = _round_trip(item, value, _gt.ConsolidationResponse.from_list)
    if resp is None:
        return
    for it in resp.items:
        item.labels.extend(find_label_attributes(it.consolidated_annotation.content))


def _check_pre_event(item: ItemReport, value: Any) -> None:
    ev = _round_trip(item, value, _gt.PreAnnotationEvent.from_dict)
    if ev is not None:
        item.labels = find_label_attributes(ev.data_object)
        _check_uri(item, ev.source_ref, "dataObject.source-ref")


def _check_post_event(item: ItemReport, value: Any) -> None:
    ev = _round_trip(item, value, _gt.PostAnnotationEvent.from_dict)
    if ev is not None:
        _check_uri(item, ev.payload_s3_uri, "payload.s3Uri")


def _check_sequence_label(item: ItemReport, value: Any) -> None:
    item.typed = False
    key = "tracking-annotations" if "tracking-annotations" in value else "detection-annotations"
    frames = value.get(key)
    if not isinstance(frames, list):
        item.add(key, "expected a list of frames")
        return
    objects = 0
    for i, frame in enumerate(frames):
        anns = frame.get("annotations") if isinstance(frame, Mapping) else None
        if not isinstance(anns, list):
            item.add(f"{key}[{i}].annotations", "expected a list")
            continue
        for j, a in enumerate(anns):
            if not isinstance(a, Mapping) or "class-id" not in a:
                item.add(f"{key}[{i}].annotations[{j}]", "expected an object with class-id")
        objects += len(anns)
    item.notes.append(f"{len(frames)} frames, {objects} annotations ({key})")


def _check_flow_definition(item: ItemReport, value: Any) -> None:
    item.typed = False
    for fieldpath, message in service_model_problems("sagemaker", "CreateFlowDefinition", value):
        item.add(fieldpath, message)
    hlc = value.get("HumanLoopActivationConfig")
    cond = hlc.get("HumanLoopActivationConditionsConfig") if isinstance(hlc, Mapping) else None
    text = cond.get("HumanLoopActivationConditions") if isinstance(cond, Mapping) else None
    if isinstance(text, str):
        where = "HumanLoopActivationConfig.HumanLoopActivationConditionsConfig.HumanLoopActivationConditions"
        try:
            _a2i.ActivationConditions.from_dict(json.loads(text), where)
        except json.JSONDecodeError as exc:
            item.add(where, f"not valid JSON: {exc.msg}")
        except ContractError as exc:
            _contract(item, exc)


def service_model_problems(service: str, operation: str, params: Any) -> list[tuple[str, str]]:
    """Check request parameters against botocore's service model (the truth for API shapes):
    required members, unknown members, types, enums, lengths, ranges and patterns.

    >>> service_model_problems("sagemaker", "DeleteFlowDefinition", {"FlowDefinitionName": "Bad_Name"})[0][0]
    'FlowDefinitionName'
    """
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    out: list[tuple[str, str]] = []
    _walk(shape, params, "", out)
    return out


def _walk(shape: Any, value: Any, path: str, out: list[tuple[str, str]]) -> None:
    import re

    kind = shape.type_name
    meta = shape.metadata
    where = path or "(top)"
    if kind == "structure":
        if not isinstance(value, Mapping):
            out.append((where, f"expected an object, got {_type(value)}"))
            return
        for name in shape.required_members:
            if name not in value:
                out.append((_join(path, name), "missing required field"))
        for name, v in value.items():
            member = shape.members.get(name)
            if member is None:
                out.append((_join(path, name), "unknown field (not in the service model)"))
            else:
                _walk(member, v, _join(path, name), out)
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append((where, f"expected an array, got {_type(value)}"))
            return
        _limits(len(value), meta, where, "items", out)
        for i, v in enumerate(value):
            _walk(shape.member, v, f"{path}[{i}]", out)
        return
    if kind == "map":
        if not isinstance(value, Mapping):
            out.append((where, f"expected an object, got {_type(value)}"))
            return
        for k, v in value.items():
            _walk(shape.value, v, _join(path, str(k)), out)
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append((where, f"expected a string, got {_type(value)}"))
            return
        _limits(len(value), meta, where, "characters", out)
        if shape.enum and value not in shape.enum:
            out.append((where, f"{value!r:.60} is not one of {', '.join(shape.enum)}"))
        pattern = meta.get("pattern")
        if pattern:
            try:
                ok = re.fullmatch(pattern, value) is not None
            except re.error:
                ok = True  # a pattern in a syntax Python lacks: not checked
            if not ok:
                out.append((where, f"{value!r:.60} does not match {pattern}"))
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((where, f"expected an integer, got {_type(value)}"))
            return
        _limits(value, meta, where, "", out, value_range=True)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append((where, f"expected a number, got {_type(value)}"))
        return
    if kind == "boolean" and not isinstance(value, bool):
        out.append((where, f"expected a boolean, got {_type(value)}"))


def _limits(n: int, meta: Mapping[str, Any], where: str, unit: str, out: list[tuple[str, str]],
            *, value_range: bool = False) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    what = f"{n}" if value_range else f"{n} {unit}"
    if lo is not None and n < lo:
        out.append((where, f"{what} is below the minimum {lo}"))
    if hi is not None and n > hi:
        out.append((where, f"{what} is above the maximum {hi}"))


def _endpoint(v: Any) -> Any:
    return _od.parse_endpoint_response(v)


_CHECKERS: dict[str, Callable[[ItemReport, Any], None]] = {
    "pre-annotation-event": _check_pre_event,
    "pre-annotation-response": lambda i, v: _round_trip(i, v, _gt.PreAnnotationResponse.from_dict) and None,
    "post-annotation-event": _check_post_event,
    "consolidation-request": _check_consolidation_request,
    "consolidation-response": _check_consolidation_response,
    "worker-response": _check_worker_response,
    "a2i-output": _check_a2i_output,
    "a2i-status-change-event": lambda i, v: _round_trip(i, v, _a2i.HumanLoopStatusChangeEvent.from_dict) and None,
    "start-human-loop-response": lambda i, v: _round_trip(i, v, _a2i.StartHumanLoopResponse.from_dict) and None,
    "describe-human-loop-response": lambda i, v: _round_trip(i, v, _a2i.DescribeHumanLoopResponse.from_dict) and None,
    "activation-conditions": lambda i, v: _round_trip(i, v, _a2i.ActivationConditions.from_dict) and None,
    "flow-definition": _check_flow_definition,
    "crowd-output": _check_crowd,
    "endpoint-response": lambda i, v: _round_trip(i, v, _endpoint) and None,
    "sequence-label": _check_sequence_label,
}


def check_value(value: Any, kind: str = "auto", *, line: int | None = None) -> ItemReport:
    """Check one decoded payload (a manifest line is one value) as ``kind``."""
    if kind == "auto":
        kind = detect_kind(value)
    item = ItemReport(kind=kind, line=line)
    if kind == "manifest":
        _check_line(item, value)
    elif kind in _CHECKERS:
        if kind in ("sequence-label", "flow-definition") and not isinstance(value, Mapping):
            item.add("", f"expected a JSON object, not {_type(value)}")
        else:
            _CHECKERS[kind](item, value)
    else:
        item.add("", "not a GT/A2I payload gtflow knows (use --kind to name one)")
    return item


def _check_manifest(lines: Iterable[str], path: str) -> PayloadReport:
    """One report per line, streaming: a line is parsed, checked and dropped."""
    report = PayloadReport(path=path, kind="manifest")
    blanks: list[int] = []
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            blanks.append(n)
            continue
        report.problems.extend(Problem(b, "", "blank line inside the manifest") for b in blanks)
        blanks.clear()
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            item = ItemReport(kind="manifest", line=n)
            item.add("", f"not valid JSON: {exc.msg} (column {exc.colno})")
            report.items.append(item)
            continue
        if detect_kind(value) != "manifest":
            item = ItemReport(kind=detect_kind(value), line=n)
            item.add("", "JSON Lines, but this line is no manifest line")
            report.items.append(item)
            continue
        report.items.append(check_value(value, "manifest", line=n))
    if not report.items and not report.problems:
        report.problems.append(Problem(None, "", "empty file"))
    return report


def check_text(text: str, kind: str = "auto", *, path: str = "<stream>") -> PayloadReport:
    """Check a whole file's text (a JSON document, or JSON Lines for manifests)."""
    if kind != "auto" and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: auto, {', '.join(KINDS)}")
    text = text.lstrip("\ufeff")
    try:
        whole = json.loads(text)  # a manifest of several lines fails fast ("Extra data")
    except json.JSONDecodeError:
        whole = _NOT_JSON
    if whole is not _NOT_JSON:
        if kind == "auto":
            kind = detect_kind(whole)
        if kind != "manifest":
            item = check_value(whole, kind)
            return PayloadReport(path=path, kind=item.kind, items=[item])
        if text.strip().count("\n"):
            item = check_value(whole, "manifest")
            item.add("", "a manifest line spans several lines (JSON Lines: one object per line)")
            return PayloadReport(path=path, kind="manifest", items=[item])
    elif kind not in ("auto", "manifest"):
        return PayloadReport(
            path=path, kind=kind, problems=[Problem(None, "", f"not one JSON document (expected for kind {kind})")]
        )
    if whole is _NOT_JSON and kind == "auto":
        first = next((ln for ln in io.StringIO(text) if ln.strip()), None)
        if first is None:
            return PayloadReport(path=path, kind="unknown", problems=[Problem(None, "", "empty file")])
        try:
            json.loads(first)
        except json.JSONDecodeError as exc:
            return PayloadReport(path=path, kind="unknown", problems=[Problem(None, "", f"not JSON: {exc.msg}")])
    return _check_manifest(io.StringIO(text), path)


_NOT_JSON: Any = object()
