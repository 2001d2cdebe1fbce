r"""Per-class confidence thresholds from bulk QA verdicts (pure).

**Economics.** Auto-accepting a model label that is right earns 1 (a review saved, a label
gained); auto-accepting one that is wrong (a false positive) costs ``R``, the *cost ratio*
(``--cost-ratio 10`` for 10:1). Sending an image to a human is the baseline, worth 0. A group
of images with precision ``p`` (fraction correct) is worth auto-accepting when its expected
value per image is not negative::

    p * 1 - (1 - p) * R >= 0   <=>   p >= R / (1 + R)   <=>   error ratio (1 - p) <= 1 / (1 + R)

equivalently ``R * FP <= TP`` in counts. For 10:1 the break-even precision is 10/11 = 90.9 %,
i.e. at most 1 wrong label in 11.

A threshold ``t`` means: auto-accept a prediction of this class when ``confidence >= t``; route
it to a human otherwise. ``None`` means never auto-accept (always route).

**(a) Bucket walk** (:func:`bucket_walk`), as the bulk-QA README describes it: start at the
highest bucket and move down while the bucket's error ratio is acceptable; the threshold is the
upper edge of the first bucket that is not. If every bucket is acceptable the threshold is the
lowest edge. A class whose top (non-empty) bucket fails is never auto-accepted (``None``).
Empty buckets carry no evidence; the walk passes through them. A class with no reviewed
image in range gets ``None``.

**(b) Lower bound** (:func:`lower_bound`, the default): for each candidate threshold ``t`` (each
confidence seen in the class) take *all* reviewed images with ``confidence >= t``: ``n`` of
them, ``k`` correct. Replace the precision ``k/n`` with its one-sided Wilson score lower bound
``L`` at the chosen confidence level (95 % by default, ``z = 1.645``), and score the threshold
by the pessimistic expected value of auto-accepting those images::

    V(t) = n * (L * 1 - (1 - L) * R) = n * ((1 + R) * L - R)

The threshold is the ``t`` with the largest ``V(t) > 0`` (ties: the higher ``t``); ``None``
when no ``t`` has ``V > 0``. Why it is better than the walk:

* it is **not fooled by small numbers**: 3 of 3 correct has ``L = 0.53`` at 95 %, far from
  0.909, so a class seen on a handful of images is routed to humans instead of being
  auto-accepted on luck; with all images correct it takes ``n >= z² R`` (28 at 10:1) before
  anything is auto-accepted;
* it is **not fooled by noise in one bucket**: the decision is about the whole accepted set
  (cumulative precision above ``t``), which is what a single threshold really accepts, so one
  unlucky bucket of ten images does not stop an otherwise excellent class;
* it **maximises (a lower bound of) the value** of the policy instead of stopping at the
  first locally bad bucket, and it does not depend on where the bucket edges happen to be.

Limits: the bound is per candidate and not corrected for trying many candidates; both methods
assume the reviewed images are representative of future predictions of the class.

    >>> from gtflow.qa.records import Verdict
    >>> from gtflow.qa.analysis import analyse
    >>> vs = [Verdict(str(i), "cat", 96, 1, 0) for i in range(3)]
    >>> bucket_walk(analyse(vs), cost_ratio=10)["cat"].threshold
    80.0
    >>> print(lower_bound(analyse(vs), cost_ratio=10)["cat"].threshold)
    None
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gtflow.errors import UsageError
from gtflow.qa.analysis import Analysis, ClassAnalysis

__all__ = [
    "Threshold",
    "METHODS",
    "break_even_precision",
    "acceptable",
    "wilson_lower_bound",
    "needed_verdicts",
    "bucket_walk",
    "lower_bound",
    "recommend",
    "policy_document",
    "thresholds_json",
    "scaled_policy",
]

METHODS = ("bucket-walk", "lower-bound")


@dataclass(frozen=True)
class Threshold:
    """A recommended threshold for one class and the evidence behind it."""

    label: str
    threshold: float | None  # auto-accept confidence >= threshold; None: always route
    method: str
    accepted: int = 0  # reviewed images at or above the threshold
    correct: int = 0  # of those, correct
    bound: float | None = None  # lower bound of their precision (lower-bound method)
    reason: str = ""
    seen: int | None = None  # reviewed images of the class in range (set when threshold is None)
    needed: int | None = None  # verdicts needed for a threshold at the observed precision; None: no amount

    @property
    def precision(self) -> float | None:
        return self.correct / self.accepted if self.accepted else None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "threshold": self.threshold, "method": self.method,
                "accepted": self.accepted, "correct": self.correct, "precision": self.precision,
                "lowerBound": self.bound, "reason": self.reason, "seen": self.seen, "needed": self.needed}

    def explain(self) -> str:
        """One line for people: the threshold and its evidence, or why there is none.

            >>> Threshold("cat", None, "lower-bound", seen=10, needed=28, reason="x").explain()
            'none (always route): 10 verdicts seen, 28 needed; x'
        """
        if self.threshold is not None:
            prec = f", precision {self.precision:.3f}" if self.precision is not None else ""
            return f"auto-accept at >= {self.threshold:g}: {self.correct} of {self.accepted} correct{prec}"
        need = "no number of verdicts at this precision is enough" if self.needed is None else f"{self.needed} needed"
        return f"none (always route): {self.seen or 0} verdicts seen, {need}; {self.reason}"


def _check_ratio(cost_ratio: float) -> float:
    r = float(cost_ratio)
    if not math.isfinite(r) or r <= 0:
        raise UsageError(f"cost ratio must be a positive number, not {cost_ratio!r}", field="cost_ratio")
    return r


def break_even_precision(cost_ratio: float) -> float:
    """The lowest precision worth auto-accepting: ``R / (1 + R)``.

        >>> round(break_even_precision(10), 4)
        0.9091
    """
    r = _check_ratio(cost_ratio)
    return r / (1 + r)


def acceptable(correct: int, incorrect: int, cost_ratio: float) -> bool:
    """Whether auto-accepting a group with these counts has expected value >= 0 (``R·FP <= TP``).

        >>> acceptable(10, 1, 10), acceptable(9, 1, 10)
        (True, False)
    """
    return _check_ratio(cost_ratio) * incorrect <= correct


@functools.lru_cache(maxsize=32)
def _z(confidence: float) -> float:
    return statistics.NormalDist().inv_cdf(confidence)


def wilson_lower_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Wilson score lower bound of a proportion ``k/n`` (0 when ``n == 0``).

        >>> round(wilson_lower_bound(3, 3), 3), round(wilson_lower_bound(300, 300), 3)
        (0.526, 0.991)
    """
    if not 0 < confidence < 1:
        raise UsageError("confidence level must be between 0 and 1", field="confidence")
    if n <= 0:
        return 0.0
    if not 0 <= k <= n:
        raise UsageError(f"k must be in 0..n, not {k} of {n}")
    z = _z(confidence)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half)


