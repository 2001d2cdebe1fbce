"""The pre-annotation Lambda's payloads (CONTRACTS.md section 1), in their own module so a
pre-annotation handler loads only these (``gtflow.wire.gt_lambda`` re-exports them).

    >>> ev = PreAnnotationEvent.from_dict({"version": "2018-10-06",
    ...     "labelingJobArn": "arn:aws:sagemaker:us-east-1:111111111111:labeling-job/test-labeling-job",
    ...     "dataObject": {"source-ref": "s3://test-bucket/test-image.jpg"}})
    >>> ev.job_name_lower
    'test-labeling-job'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    expect_object,
    fail,
    forbid_extra,
    get_object,
    join,
    type_name,
    wire,
)

__all__ = ["PreAnnotationEvent", "PreAnnotationResponse", "job_name_from_arn"]


def job_name_from_arn(labeling_job_arn: str) -> str:
    """The job name inside a labeling-job ARN. **GT lower-cases it**: use it to identify the
    job, never to build S3 paths (use ``labelAttributeName``/``outputConfig`` for those).

    >>> job_name_from_arn("arn:aws:sagemaker:us-west-2:1:labeling-job/test-job-20211118t021255")
    'test-job-20211118t021255'
    """
    return labeling_job_arn.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- pre-annotation


@dataclass(frozen=True, slots=True)
class PreAnnotationEvent(WireValue):
    """The event GT sends the pre-annotation Lambda.

    ``data_object`` is the **whole input-manifest line** (``source-ref`` or ``source``, plus any
    other keys, e.g. earlier labels for verification/adjustment jobs). ``version`` is accepted
    as any string: the docs say ``2018-10-16``, real events carry ``2018-10-06``.
    """

    labeling_job_arn: str = wire("labelingJobArn")
    data_object: Mapping[str, Any] = wire("dataObject")
    version: str | None = wire(default="2018-10-06")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("version", "labelingJobArn", "dataObject")

    @property
    def source_ref(self) -> str | None:
        v = self.data_object.get("source-ref")
        return v if isinstance(v, str) else None

    @property
    def source(self) -> str | None:
        v = self.data_object.get("source")
        return v if isinstance(v, str) else None

    @property
    def job_name_lower(self) -> str:
        """The (lower-cased!) job name from the ARN; see :func:`job_name_from_arn`."""
        return job_name_from_arn(self.labeling_job_arn)


def _flag(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise fail(path, f"expected a boolean, got {type_name(value)} {value!r}")


@dataclass(frozen=True, slots=True)
class PreAnnotationResponse(WireValue):
    """What the pre-annotation Lambda returns: ``{"taskInput": {...}, "isHumanAnnotationRequired": bool}``.

    ``taskInput`` becomes ``task.input`` in the template. Parsing also accepts the legacy key
    ``humanAnnotationRequired`` and the strings ``"true"``/``"false"`` (the official recipe
    returns those); writing always gives a JSON boolean under ``isHumanAnnotationRequired``.

    >>> PreAnnotationResponse.from_dict({"taskInput": {}, "humanAnnotationRequired": "false"})
    PreAnnotationResponse(task_input={}, is_human_annotation_required=False)
    """

    task_input: Mapping[str, Any] = wire("taskInput")
    is_human_annotation_required: bool = wire("isHumanAnnotationRequired", default=True, required=True)

    _ORDER: ClassVar[tuple[str, ...]] = ("taskInput", "isHumanAnnotationRequired")
    LEGACY_KEY: ClassVar[str] = "humanAnnotationRequired"

    def __post_init__(self) -> None:
        if not isinstance(self.task_input, Mapping):
            raise fail("taskInput", f"expected an object, got {type_name(self.task_input)}")
        if not isinstance(self.is_human_annotation_required, bool):
            raise fail("isHumanAnnotationRequired", "expected a boolean")

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> PreAnnotationResponse:
        d = expect_object(d, path)
        forbid_extra(d, (*cls.wire_keys(), cls.LEGACY_KEY), path)
        required = True
        for key in (cls.LEGACY_KEY, "isHumanAnnotationRequired"):  # the documented key wins
            if key in d:
                required = _flag(d[key], join(path, key))
        return cls(
            task_input=get_object(d, "taskInput", path), is_human_annotation_required=required
        )
