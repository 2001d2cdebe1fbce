"""Label correctness per class and per confidence bucket, from bulk QA verdicts (pure).

**Buckets.** ``edges`` ``[80, 85, 90, 95, 100]`` make the buckets ``[80, 85)``, ``[85, 90)``,
``[90, 95)`` and ``[95, 100]``: each bucket includes its lower edge and excludes its upper
edge, except the top bucket, which includes both (so a confidence of exactly 100 is counted).
Verdicts below the lowest edge or above the highest are left out of the buckets and counted
as ``out_of_range``. Images no worker answered are counted as ``unreviewed``.

**Outcome of one image** (counts of workers, whatever the rule): ``confirmed`` every worker
kept the label, ``disconfirmed`` every worker rejected it, ``split`` workers disagree.

**Correct** depends on the rule (:class:`CorrectRule`), for ``N`` confirmations and ``M``
rejections (``N + M >= 1``):

============  =====================  ===========================================
rule          correct when           ties (``N == M``)
============  =====================  ===========================================
``any``       ``N >= 1``             correct (someone confirmed)
``majority``  ``N > M``              **not** correct: a false positive costs more
                                     than a missed true positive, so doubt counts
                                     against the label
``unanimous`` ``M == 0``             not correct
============  =====================  ===========================================

With one worker per image the three rules agree.

    >>> from gtflow.qa.records import Verdict
    >>> vs = [Verdict("a", "cat", 96, 2, 0), Verdict("b", "cat", 97, 1, 1), Verdict("c", "cat", 81, 0, 2)]
    >>> a = analyse(vs, edges=[80, 90, 100], rule="majority")
    >>> [(b.range_label, b.total, b.correct) for b in a.classes["cat"].buckets]
    [('[80, 90)', 1, 0), ('[90, 100]', 2, 1)]
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gtflow.errors import UsageError
from gtflow.qa.records import Verdict

__all__ = ["CorrectRule", "Buckets", "Stats", "BucketStats", "ClassAnalysis", "Analysis", "analyse", "DEFAULT_EDGES"]

DEFAULT_EDGES: tuple[float, ...] = (80.0, 85.0, 90.0, 95.0, 100.0)


class CorrectRule(str, enum.Enum):
    """When several workers answered, which images count as correctly labeled."""

    ANY = "any"
    MAJORITY = "majority"
    UNANIMOUS = "unanimous"

    @classmethod
    def parse(cls, value: str | CorrectRule) -> CorrectRule:
        try:
            return cls(value)
        except ValueError as exc:
            raise UsageError(
                f"rule must be one of {[r.value for r in cls]}, not {value!r}", field="rule"
            ) from exc

    def is_correct(self, confirmed: int, disconfirmed: int) -> bool:
        """Whether an image with these counts is correct (needs at least one answer).

            >>> CorrectRule.MAJORITY.is_correct(1, 1), CorrectRule.ANY.is_correct(1, 1)
            (False, True)
        """
        if confirmed + disconfirmed <= 0:
            raise UsageError("an image with no answers is neither correct nor wrong")
        if self is CorrectRule.ANY:
            return confirmed >= 1
        if self is CorrectRule.MAJORITY:
            return confirmed > disconfirmed
        return disconfirmed == 0


@dataclass(frozen=True)
class Buckets:
    """Confidence buckets from strictly increasing edges (see the module docstring).

        >>> b = Buckets((80, 90, 100))
        >>> b.index(80), b.index(89.99), b.index(90), b.index(100), b.index(79.9), b.index(100.1)
        (0, 0, 1, 1, None, None)
    """

    edges: tuple[float, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        edges = tuple(float(e) for e in self.edges)
        if len(edges) < 2:
            raise UsageError("bucket edges need at least two values", field="edges")
        if any(not math.isfinite(e) for e in edges):
            raise UsageError("bucket edges must be finite numbers", field="edges")
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise UsageError(f"bucket edges must be strictly increasing: {list(edges)}", field="edges")
        object.__setattr__(self, "edges", edges)

    @classmethod
    def parse(cls, text: str | Sequence[float] | None) -> Buckets:
        """From ``"80,85,90,95,100"`` or a list (``None`` gives the default edges)."""
        if text is None:
            return cls()
        if isinstance(text, str):
            try:
                return cls(tuple(float(p) for p in text.replace(" ", "").split(",") if p))
            except ValueError as exc:
                raise UsageError(f"bucket edges must be numbers: {text!r}", field="edges") from exc
        return cls(tuple(text))

    def __len__(self) -> int:
        return len(self.edges) - 1

    def bounds(self, i: int) -> tuple[float, float]:
        return self.edges[i], self.edges[i + 1]

    def index(self, confidence: float) -> int | None:
        """The bucket of ``confidence``, or None when it is outside every bucket."""
        if confidence < self.edges[0] or confidence > self.edges[-1]:
            return None
        if confidence == self.edges[-1]:
            return len(self) - 1
        return bisect.bisect_right(self.edges, confidence) - 1

    def label(self, i: int) -> str:
        lo, hi = self.bounds(i)
        close = "]" if i == len(self) - 1 else ")"
        return f"[{_num(lo)}, {_num(hi)}{close}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Stats:
    """Counts of images and their outcomes, with the accuracy under the analysis' rule."""

    total: int = 0
    confirmed: int = 0
    disconfirmed: int = 0
    split: int = 0
    correct: int = 0
    confidence_sum: float = 0.0

    @property
    def incorrect(self) -> int:
        return self.total - self.correct

    @property
    def accuracy(self) -> float | None:
        """Fraction correct (0..1), or None for an empty group."""
        return self.correct / self.total if self.total else None

    @property
    def error_ratio(self) -> float | None:
        """Fraction of false positives among the images (0..1), or None for an empty group."""
        return self.incorrect / self.total if self.total else None

    @property
    def mean_confidence(self) -> float | None:
        return self.confidence_sum / self.total if self.total else None

    def add(self, v: Verdict, correct: bool) -> Stats:
        o = v.outcome
        return Stats(
            total=self.total + 1,
            confirmed=self.confirmed + (o == "confirmed"),
            disconfirmed=self.disconfirmed + (o == "disconfirmed"),
            split=self.split + (o == "split"),
            correct=self.correct + correct,
            confidence_sum=self.confidence_sum + v.confidence,
        )

    def __add__(self, other: Stats) -> Stats:
        return Stats(*(getattr(self, f) + getattr(other, f) for f in
                       ("total", "confirmed", "disconfirmed", "split", "correct", "confidence_sum")))

    def to_dict(self) -> dict[str, object]:
        return {
            "total": self.total, "confirmed": self.confirmed, "disconfirmed": self.disconfirmed,
            "split": self.split, "correct": self.correct, "incorrect": self.incorrect,
            "accuracy": self.accuracy, "meanConfidence": self.mean_confidence,
        }


