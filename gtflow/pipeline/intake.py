"""The intake of a retraining run: human answers → checked manifest lines, and nothing lost.

Every answer a run read ends in exactly one of three places, and the counts add up:

* **used**: its line is in ``reviewed.manifest`` (and lineage lists it);
* **quarantined**: it could not be read, converted or checked (a typed gtflow error: a width of
  ``"64px"``, a label outside the class map, only degenerate boxes, a line the object-detection
  lint rejects); it goes to the :class:`~gtflow.quarantine.Quarantine` with the reason;
* **skipped**: it was fine, but another answer for the same image in this round is newer.

Reviewer boxes are checked one by one (:func:`gtflow.manifest.review.check_reviewed_line`): a box partly outside the image is clipped to it
(counted as ``clipped``); a box of zero or negative size, or entirely outside the image, is
dropped (counted as ``degenerate``). An answer whose boxes are all degenerate is quarantined,
not turned into an image with "no objects".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import GtflowError
from gtflow.pipeline.watermark import CompletedAnswer

__all__ = ["Conversion", "Intake", "convert_answers"]


@dataclass
class Conversion:
    """What a backend's ``to_records`` made of some answers: lines per answer, and refusals."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (answer name, line)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (answer name, reason)


@dataclass
class Intake:
    """The outcome of one run's intake (see the module docstring)."""

    read: int = 0
    used: list[tuple[CompletedAnswer, dict[str, Any]]] = field(default_factory=list)
    quarantined: list[tuple[CompletedAnswer, str]] = field(default_factory=list)
    skipped: list[tuple[CompletedAnswer, str]] = field(default_factory=list)
    clipped_boxes: int = 0
    degenerate_boxes: int = 0

    def counts(self) -> dict[str, int]:
        return {"read": self.read, "used": len(self.used), "quarantined": len(self.quarantined),
                "skipped": len(self.skipped), "clippedBoxes": self.clipped_boxes,
                "degenerateBoxes": self.degenerate_boxes}


def convert_answers(
    to_records: Callable[[Sequence[CompletedAnswer]], Any], answers: Sequence[CompletedAnswer],
) -> Conversion:
    """Call ``to_records`` on all answers; if it raises a typed error, answer by answer, so one
    bad answer is refused alone. A plain list result is taken as one line per answer, in order."""
    try:
        return _as_conversion(to_records(answers), answers)
    except GtflowError as exc:
        if len(answers) == 1:
            return Conversion(refused=[(answers[0].name, str(exc))])
    out = Conversion()
    for a in answers:
        one = convert_answers(to_records, [a])
        out.records += one.records
        out.refused += one.refused
    return out


def _as_conversion(result: Any, answers: Sequence[CompletedAnswer]) -> Conversion:
    if isinstance(result, Conversion):
        return result
    records = list(result)
    if len(records) == len(answers):
        return Conversion(records=[(a.name, r) for a, r in zip(answers, records, strict=True)])
    # a backend that does not say which line came from which answer: attribute by order
    return Conversion(records=[(answers[min(i, len(answers) - 1)].name, r) for i, r in enumerate(records)])
