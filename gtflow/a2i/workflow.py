"""The seed workflow: route a run of model predictions and start a loop for each routed one.

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> from gtflow.a2i import LocalHumanLoops, HumanTaskUi, FlowDefinition
    >>> from gtflow.routing import Prediction, RoutingPolicy
    >>> loops = LocalHumanLoops.for_store(LocalStore(tempfile.mkdtemp()))
    >>> ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-ui"))
    >>> _ = loops.create_flow_definition(FlowDefinition("od", "s3://bucket/a2i", ui, "T", "D"))
    >>> items = [PredictionItem(Prediction.from_response(f"s3://bucket/{i}.jpg", {"prediction": [[0, s, .1, .1, .5, .5]]}), (100, 80))
    ...          for i, s in enumerate([0.2, 0.9])]
    >>> [(r.decision.reason, r.start is not None) for r in start_for_predictions(loops, "od", items, RoutingPolicy(), {0: "cat"})]
    [('below-threshold', True), ('confident', False)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gtflow.a2i.human_loops import HumanLoops, StartResult, prepare
from gtflow.a2i.input_content import image_size, review_input
from gtflow.errors import ContractError, UsageError
from gtflow.routing import Prediction, RoutingDecision, RoutingPolicy, route

__all__ = ["PredictionItem", "RoutedLoop", "start_for_predictions", "read_predictions"]


@dataclass(frozen=True)
class PredictionItem:
    """A prediction and, when known, its image's ``(width, height)``."""

    prediction: Prediction
    image_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class RoutedLoop:
    """A routing decision and, for a routed prediction, the loop it started (or found)."""

    decision: RoutingDecision
    start: StartResult | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self.decision.to_dict()
        if self.start is not None:
            d.update({"humanLoopName": self.start.name, "started": self.start.started, "how": self.start.how})
        return d


def _size(value: Any, line: int) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, Mapping) and isinstance(value.get("width"), int) and isinstance(value.get("height"), int):
        return int(value["width"]), int(value["height"])
    raise ContractError("image_size must be {width, height} or [{width, height, depth}]", line=line, field="image_size")


def read_predictions(records: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[PredictionItem]:
    """Prediction items from JSON Lines records ``{"source-ref", "prediction", "image_size"?}``."""
    for line, rec in records:
        src = rec.get("source-ref")
        if not isinstance(src, str):
            raise ContractError("missing source-ref", line=line, field="source-ref")
        try:
            pred = Prediction.from_response(src, rec)
        except ContractError as exc:
            raise exc.at(line=line) from None
        yield PredictionItem(pred, _size(rec.get("image_size"), line))


def start_for_predictions(
    loops: HumanLoops,
    flow: str,
    items: Iterable[PredictionItem],
    policy: RoutingPolicy,
    class_map: Mapping[int, str],
    *,
    store: Any = None,
    box_min_score: float | None = None,
    max_boxes: int | None = None,
    header: str | None = None,
    dry_run: bool = False,
    planned: list[Any] | None = None,
    strategy: Any = None,
    budget: Any = None,
    flipped: Mapping[str, Prediction] | None = None,
) -> list[RoutedLoop]:
    """Route every prediction, build the review input of each routed one, start the loops.

    Image sizes not given are read from ``store``. Boxes below ``box_min_score`` (default:
    the policy's ``min_score``) are not drawn. With ``dry_run`` nothing is started. Reruns
    start nothing twice (see :meth:`HumanLoops.start_many`). ``planned`` (a list) receives the
    :class:`~gtflow.a2i.human_loops.LoopInput` (name and InputContent) of every routed loop.
    A ``strategy`` (:class:`gtflow.selection.Strategy`) chooses instead of the policy, within
    ``budget`` (default: the policy's threshold, ``max_loops`` and audit sample);
    ``flipped`` gives the predictions of flipped images for ``localization``.
    """
    items = list(items)
    if strategy is None:
        decisions = route((i.prediction for i in items), policy, class_map)
    else:
        from gtflow.selection import Budget, select

        if budget is None:
            budget = Budget(reviews=policy.max_loops, threshold=policy.threshold if policy.max_loops is None else None,
                            audit_fraction=policy.audit_fraction, audit_seed=policy.audit_seed)
        decisions = select((i.prediction for i in items), strategy, budget, class_map, flipped=flipped)
    floor = policy.min_score if box_min_score is None else box_min_score
    inputs: list[tuple[int, dict[str, Any]]] = []
    for idx, (item, d) in enumerate(zip(items, decisions, strict=True)):
        if not d.routed:
            continue
        size = item.image_size
        if size is None:
            if store is None:
                raise UsageError(f"no image size for {d.source_ref} and no store to read it from", field="image_size")
            size = image_size(store, d.source_ref)
        inputs.append((idx, review_input(item.prediction, class_map, size, min_score=floor, max_boxes=max_boxes, header=header)))
    out = [RoutedLoop(d) for d in decisions]
    if planned is not None:
        flow_name = flow.rsplit("/", 1)[-1]
        planned.extend(prepare(flow_name, ti) for _, ti in inputs)
    if dry_run or not inputs:
        return out
    results = loops.start_many(flow, [ti for _, ti in inputs])
    by_name = {r.name: r for r in results}
    flow_name = flow.rsplit("/", 1)[-1]
    for idx, ti in inputs:
        out[idx] = RoutedLoop(decisions[idx], by_name.get(prepare(flow_name, ti).name))
    return out
