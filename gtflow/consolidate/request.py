"""The consolidation request (the file at ``payload.s3Uri``) read into per-object answers.

Each element of the request becomes an :class:`ObjectAnswers`: the ``datasetObjectId``, the
``dataObject`` and one :class:`WorkerAnswer` per worker, with ``annotationData.content``
decoded (a JSON string, sometimes double-encoded) or read from ``annotationData.s3Uri``.
Answers that cannot be read are not dropped silently: they are kept in ``problems`` so the
consolidator can fail the object with a clear reason.

Order independence starts here: answers are sorted by worker id, and a worker that appears
twice for one object (a re-delivered answer) counts once.

    >>> objs = parse_request([{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://b/k"},
    ...     "annotations": [{"workerId": "w1", "annotationData": {"content": "{\\"a\\":1}"}}]}])
    >>> objs[0].answers[0].content
    {'a': 1}
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gtflow.errors import ContractError
from gtflow.wire.gt_lambda import (
    ConsolidatedAnnotation,
    ConsolidationResponseItem,
    WorkerAnnotation,
    dataset_object_id,
)
from gtflow.wire.output import FailureMetadata, format_creation_date

__all__ = [
    "WorkerAnswer",
    "ObjectAnswers",
    "ConsolidationContext",
    "parse_request",
    "response_item",
    "failure_item",
    "failure_metadata",
    "check_enough",
    "creation_date_from_uri",
]


class _Reader(Protocol):
    def get_text(self, uri: str, encoding: str = "utf-8") -> str: ...


@dataclass(frozen=True)
class WorkerAnswer:
    """One worker's decoded form submission."""

    worker_id: str
    content: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ObjectAnswers:
    """Everything the request holds about one data object."""

    dataset_object_id: str
    data_object: Mapping[str, Any]
    answers: tuple[WorkerAnswer, ...]
    problems: tuple[str, ...] = ()

    @property
    def source(self) -> str | None:
        """``dataObject.s3Uri`` (or ``content`` for text objects)."""
        v = self.data_object.get("s3Uri", self.data_object.get("content"))
        return v if isinstance(v, str) else None


@dataclass(frozen=True)
class ConsolidationContext:
    """What every consolidator needs besides the answers (from the post-annotation event)."""

    label_attribute_name: str
    job_name: str = ""
    label_categories: tuple[str, ...] | None = None
    creation_date: str = "1970-01-01T00:00:00.000000"
    workers_per_object: int | None = None  # fewer valid answers than this fail the object

    def metadata(self, type_: str, **fields: Any) -> dict[str, Any]:
        """The ``-metadata`` common keys in the order real GT outputs write them."""
        meta: dict[str, Any] = {"job-name": f"labeling-job/{self.job_name}"}
        meta.update(fields)
        meta["human-annotated"] = "yes"
        meta["creation-date"] = self.creation_date
        meta["type"] = type_
        return meta


_TS = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{2}:\d{2}:\d{2})(?:\.json)?$")


def creation_date_from_uri(uri: str, fallback: _dt.datetime | None = None) -> str:
    """``creation-date`` from the request file name ``YYYY-MM-DD_HH:MM:SS.json``.

    Deriving it from the payload keeps the handler deterministic (a retried event gives
    byte-identical output). GT writes microseconds and no zone.

    >>> creation_date_from_uri("s3://b/p/iteration-1/2021-11-18_02:19:51.json")
    '2021-11-18T02:19:51.000000'
    """
    m = _TS.search(uri)
    if m:
        return f"{m.group(1)}T{m.group(2)}.000000"
    return format_creation_date(fallback)