def _wilson_real(p: float, n: int, z: float) -> float:
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(max(0.0, p * (1 - p)) / n + z * z / (4 * n * n))
    return max(0.0, centre - half)


def needed_verdicts(precision: float, cost_ratio: float, confidence: float = 0.95) -> int | None:
    """How many verdicts at ``precision`` the lower-bound method needs before auto-accepting
    pays: the least ``n`` whose Wilson lower bound exceeds the break-even precision. ``None``
    when the precision itself is not above break-even (no amount of verdicts is enough).

        >>> needed_verdicts(1.0, 10), needed_verdicts(0.98, 10), needed_verdicts(0.9, 10)
        (28, 45, None)
    """
    be = break_even_precision(cost_ratio)
    if not 0 < confidence < 1:
        raise UsageError("confidence level must be between 0 and 1", field="confidence")
    if precision <= be:
        return None
    z = _z(confidence)
    hi = 1
    while _wilson_real(precision, hi, z) <= be:
        hi *= 2
        if hi > 1 << 40:  # precision a hair above break-even
            return None
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _wilson_real(precision, mid, z) > be:
            hi = mid
        else:
            lo = mid + 1
    return hi


def _walk_one(c: ClassAnalysis, r: float) -> Threshold:
    accepted = correct = 0
    seen_any = False
    for b in reversed(c.buckets):
        if b.total == 0:
            continue  # no evidence either way: pass through
        if not acceptable(b.correct, b.incorrect, r):
            if not seen_any:
                # the bucket passes once R·FP <= TP: that many right verdicts beside its wrong ones
                need = math.ceil(r * b.incorrect) + b.incorrect
                return Threshold(c.label, None, "bucket-walk", 0, 0,
                                 reason=f"top bucket {b.range_label} fails: {b.incorrect} wrong of {b.total}; "
                                        f"at {r:g}:1 it passes with {math.ceil(r * b.incorrect)} right beside them",
                                 seen=sum(x.total for x in c.buckets), needed=need)
            return Threshold(c.label, b.high, "bucket-walk", accepted, correct,
                             reason=f"bucket {b.range_label} fails: {b.incorrect} wrong of {b.total}")
        seen_any = True
        accepted += b.total
        correct += b.correct
    if not seen_any:
        return Threshold(c.label, None, "bucket-walk", reason="no reviewed images in range", seen=0, needed=1)
    return Threshold(c.label, c.buckets[0].low, "bucket-walk", accepted, correct,
                     reason="every bucket is acceptable")


