"""Which pool images go to a reviewer: the demo's selection strategies.

The demo's v1 arm selects by confidence routing (:class:`gtflow.routing.RoutingPolicy`: top
score below the threshold). Every other arm is a *selector*: given the pool's predictions and a
budget ``n`` (the number of images confidence routing sent to review), it returns the indices
of the pool images to review. Each selector's images are reviewed by the same simulated reviewer
and trained on like v1, so the arms differ only in which images people looked at.

    >>> from gtflow.routing import Prediction
    >>> preds = [Prediction.from_response(f"s3://b/{i}.png", {"prediction": []}) for i in range(10)]
    >>> random_selection(preds, 3, seed=7) == random_selection(preds, 3, seed=7)
    True
    >>> len(random_selection(preds, 3, seed=7)), len(random_selection(preds, 30, seed=7))
    (3, 10)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Selector", "SELECTORS", "random_selection", "strategy_selection"]

#: ``(pool predictions, budget, seed) -> pool indices`` (at most ``budget``, no repeats)
Selector = Callable[[Sequence[Any], int, int], list[int]]


def random_selection(predictions: Sequence[Any], n: int, seed: int) -> list[int]:
    """``n`` pool images drawn uniformly at random (seeded), whatever the model predicted."""
    return sorted(random.Random(f"random-selection:{seed}").sample(range(len(predictions)), min(n, len(predictions))))


def strategy_selection(name: str) -> Selector:
    """A selector for a :mod:`gtflow.selection` strategy (``gtflow demo --strategy NAME``):
    the pool images that strategy chooses with a budget of ``n`` reviews."""

    def pick(predictions: Sequence[Any], n: int, seed: int) -> list[int]:
        from gtflow.selection import Budget, Strategy, select

        decisions = select(predictions, Strategy.named(name, seed=str(seed), min_score=0.05), Budget(reviews=n), {})
        return [i for i, d in enumerate(decisions) if d.routed]

    return pick


#: the selection arms the demo knows, by name (``localization`` needs predictions of flipped
#: images, which the demo does not make)
SELECTORS: dict[str, Selector] = {
    "random": random_selection,
    **{n: strategy_selection(n) for n in ("top-score", "uncertainty", "class-balanced", "diversity")},
}
