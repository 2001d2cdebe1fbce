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
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    wire,
)

__all__ = ["IdentityData", "WorkerMetadata", "HumanAnswer"]


@dataclass(frozen=True, slots=True)
class IdentityData(WireValue):
    """``workerMetadata.identityData``: who the private-workforce worker is."""

    identity_provider_type: str | None = wire("identityProviderType", default=None)
    issuer: str | None = wire(default=None)
    sub: str | None = wire(default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("identityProviderType", "issuer", "sub")


@dataclass(frozen=True, slots=True)
class WorkerMetadata(WireValue):
    """``workerMetadata``: ``{"identityData": {...}}`` (private workforces only)."""

    identity_data: IdentityData | None = wire("identityData", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("identityData",)


@dataclass(frozen=True, slots=True)
class HumanAnswer(WireValue):
    """One worker's submission: A2I ``humanAnswers[i]`` / GT worker-response ``answers[i]``.

    >>> HumanAnswer(answer_content={"x": "1"}, submission_time="2021-05-06T21:28:24.990Z",
    ...             worker_id="175483ba8d350d0d").to_dict()["workerId"]
    '175483ba8d350d0d'
    """

    answer_content: Mapping[str, Any] = wire("answerContent")
    submission_time: str = wire("submissionTime")
    worker_id: str = wire("workerId")
    acceptance_time: str | None = wire("acceptanceTime", default=None)
    time_spent_in_seconds: float | None = wire("timeSpentInSeconds", default=None)
    worker_metadata: WorkerMetadata | None = wire("workerMetadata", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    # Alphabetical: the order of the [DG] samples and of the real [SMEX] files.
    _ORDER: ClassVar[tuple[str, ...]] = (
        "acceptanceTime",
        "answerContent",
        "submissionTime",
        "timeSpentInSeconds",
        "workerId",
        "workerMetadata",
    )