def bucket_walk(analysis: Analysis, *, cost_ratio: float) -> dict[str, Threshold]:
    """Thresholds by the bucket walk (module docstring, method a), per class.

        >>> from gtflow.qa.records import Verdict
        >>> from gtflow.qa.analysis import analyse
        >>> vs = [Verdict("a", "dog", 97, 1, 0), Verdict("b", "dog", 92, 0, 1)]
        >>> bucket_walk(analyse(vs), cost_ratio=10)["dog"].threshold
        95.0
    """
    r = _check_ratio(cost_ratio)
    return {label: _walk_one(c, r) for label, c in analysis.classes.items()}


def _bound_one(c: ClassAnalysis, r: float, level: float) -> Threshold:
    best: Threshold | None = None
    best_value = 0.0
    n = k = 0
    items = c.items  # highest confidence first
    for i, (conf, ok) in enumerate(items):
        n += 1
        k += ok
        if i + 1 < len(items) and items[i + 1][0] == conf:
            continue  # a threshold takes every image with the same confidence
        lb = wilson_lower_bound(k, n, level)
        value = n * ((1 + r) * lb - r)
        if value > best_value:  # strict: on ties keep the higher threshold
            best_value = value
            best = Threshold(c.label, conf, "lower-bound", n, k, lb,
                             reason=f"pessimistic value {value:.2f} at {level:.0%} confidence")
    if best is None:
        if not items:
            return Threshold(c.label, None, "lower-bound", reason="no reviewed images in range", seen=0,
                             needed=needed_verdicts(1.0, r, level))
        # the most precise set a threshold could accept, and what it would take at that precision
        n = k = 0
        top = (0.0, 0, 0)  # precision, n, k
        for i, (conf, ok) in enumerate(items):
            n += 1
            k += ok
            if (i + 1 < len(items) and items[i + 1][0] == conf) or k == 0:
                continue
            if k / n >= top[0]:
                top = (k / n, n, k)
        p, pn, pk = top
        need = needed_verdicts(p, r, level) if pk else None
        be = r / (1 + r)
        if need is None:
            why = (f"the best set of reviewed images ({pk} of {pn} correct, precision {p:.3f}) is not above "
                   f"the break-even precision {be:.3f} at {r:g}:1" if pk else "no reviewed image was correct")
        else:
            why = (f"{pk} of {pn} correct (precision {p:.3f}); at {level:.0%} confidence its lower bound "
                   f"passes {be:.3f} with {need} verdicts at that precision")
        return Threshold(c.label, None, "lower-bound", 0, 0, None, reason=why, seen=len(items), needed=need)
    return best