def _answer(a: Any, path: str, store: _Reader | None) -> WorkerAnswer:
    """One request entry read through :class:`gtflow.wire.WorkerAnnotation` (ContractError
    naming the field when it cannot be read)."""
    ann = WorkerAnnotation.from_dict(a, path)
    wid = ann.worker_id
    if not wid:
        raise ContractError("missing required field", field=f"{path}.workerId")
    read = store.get_text if store is not None else None
    where = f"{path}.annotationData"
    try:
        content = ann.annotation_data.parse_content(where, read=read)
    except ContractError as exc:
        raise ContractError(f"{exc.message} (worker {wid})", field=exc.field) from exc
    except Exception as exc:  # a missing s3Uri object fails this answer, not the batch
        raise ContractError(
            f"cannot be read (worker {wid}): {type(exc).__name__}", field=f"{where}.s3Uri"
        ) from exc
    if not content:
        raise ContractError(f"empty answer (worker {wid})", field=f"{where}.content")
    return WorkerAnswer(wid, content)


def parse_request(items: Any, *, store: _Reader | None = None, path: str = "payload") -> list[ObjectAnswers]:
    """Parse the consolidation request list; objects come back sorted by ``datasetObjectId``.

    A request that is not a list, or an element without ``datasetObjectId``, is a systemic
    error (ContractError): the job should stop loudly. Anything wrong inside one object's
    answers becomes a problem of that object only.
    """
    if not isinstance(items, list):
        raise ContractError("the consolidation request must be a JSON array", path=path)
    merged: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        try:
            oid = dataset_object_id(item, f"[{i}]")
        except ContractError as exc:
            raise exc.at(path=path) from None
        slot = merged.setdefault(oid, {"dataObject": {}, "answers": {}, "problems": []})
        if isinstance(item.get("dataObject"), Mapping) and not slot["dataObject"]:
            slot["dataObject"] = dict(item["dataObject"])
        anns = item.get("annotations")
        if not isinstance(anns, list):
            slot["problems"].append(f"[{i}].annotations is not a list")
            continue
        for j, a in enumerate(anns):
            try:
                ans = _answer(a, f"[{i}].annotations[{j}]", store)
            except ContractError as exc:
                slot["problems"].append(str(exc))
                continue
            prev = slot["answers"].get(ans.worker_id)
            # The same worker twice: keep one, chosen by content so order does not matter.
            if prev is None or _key(ans) < _key(prev):
                slot["answers"][ans.worker_id] = ans
    out = []
    for oid in sorted(merged, key=_oid_key):
        s = merged[oid]
        answers = tuple(s["answers"][w] for w in sorted(s["answers"]))
        out.append(ObjectAnswers(oid, s["dataObject"], answers, tuple(sorted(set(s["problems"])))))
    return out


def _key(a: WorkerAnswer) -> str:
    return json.dumps(a.content, sort_keys=True)


def _oid_key(oid: str) -> tuple[int, int | str]:
    return (0, int(oid)) if oid.isascii() and oid.isdigit() else (1, oid)  # "²".isdigit() is True


def response_item(oid: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """One element of the post-annotation response."""
    return ConsolidationResponseItem(oid, ConsolidatedAnnotation(dict(content))).to_dict()


def failure_metadata(reason: str) -> dict[str, Any]:
    """GT's failure form for ``<attr>-metadata`` (CONTRACTS.md 3.5); no label value beside it.

    ``retry-count`` is 0: gtflow does not retry a consolidation that failed on its input.
    """
    return FailureMetadata(f"ClientError: {reason}", retry_count=0, human_annotated="true").to_dict()


def failure_item(oid: str, attr: str, reason: str) -> dict[str, Any]:
    """A response element that marks the object failed, keeping the batch going."""
    return response_item(oid, {f"{attr}-metadata": failure_metadata(reason)})


def check_enough(
    obj: ObjectAnswers, n_valid: int, problems: Sequence[str], ctx: ConsolidationContext
) -> str | None:
    """The failure reason when an object lacks usable answers, else None.

    ``problems`` are the reasons answers were rejected (request-level and consolidator-level).
    """
    need = ctx.workers_per_object or 1
    if n_valid >= need and n_valid > 0:
        return None
    received = len(obj.answers) + len(obj.problems)
    msg = f"only {n_valid} usable answer(s) of {need} required ({received} received)"
    why = "; ".join(sorted(set(problems))[:3])
    return f"{msg}: {why}" if why else msg