@dataclass(frozen=True)
class BucketStats(Stats):
    """:class:`Stats` of one confidence bucket ``[low, high)`` (``]`` for the top one)."""

    low: float = 0.0
    high: float = 0.0
    range_label: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"bucket": self.range_label, "low": self.low, "high": self.high, **super().to_dict()}


@dataclass(frozen=True)
class ClassAnalysis:
    """One class: its buckets (every bucket, empty ones included) and its totals."""

    label: str
    buckets: tuple[BucketStats, ...]
    summary: Stats
    unreviewed: int = 0
    out_of_range: int = 0
    #: (confidence, correct) of each in-range reviewed image, highest confidence first.
    items: tuple[tuple[float, bool], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label, "summary": self.summary.to_dict(),
            "buckets": [b.to_dict() for b in self.buckets],
            "unreviewed": self.unreviewed, "outOfRange": self.out_of_range,
        }


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyse`."""

    rule: CorrectRule
    buckets: Buckets
    classes: Mapping[str, ClassAnalysis]
    overall: tuple[BucketStats, ...]
    summary: Stats

    @property
    def macro_accuracy(self) -> float | None:
        """The average of the class accuracies (each class weighs the same)."""
        accs = [c.summary.accuracy for c in self.classes.values() if c.summary.accuracy is not None]
        return sum(accs) / len(accs) if accs else None

    @property
    def unreviewed(self) -> int:
        return sum(c.unreviewed for c in self.classes.values())

    @property
    def out_of_range(self) -> int:
        return sum(c.out_of_range for c in self.classes.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule.value, "edges": list(self.buckets.edges),
            "classes": {k: c.to_dict() for k, c in self.classes.items()},
            "overall": {"summary": self.summary.to_dict(), "buckets": [b.to_dict() for b in self.overall],
                        "macroAccuracy": self.macro_accuracy},
            "unreviewed": self.unreviewed, "outOfRange": self.out_of_range,
        }


def _bucket_stats(buckets: Buckets, stats: Sequence[Stats]) -> tuple[BucketStats, ...]:
    out = []
    for i, s in enumerate(stats):
        lo, hi = buckets.bounds(i)
        out.append(BucketStats(s.total, s.confirmed, s.disconfirmed, s.split, s.correct, s.confidence_sum,
                               low=lo, high=hi, range_label=buckets.label(i)))
    return tuple(out)


def analyse(
    verdicts: Iterable[Verdict],
    *,
    edges: Buckets | Sequence[float] | str | None = None,
    rule: CorrectRule | str = CorrectRule.MAJORITY,
) -> Analysis:
    """Count outcomes per class and per confidence bucket (classes sorted by name).

    Duplicate records of the same (image, label) are summed, so verdicts exported in parts
    can be analysed together.
    """
    bk = edges if isinstance(edges, Buckets) else Buckets.parse(edges)
    rl = CorrectRule.parse(rule)
    merged: dict[tuple[str, str], Verdict] = {}
    for v in verdicts:
        key = (v.image, v.label)
        old = merged.get(key)
        if old is None:
            merged[key] = v
        else:
            merged[key] = Verdict(v.image, v.label, v.confidence, old.confirmed + v.confirmed,
                                  old.disconfirmed + v.disconfirmed, {**old.workers, **v.workers})
    # running counts per class and bucket: [total, confirmed, disconfirmed, split, correct, confidence_sum]
    per_class: dict[str, list[list[float]]] = {}
    unreviewed: dict[str, int] = {}
    outside: dict[str, int] = {}
    items: dict[str, list[tuple[float, bool]]] = {}
    is_correct = rl.is_correct
    for v in merged.values():
        counts = per_class.get(v.label)
        if counts is None:
            counts = per_class[v.label] = [[0, 0, 0, 0, 0, 0.0] for _ in range(len(bk))]
            items[v.label] = []
        n_yes, n_no = v.confirmed, v.disconfirmed
        if n_yes + n_no == 0:
            unreviewed[v.label] = unreviewed.get(v.label, 0) + 1
            continue
        i = bk.index(v.confidence)
        if i is None:
            outside[v.label] = outside.get(v.label, 0) + 1
            continue
        ok = is_correct(n_yes, n_no)
        row = counts[i]
        row[0] += 1
        row[1 if n_no == 0 else 2 if n_yes == 0 else 3] += 1
        row[4] += ok
        row[5] += v.confidence
        items[v.label].append((v.confidence, ok))
    stats_of = {label: [Stats(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5])) for r in rows]
                for label, rows in per_class.items()}
    classes: dict[str, ClassAnalysis] = {}
    overall = [Stats() for _ in range(len(bk))]
    for label in sorted(stats_of):
        stats = stats_of[label]
        total = sum(stats, Stats())
        overall = [a + b for a, b in zip(overall, stats, strict=True)]
        classes[label] = ClassAnalysis(
            label=label, buckets=_bucket_stats(bk, stats), summary=total,
            unreviewed=unreviewed.get(label, 0), out_of_range=outside.get(label, 0),
            items=tuple(sorted(items[label], key=lambda t: -t[0])),
        )
    return Analysis(rule=rl, buckets=bk, classes=classes, overall=_bucket_stats(bk, overall),
                    summary=sum(overall, Stats()))