def lower_bound(analysis: Analysis, *, cost_ratio: float, confidence: float = 0.95) -> dict[str, Threshold]:
    """Thresholds by the bounded cumulative-precision method (module docstring, method b).

        >>> from gtflow.qa.records import Verdict
        >>> from gtflow.qa.analysis import analyse
        >>> vs = [Verdict(str(i), "cat", 90 + i / 10, 1, 0) for i in range(60)]
        >>> lower_bound(analyse(vs), cost_ratio=10)["cat"].threshold
        90.0
    """
    r = _check_ratio(cost_ratio)
    return {label: _bound_one(c, r, confidence) for label, c in analysis.classes.items()}


def recommend(analysis: Analysis, *, cost_ratio: float, method: str = "lower-bound",
              confidence: float = 0.95) -> dict[str, Threshold]:
    """Thresholds per class by ``method`` (``bucket-walk`` or ``lower-bound``)."""
    if method == "bucket-walk":
        return bucket_walk(analysis, cost_ratio=cost_ratio)
    if method == "lower-bound":
        return lower_bound(analysis, cost_ratio=cost_ratio, confidence=confidence)
    raise UsageError(f"method must be one of {list(METHODS)}, not {method!r}", field="method")


def thresholds_json(thresholds: Mapping[str, Threshold]) -> dict[str, float | None]:
    """``{class: threshold or None}``, what ``gtflow qa thresholds`` prints."""
    return {label: t.threshold for label, t in thresholds.items()}


def policy_document(thresholds: Mapping[str, Threshold] | Mapping[str, float | None], *,
                    default: float) -> dict[str, Any]:
    """The per-class routing policy the human-loop routing reads::

        {"version": 1, "kind": "per-class", "thresholds": {"cat": 92.5, "dog": null}, "default": 100.0}

    ``null`` means always route that class; ``default`` applies to classes not listed.
    """
    if isinstance(default, bool) or not isinstance(default, (int, float)) or not math.isfinite(default):
        raise UsageError("the default threshold must be a finite number", field="default")
    flat: dict[str, float | None] = {}
    for label, t in thresholds.items():
        flat[label] = t.threshold if isinstance(t, Threshold) else (None if t is None else float(t))
    return {"version": 1, "kind": "per-class", "thresholds": flat, "default": float(default)}


def scaled_policy(thresholds: Mapping[str, Threshold], *, top_edge: float, scale: float | None = None,
                  default: float | None = None) -> dict[str, Any]:
    """The routing policy for thresholds found on a verdict scale (e.g. 0-100), in the routing's
    0..1 score scale: each threshold divided by ``scale`` (default 100 when ``top_edge`` > 1,
    else 1), capped at 1. ``default`` (already 0..1) applies to classes not listed; it defaults
    to 1.0 so that an unseen class is routed unless the model is certain.

        >>> t = {"cat": Threshold("cat", 92.5, "lower-bound"), "dog": Threshold("dog", None, "lower-bound")}
        >>> scaled_policy(t, top_edge=100)["thresholds"]
        {'cat': 0.925, 'dog': None}
    """
    if scale is None:
        scale = 100.0 if top_edge > 1 else 1.0
    if not math.isfinite(scale) or scale <= 0:
        raise UsageError("scale must be a positive number", field="scale")
    flat: dict[str, float | None] = {}
    for label, t in thresholds.items():
        flat[label] = None if t.threshold is None else min(1.0, t.threshold / scale)
        if flat[label] is not None and flat[label] < 0:  # type: ignore[operator]
            raise UsageError(f"threshold of {label!r} is negative after scaling", field="scale")
    d = 1.0 if default is None else default
    if not 0 <= d <= 1:
        raise UsageError("the default threshold is a score between 0 and 1", field="default")
    return policy_document(flat, default=d)
