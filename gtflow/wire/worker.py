"""One worker's answer, as A2I ``output.json`` and GT worker-response files both write it.

A2I ``humanAnswers[]`` and GT ``answers[]`` share one shape (CONTRACTS.md 3.6, 4.5)::

    {"acceptanceTime": "...Z", "answerContent": {...}, "submissionTime": "...Z",
     "timeSpentInSeconds": 63.052, "workerId": "175483ba8d350d0d",
     "workerMetadata": {"identityData": {"identityProviderType": "Cognito", "issuer": "...", "sub": "..."}}}

``answerContent`` is a parsed object here (in the GT post-annotation payload it is a JSON
*string*: see :class:`gtflow.wire.gt_lambda.AnnotationData`). ``workerMetadata`` appears only for
private workforces; ``acceptanceTime`` and ``timeSpentInSeconds`` only in newer outputs.

    >>> a = HumanAnswer.from_dict({"answerContent": {"category": {"label": "cat"}},
    ...     "submissionTime": "2019-04-18T16:11:15Z", "workerId": "public.us-east-1.ABC"})
    >>> a.answer_content["category"]["label"]
    'cat'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gtflow.wire._base import (
    WireValue,
    expect_object,
    extra_of,
    get_number,
    get_object,
    get_str,
    join,
)

__all__ = ["IdentityData", "WorkerMetadata", "HumanAnswer"]


@dataclass(frozen=True, slots=True)
class IdentityData(WireValue):
    """``workerMetadata.identityData``: who the private-workforce worker is."""

    identity_provider_type: str | None = None  # "Cognito" | "Oidc"
    issuer: str | None = None
    sub: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("identity_provider_type", "identityProviderType"),
        ("issuer", "issuer"),
        ("sub", "sub"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> IdentityData:
        d = expect_object(d, path)
        return cls(
            identity_provider_type=get_str(d, "identityProviderType", path, required=False),
            issuer=get_str(d, "issuer", path, required=False),
            sub=get_str(d, "sub", path, required=False),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class WorkerMetadata(WireValue):
    """``workerMetadata``: ``{"identityData": {...}}`` (private workforces only)."""

    identity_data: IdentityData | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("identity_data", "identityData"),)

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> WorkerMetadata:
        d = expect_object(d, path)
        ident = d.get("identityData")
        return cls(
            identity_data=(
                None if ident is None else IdentityData.from_dict(ident, join(path, "identityData"))
            ),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )


@dataclass(frozen=True, slots=True)
class HumanAnswer(WireValue):
    """One worker's submission: A2I ``humanAnswers[i]`` / GT worker-response ``answers[i]``.

    >>> HumanAnswer(answer_content={"x": "1"}, submission_time="2021-05-06T21:28:24.990Z",
    ...             worker_id="175483ba8d350d0d").to_dict()["workerId"]
    '175483ba8d350d0d'
    """

    answer_content: Mapping[str, Any]
    submission_time: str
    worker_id: str
    acceptance_time: str | None = None
    time_spent_in_seconds: float | None = None
    worker_metadata: WorkerMetadata | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    # Alphabetical: the order of the [DG] samples and of the real [SMEX] files.
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("acceptance_time", "acceptanceTime"),
        ("answer_content", "answerContent"),
        ("submission_time", "submissionTime"),
        ("time_spent_in_seconds", "timeSpentInSeconds"),
        ("worker_id", "workerId"),
        ("worker_metadata", "workerMetadata"),
    )

    @classmethod
    def from_dict(cls, d: Any, path: str = "") -> HumanAnswer:
        d = expect_object(d, path)
        meta = d.get("workerMetadata")
        return cls(
            answer_content=get_object(d, "answerContent", path),
            submission_time=get_str(d, "submissionTime", path),
            worker_id=get_str(d, "workerId", path),
            acceptance_time=get_str(d, "acceptanceTime", path, required=False),
            time_spent_in_seconds=get_number(d, "timeSpentInSeconds", path, required=False),
            worker_metadata=(
                None
                if meta is None
                else WorkerMetadata.from_dict(meta, join(path, "workerMetadata"))
            ),
            extra=extra_of(d, cls.wire_keys()),
            key_order=tuple(d),
        )
