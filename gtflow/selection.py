"""Selection strategies: which predicted images a person reviews, within a budget.

One interface for every strategy: :func:`select` takes a run's predictions, a
:class:`Strategy` and a :class:`Budget` and returns one
:class:`~gtflow.routing.RoutingDecision` per prediction, in input order, each with its reason
(so ``loops start`` and the demo use any strategy the way they use routing).

Strategies (``name``: what it ranks by; a higher *value* is reviewed first):

* ``top-score`` - today's routing (:func:`gtflow.routing.route`): an image goes when its top
  detection scores below the threshold; a budget of N reviews keeps the N lowest top scores.
  The baseline.
* ``uncertainty`` - every detection near the decision boundary counts. Per detection with
  score ``s >= min_score``: ``least-confidence`` ``1 - s``, ``margin`` ``1 - |2s - 1|`` or
  ``entropy`` ``H(s)`` in bits (the default). The image's value is the **sum** over its
  detections (``aggregate="sum"``; ``"max"`` and ``"mean"`` exist): an image with three
  doubtful objects outranks one with a single doubtful object. An image with no detection at
  or above ``min_score`` is worth 1.0 (the model may be missing everything in it).
* ``localization`` - instability of boxes under a horizontal flip: the model's predictions
  on the flipped image (give them as ``flipped``, mapped or not) are flipped back and matched
  to the original detections per class; value = 1 - mean best IoU over both sets'
  detections (an unmatched detection counts IoU 0).
* ``class-balanced`` - per-class quotas: each image belongs to the class of its most
  uncertain detection; a budget of N reviews is split equally over the classes (or by the
  ``quotas`` given), each class's quota filled by its most uncertain images, and what a
  class cannot use goes to the most uncertain images left. Needs a review budget.
* ``diversity`` - uncertainty order, but an image whose prediction signature (per class, a
  score-weighted 4x4 grid of box centres) lies within ``min_distance`` of an image already
  chosen in this batch is skipped as a near-duplicate.
* ``random`` - the control: a seeded draw per image (a hash of seed and ``source-ref``, so the
  draw does not depend on input order); a budget of N takes the N smallest draws.

Budgets: ``Budget(reviews=N)`` (exactly min(N, images) reviews) or ``Budget(threshold=t)``
(top-score: top score below t; other ranked strategies: value at or above t; random: a
fraction t of the images). Both may be given (threshold, capped at N). ``audit_fraction`` adds
a reproducible sample of the images not chosen, marked ``audit-sample`` (outside the budget).

    >>> from gtflow.routing import Prediction
    >>> ps = [Prediction.from_response(f"s3://b/{i}.jpg", {"prediction": [[0, s, .1, .1, .5, .5]]})
    ...       for i, s in enumerate([0.5, 0.95, 0.2])]
    >>> [d.reason for d in select(ps, Strategy.named("uncertainty"), Budget(reviews=1), {0: "cat"})]
    ['uncertain', 'not-selected', 'not-selected']
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gtflow.errors import ConfigError, UsageError
from gtflow.routing import Detection, Prediction, RoutingDecision, RoutingPolicy, audit_draw, route

__all__ = [
    "STRATEGIES",
    "SELECTION_REASONS",
    "Budget",
    "Strategy",
    "select",
    "detection_uncertainty",
    "image_uncertainty",
    "flip_instability",
    "signature",
]

STRATEGIES = ("top-score", "uncertainty", "localization", "class-balanced", "diversity", "random")
MEASURES = ("entropy", "least-confidence", "margin")
AGGREGATES = ("sum", "max", "mean")
#: Reasons a selection adds to :data:`gtflow.routing.REASONS`.
SELECTION_REASONS = ("uncertain", "unstable", "class-quota", "diverse", "near-duplicate", "random-draw",
                     "not-selected", "audit-sample")


# -- budgets -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """How many reviews: ``reviews`` (N), ``threshold`` (per strategy; see the module
    docstring) or both; ``audit_fraction`` / ``audit_seed`` add an audit sample."""

    reviews: int | None = None
    threshold: float | None = None
    audit_fraction: float = 0.0
    audit_seed: str = "gtflow"

    def __post_init__(self) -> None:
        if self.reviews is None and self.threshold is None:
            raise ConfigError("a budget needs reviews (N) or a threshold", field="budget")
        if self.reviews is not None and (isinstance(self.reviews, bool) or not isinstance(self.reviews, int)
                                         or self.reviews < 0):
            raise ConfigError("must be a non-negative integer", field="budget.reviews")
        if not 0.0 <= self.audit_fraction <= 1.0:
            raise ConfigError("must be between 0 and 1", field="budget.audit_fraction")


# -- per-image measures --------------------------------------------------------------------------
def detection_uncertainty(score: float, measure: str = "entropy") -> float:
    """Uncertainty of one detection with confidence ``score`` (0 when sure, 1 at 0.5).

    >>> [round(detection_uncertainty(s), 3) for s in (0.5, 0.9, 1.0)]
    [1.0, 0.469, 0.0]
    >>> detection_uncertainty(0.9, "least-confidence"), round(detection_uncertainty(0.9, "margin"), 2)
    (0.09999999999999998, 0.2)
    """
    s = min(max(float(score), 0.0), 1.0)
    if measure == "least-confidence":
        return 1.0 - s
    if measure == "margin":
        return 1.0 - abs(2.0 * s - 1.0)
    if measure == "entropy":
        if s in (0.0, 1.0):
            return 0.0
        return -(s * math.log2(s) + (1 - s) * math.log2(1 - s))
    raise ConfigError(f"unknown uncertainty measure {measure!r} (one of {', '.join(MEASURES)})", field="measure")


def image_uncertainty(prediction: Prediction, *, measure: str = "entropy", aggregate: str = "sum",
                      min_score: float = 0.1) -> float:
    """The image's uncertainty: the ``aggregate`` of its detections' (score >= ``min_score``);
    1.0 for an image with none."""
    dets = prediction.kept(min_score)
    if not dets:
        return 1.0
    u = [detection_uncertainty(d.score, measure) for d in dets]
    if aggregate == "sum":
        return sum(u)
    if aggregate == "max":
        return max(u)
    if aggregate == "mean":
        return sum(u) / len(u)
    raise ConfigError(f"unknown aggregate {aggregate!r} (one of {', '.join(AGGREGATES)})", field="aggregate")


def _iou(a: Detection, b: Detection) -> float:
    iw = min(a.xmax, b.xmax) - max(a.xmin, b.xmin)
    ih = min(a.ymax, b.ymax) - max(a.ymin, b.ymin)
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter
    return inter / union if union > 0 else 0.0


def _unflip(d: Detection) -> Detection:
    return replace(d, xmin=1.0 - d.xmax, xmax=1.0 - d.xmin)


def flip_instability(prediction: Prediction, flipped: Prediction, *, min_score: float = 0.3) -> float:
    """1 - mean best same-class IoU between the detections of the image and those of its
    horizontally flipped copy (flipped back); 0 when both have no detection.

    >>> p = Prediction("a", (Detection(0, .9, .1, .1, .4, .5),))
    >>> flip_instability(p, Prediction("a", (Detection(0, .9, .6, .1, .9, .5),)))
    0.0
    >>> flip_instability(p, Prediction("a", ()))
    1.0
    """
    a = prediction.kept(min_score)
    b = [_unflip(d) for d in flipped.kept(min_score)]
    if not a and not b:
        return 0.0
    best = [max((_iou(x, y) for y in b if y.class_id == x.class_id), default=0.0) for x in a]
    best += [max((_iou(y, x) for x in a if x.class_id == y.class_id), default=0.0) for y in b]
    return 1.0 - sum(best) / len(best)


def signature(prediction: Prediction, *, min_score: float = 0.3, grid: int = 4) -> dict[tuple[int, int, int], float]:
    """Per class, a score-weighted ``grid`` x ``grid`` histogram of box centres, normalised to
    sum 1 (empty for an image with no detection)."""
    sig: dict[tuple[int, int, int], float] = defaultdict(float)
    for d in prediction.kept(min_score):
        cx = min(int((d.xmin + d.xmax) / 2 * grid), grid - 1)
        cy = min(int((d.ymin + d.ymax) / 2 * grid), grid - 1)
        sig[(d.class_id, max(cx, 0), max(cy, 0))] += d.score
    total = sum(sig.values())
    return {k: v / total for k, v in sig.items()} if total > 0 else {}


def _distance(a: Mapping[Any, float], b: Mapping[Any, float]) -> float:
    """Half the L1 distance (0: same signature, 1: nothing in common)."""
    if not a and not b:
        return 0.0
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)) / 2.0


# -- strategies ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Strategy:
    """A selection strategy and its settings (see the module docstring).

    ``measure`` / ``aggregate`` / ``min_score``: the uncertainty used by ``uncertainty``,
    ``class-balanced`` and ``diversity``; ``quotas``: class name to reviews for
    ``class-balanced``; ``min_distance``: near-duplicate radius for ``diversity``; ``seed``:
    the ``random`` draw.
    """

    name: str = "top-score"
    measure: str = "entropy"
    aggregate: str = "sum"
    min_score: float = 0.1
    quotas: Mapping[str, int] | None = field(default=None, hash=False)
    min_distance: float = 0.2
    seed: str = "gtflow"

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise ConfigError(f"unknown strategy {self.name!r} (one of {', '.join(STRATEGIES)})", field="strategy")
        if self.measure not in MEASURES:
            raise ConfigError(f"unknown uncertainty measure {self.measure!r} (one of {', '.join(MEASURES)})",
                              field="measure")
        if self.aggregate not in AGGREGATES:
            raise ConfigError(f"unknown aggregate {self.aggregate!r} (one of {', '.join(AGGREGATES)})",
                              field="aggregate")

    @classmethod
    def named(cls, name: str, **settings: Any) -> Strategy:
        """``Strategy.named("random", seed="7")``."""
        return cls(name=name, **settings)

    @classmethod
    def from_dict(cls, d: Any, *, path: str | None = None) -> Strategy:
        """From a config mapping ``{"name": ..., <settings>}`` (a plain string is a name)."""
        if isinstance(d, str):
            return cls(name=d)
        if not isinstance(d, Mapping):
            raise ConfigError("a strategy is a name or an object {name, ...}", path=path, field="strategy")
        known = {"name", "measure", "aggregate", "min_score", "quotas", "min_distance", "seed"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError("unknown key", path=path, field=f"strategy.{unknown[0]}")
        try:
            return cls(**{k.replace("-", "_"): v for k, v in d.items()})
        except ConfigError as exc:
            raise exc.at(path=path) from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "measure": self.measure, "aggregate": self.aggregate, "min_score": self.min_score,
                "quotas": dict(self.quotas) if self.quotas else None, "min_distance": self.min_distance,
                "seed": self.seed}

    def value(self, prediction: Prediction, flipped: Prediction | None = None) -> float:
        """How much reviewing this image is worth to this strategy (higher first)."""
        if self.name == "top-score":
            top = prediction.top(self.min_score)
            return 1.0 - (top.score if top else 0.0)
        if self.name == "random":
            return 1.0 - audit_draw(self.seed, prediction.source_ref)
        if self.name == "localization":
            if flipped is None:
                raise UsageError(f"strategy 'localization' needs predictions of the flipped images "
                                 f"(none for {prediction.source_ref})", field="flipped")
            return flip_instability(prediction, flipped, min_score=max(self.min_score, 0.3))
        return image_uncertainty(prediction, measure=self.measure, aggregate=self.aggregate,
                                 min_score=self.min_score)


# -- selecting -----------------------------------------------------------------------------------
def _decision(p: Prediction, class_map: Mapping[int, str], routed: bool, reason: str, detail: str) -> RoutingDecision:
    top = p.top()
    return RoutingDecision(source_ref=p.source_ref, routed=routed, reason=reason, detail=detail,
                           top_score=top.score if top else None,
                           top_class=class_map.get(top.class_id, str(top.class_id)) if top else None,
                           prediction=p)


_CHOSEN = {"uncertainty": "uncertain", "localization": "unstable", "random": "random-draw",
           "diversity": "diverse", "class-balanced": "class-quota"}


def _image_class(p: Prediction, s: Strategy, class_map: Mapping[int, str]) -> str:
    dets = p.kept(s.min_score)
    if not dets:
        return "(no detection)"
    d = max(dets, key=lambda d: (detection_uncertainty(d.score, s.measure), -d.class_id))
    return class_map.get(d.class_id, str(d.class_id))


def _quotas(s: Strategy, n: int, classes: Sequence[str]) -> dict[str, int]:
    if s.quotas:
        return {c: int(q) for c, q in s.quotas.items()}
    q = {c: n // len(classes) for c in classes} if classes else {}
    for c in classes[: n - sum(q.values())]:
        q[c] += 1
    return q


def select(
    predictions: Iterable[Prediction],
    strategy: Strategy,
    budget: Budget,
    class_map: Mapping[int, str],
    *,
    flipped: Mapping[str, Prediction] | None = None,
) -> list[RoutingDecision]:
    """One decision per prediction (input order): routed or not, and why.

    ``flipped`` maps ``source-ref`` to the prediction on the horizontally flipped image
    (``localization`` needs it). Ties in value are broken by the ``random`` draw of the
    strategy's seed, so a selection is a function of the inputs alone.
    """
    preds = list(predictions)
    if strategy.name == "top-score":
        policy = RoutingPolicy(threshold=1.0 if budget.threshold is None else budget.threshold,
                               min_score=strategy.min_score, max_loops=budget.reviews,
                               audit_fraction=budget.audit_fraction, audit_seed=budget.audit_seed)
        return route(preds, policy, class_map)
    values = [strategy.value(p, (flipped or {}).get(p.source_ref) if strategy.name == "localization" else None)
              for p in preds]
    order = sorted(range(len(preds)), key=lambda i: (-values[i], audit_draw(strategy.seed, preds[i].source_ref), i))
    if budget.threshold is not None:
        t = 1.0 - budget.threshold if strategy.name == "random" else budget.threshold
        order = [i for i in order if values[i] >= t]
    cap = len(order) if budget.reviews is None else min(budget.reviews, len(order))
    chosen: dict[int, tuple[str, str]] = {}
    skipped: dict[int, str] = {}
    rank = {i: r + 1 for r, i in enumerate(order)}
    if strategy.name == "class-balanced":
        if budget.reviews is None:
            raise ConfigError("strategy 'class-balanced' needs a review budget (N)", field="budget.reviews")
        klass = {i: _image_class(preds[i], strategy, class_map) for i in order}
        names = [class_map[k] for k in sorted(class_map)]
        present = [c for c in names if c in klass.values()] + sorted(
            {c for c in klass.values() if c not in names})
        quotas = _quotas(strategy, cap, present)
        used: dict[str, int] = defaultdict(int)
        for i in order:
            c = klass[i]
            if len(chosen) < cap and used[c] < quotas.get(c, 0):
                used[c] += 1
                chosen[i] = ("class-quota", f"class {c!r}: {used[c]} of quota {quotas[c]}; value {values[i]:.4f}")
        for i in order:
            if len(chosen) >= cap:
                break
            if i not in chosen:
                chosen[i] = ("uncertain", f"quota left over; class {klass[i]!r}, value {values[i]:.4f}")
    elif strategy.name == "diversity":
        sigs: dict[int, dict[tuple[int, int, int], float]] = {}
        for i in order:
            if len(chosen) >= cap:
                break
            sig = signature(preds[i], min_score=max(strategy.min_score, 0.3))
            near = next((j for j in chosen if _distance(sig, sigs[j]) < strategy.min_distance), None)
            if near is not None:
                skipped[i] = f"near-duplicate of {preds[near].source_ref} (signature distance {_distance(sig, sigs[near]):.3f})"
                continue
            sigs[i] = sig
            chosen[i] = ("diverse", f"value {values[i]:.4f} (rank {rank[i]}), no chosen image within {strategy.min_distance:g}")
    else:
        what = {"uncertainty": f"{strategy.aggregate} of {strategy.measure}", "localization": "flip instability",
                "random": f"seed {strategy.seed!r} draw"}[strategy.name]
        for i in order[:cap]:
            chosen[i] = (_CHOSEN[strategy.name], f"{what} {values[i]:.4f} (rank {rank[i]} of {len(preds)})")
    out = []
    for i, p in enumerate(preds):
        if i in chosen:
            reason, detail = chosen[i]
            out.append(_decision(p, class_map, True, reason, detail))
            continue
        if budget.audit_fraction > 0:
            draw = audit_draw(budget.audit_seed, p.source_ref)
            if draw < budget.audit_fraction:
                out.append(_decision(p, class_map, True, "audit-sample", f"audit draw {draw:.4f} < {budget.audit_fraction:g}"))
                continue
        if i in skipped:
            out.append(_decision(p, class_map, False, "near-duplicate", skipped[i]))
        else:
            out.append(_decision(p, class_map, False, "not-selected",
                                 f"value {values[i]:.4f} ({strategy.name}); budget of {cap} used"))
    return out
