"""The Ground Truth Lambda events and responses the handlers read and write (CONTRACTS.md 1-2).

A minimal typed layer kept beside the handlers so that a Lambda zip needs nothing else. The
events are **tolerant** (unknown keys are kept in ``extra`` and written back in place; any
``version`` string is accepted; ``labelCategories`` and ``outputConfig`` may be missing); the
responses gtflow writes are **strict** (``isHumanAnnotationRequired`` is a JSON boolean).

    >>> ev = PreAnnotationEvent.from_dict({"version": "2018-10-06",
    ...     "labelingJobArn": "arn:aws:sagemaker:us-east-1:111111111111:labeling-job/my-job",
    ...     "dataObject": {"source-ref": "s3://b/k.jpg"}})
    >>> ev.job_name
    'my-job'
    >>> PreAnnotationResponse({"taskObject": "s3://b/k.jpg"}).to_dict()
    {'taskInput': {'taskObject': 's3://b/k.jpg'}, 'isHumanAnnotationRequired': True}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ContractError

__all__ = [
    "PreAnnotationEvent",
    "PreAnnotationResponse",
    "PostAnnotationEvent",
    "job_name_from_arn",
    "parse_pre_response",
]

_PRE_KEYS = ("version", "labelingJobArn", "dataObject")
_POST_KEYS = (
    "version",
    "labelingJobArn",
    "labelCategories",
    "labelAttributeName",
    "roleArn",
    "payload",
    "outputConfig",
)


def job_name_from_arn(arn: str) -> str:
    """The job name in a labeling-job ARN, as the ARN spells it (GT lower-cases it).

    >>> job_name_from_arn("arn:aws:sagemaker:us-east-1:1:labeling-job/abc")
    'abc'
    """
    _, sep, name = arn.rpartition("labeling-job/")
    return name if sep else arn.rsplit("/", 1)[-1]


def _obj(value: Any, field_: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError("expected a JSON object", field=field_)
    return value


def _str(d: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ContractError("missing required field", field=key)
        return None
    if not isinstance(v, str):
        raise ContractError(f"expected a string, got {type(v).__name__}", field=key)
    return v


def _ordered(order: tuple[str, ...], values: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in order:
        if k in values:
            out[k] = values.pop(k)
        elif k in extra:
            out[k] = extra[k]
    out.update(values)
    for k, v in extra.items():
        out.setdefault(k, v)
    return out


@dataclass(frozen=True)
class PreAnnotationEvent:
    """What GT sends the pre-annotation Lambda: ``dataObject`` is the whole manifest line."""

    labeling_job_arn: str
    data_object: Mapping[str, Any]
    version: str = "2018-10-06"
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Any) -> PreAnnotationEvent:
        d = _obj(d, "")
        return cls(
            labeling_job_arn=_str(d, "labelingJobArn") or "",
            data_object=dict(_obj(d.get("dataObject"), "dataObject")),
            version=_str(d, "version", required=False) or "2018-10-06",
            extra={k: v for k, v in d.items() if k not in _PRE_KEYS},
            key_order=tuple(d),
        )

    def to_dict(self) -> dict[str, Any]:
        values = {
            "version": self.version,
            "labelingJobArn": self.labeling_job_arn,
            "dataObject": dict(self.data_object),
        }
        return _ordered(self.key_order, values, self.extra)

    @property
    def job_name(self) -> str:
        return job_name_from_arn(self.labeling_job_arn)


@dataclass(frozen=True)
class PreAnnotationResponse:
    """What the pre-annotation Lambda returns: ``taskInput`` and the boolean flag."""

    task_input: Mapping[str, Any]
    is_human_annotation_required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "taskInput": dict(self.task_input),
            "isHumanAnnotationRequired": bool(self.is_human_annotation_required),
        }


def _flag(value: Any, field_: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ContractError(f"expected a boolean, got {value!r:.40}", field=field_)


def parse_pre_response(d: Any) -> PreAnnotationResponse:
    """Read a pre-annotation response, accepting the legacy forms found in the wild.

    ``humanAnnotationRequired`` (the recipe's key) and the strings ``"true"``/``"false"``
    are read as the documented boolean ``isHumanAnnotationRequired``.

    >>> parse_pre_response({"taskInput": {}, "humanAnnotationRequired": "false"})
    PreAnnotationResponse(task_input={}, is_human_annotation_required=False)
    """
    d = _obj(d, "")
    task_input = _obj(d.get("taskInput"), "taskInput")
    if "isHumanAnnotationRequired" in d:
        flag = _flag(d["isHumanAnnotationRequired"], "isHumanAnnotationRequired")
    elif "humanAnnotationRequired" in d:
        flag = _flag(d["humanAnnotationRequired"], "humanAnnotationRequired")
    else:
        flag = True
    return PreAnnotationResponse(dict(task_input), flag)


@dataclass(frozen=True)
class PostAnnotationEvent:
    """What GT sends the post-annotation (consolidation) Lambda."""

    labeling_job_arn: str
    label_attribute_name: str
    payload_s3_uri: str
    version: str = "2018-10-06"
    label_categories: tuple[str, ...] | None = None
    role_arn: str | None = None
    output_config: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Any) -> PostAnnotationEvent:
        d = _obj(d, "")
        payload = _obj(d.get("payload"), "payload")
        uri = payload.get("s3Uri")
        if not isinstance(uri, str):
            raise ContractError("missing required field", field="payload.s3Uri")
        cats = d.get("labelCategories")
        if cats is not None and (
            not isinstance(cats, list) or not all(isinstance(c, str) for c in cats)
        ):
            raise ContractError("expected a list of strings", field="labelCategories")
        return cls(
            labeling_job_arn=_str(d, "labelingJobArn") or "",
            label_attribute_name=_str(d, "labelAttributeName") or "",
            payload_s3_uri=uri,
            version=_str(d, "version", required=False) or "2018-10-06",
            label_categories=tuple(cats) if cats is not None else None,
            role_arn=_str(d, "roleArn", required=False),
            output_config=_str(d, "outputConfig", required=False),
            extra={k: v for k, v in d.items() if k not in _POST_KEYS},
            key_order=tuple(d),
        )

    def to_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {"version": self.version, "labelingJobArn": self.labeling_job_arn}
        if self.label_categories is not None or "labelCategories" in self.key_order:
            values["labelCategories"] = (
                list(self.label_categories) if self.label_categories is not None else None
            )
        values["labelAttributeName"] = self.label_attribute_name
        if self.role_arn is not None:
            values["roleArn"] = self.role_arn
        values["payload"] = {"s3Uri": self.payload_s3_uri}
        if self.output_config is not None:
            values["outputConfig"] = self.output_config
        return _ordered(self.key_order, values, self.extra)

    @property
    def job_name(self) -> str:
        return job_name_from_arn(self.labeling_job_arn)

    @property
    def max_workers(self) -> int | None:
        v = self.extra.get("maxHumanWorkersPerDataObject")
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys (for hashing and byte-stable comparisons)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
