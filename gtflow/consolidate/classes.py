"""Classification answers (single and multi-label) consolidated into GT classification labels:
``groundtruth/image-classification`` for images, ``groundtruth/text-classification`` for text
objects (``dataObject.content``), each with its ``-multilabel`` variant, as GT writes them.

Finding the answer: the classifier output is ``{"label": "x"}`` (single) or ``{"labels": [...]}``
(multi) under whatever name the template gave the widget (``category``, ``crowd-image-classifier``,
``verification``...). Pass ``widget=`` to name it; otherwise the single widget holding
``label``/``labels`` is used, and an answer with none or several is rejected.

Majority vote (``method="majority"``):

* single label: the label with the most votes; **tie rule**: among tied labels the one that
  comes first in the label categories wins (lowest class index). Confidence = votes / workers.
* multi-label: a label is kept when **more than half** of the workers chose it; exactly half
  is a tie and the label is left out. Confidence per label = votes / workers.

Dawid–Skene (``method="dawid-skene"``): a one-coin model over the whole batch. Each worker gets
an accuracy estimated by EM from agreement with the current consensus (starting from the
majority vote); each object's posterior over the classes weighs workers by
``log(p/(1-p)*(K-1))``. The winner is the class with the highest posterior (same tie rule);
confidence is that posterior. Multi-label runs the same model per label as a yes/no question.

    >>> votes = {"w1": "cat", "w2": "dog", "w3": "cat"}
    >>> majority_label(votes, ["cat", "dog"])
    ('cat', 0.67)
    >>> majority_label({"w1": "dog", "w2": "cat"}, ["cat", "dog"])  # tie: first category
    ('cat', 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.consolidate.request import (
    ConsolidationContext,
    ObjectAnswers,
    check_enough,
    failure_item,
    response_item,
)
from gtflow.errors import ContractError
from gtflow.wire.crowd import MultiSelectOutput, classifier_answer
from gtflow.wire.output import (
    OutputLabel,
    image_classification_label,
    labeling_job_ref,
    multilabel_classification_label,
)

__all__ = [
    "find_classifier_output",
    "majority_label",
    "majority_labels",
    "dawid_skene",
    "consolidate_classification",
]

METHODS = ("majority", "dawid-skene")


def find_classifier_output(content: Mapping[str, Any], widget: str | None = None) -> str | list[str]:
    """The chosen label (str) or labels (sorted list) in one worker's content, read through
    :func:`gtflow.wire.crowd.classifier_answer`; ContractError naming the field if absent."""
    name, out = classifier_answer(content, widget)
    if isinstance(out, MultiSelectOutput):
        return sorted(set(out.labels))
    if not out.label:
        raise ContractError("expected a non-empty string", field=f"{name}.label")
    return out.label


def majority_label(votes: Mapping[str, str], categories: Sequence[str],
                   weights: Mapping[str, float] | None = None) -> tuple[str, float]:
    """Plurality vote with the first-category tie rule; ``(label, votes/workers)``.

    With per-worker ``weights`` (a worker not listed weighs 1) each vote counts its worker's
    weight and the confidence is the label's share of the total weight:

    >>> majority_label({"a": "dog", "b": "dog", "c": "cat"}, ["cat", "dog"], {"a": 0.2, "b": 0.2, "c": 1.0})
    ('cat', 0.71)
    """
    order = {c: i for i, c in enumerate(categories)}
    counts: dict[str, float] = {}
    for w, v in votes.items():
        counts[v] = counts.get(v, 0) + (1.0 if weights is None else weights.get(w, 1.0))
    best = min(counts, key=lambda c: (-counts[c], order.get(c, len(order)), c))
    total = sum(counts.values())
    return best, round(counts[best] / total, 2) if total > 0 else 0.0


def majority_labels(votes: Mapping[str, Sequence[str]], categories: Sequence[str]) -> dict[str, float]:
    """Multi-label vote: labels chosen by more than half the workers, with votes/workers."""
    n = len(votes)
    counts: dict[str, int] = {}
    for labels in votes.values():
        for x in set(labels):
            counts[x] = counts.get(x, 0) + 1
    order = {c: i for i, c in enumerate(categories)}
    kept = sorted((c for c, k in counts.items() if 2 * k > n), key=lambda c: (order.get(c, len(order)), c))
    return {c: round(counts[c] / n, 2) for c in kept}


def dawid_skene(
    votes: Mapping[str, Mapping[str, str]],
    categories: Sequence[str],
    *,
    iterations: int = 50,
    tol: float = 1e-9,
) -> dict[str, tuple[str, float]]:
    """One-coin Dawid–Skene over a batch: ``{object: {worker: label}}`` → ``{object: (label, p)}``.

    Deterministic and independent of dict order: objects and workers are visited sorted.
    """
    cats = list(categories)
    k = max(len(cats), 2)
    index = {c: i for i, c in enumerate(cats)}
    objs = sorted(votes)
    workers = sorted({w for o in objs for w in votes[o]})
    # Start from the majority vote (soft counts).
    post: dict[str, list[float]] = {}
    for o in objs:
        row = [0.0] * len(cats)
        for w in sorted(votes[o]):
            row[index[votes[o][w]]] += 1.0
        s = sum(row) or 1.0
        post[o] = [x / s for x in row]
    acc: dict[str, float] = {}
    for _ in range(iterations):
        # M-step: worker accuracy (smoothed) and class priors.
        for w in workers:
            hit, tot = 1.0, 2.0  # Beta(1,1)-style smoothing keeps p in (0, 1)
            for o in objs:
                if w in votes[o]:
                    hit += post[o][index[votes[o][w]]]
                    tot += 1.0
            acc[w] = hit / tot
        prior = [1.0] * len(cats)
        for o in objs:
            for c in range(len(cats)):
                prior[c] += post[o][c]
        total = sum(prior)
        prior = [p / total for p in prior]
        # E-step.
        delta = 0.0
        for o in objs:
            logp = [math.log(prior[c]) for c in range(len(cats))]
            for w in sorted(votes[o]):
                p = acc[w]
                a = index[votes[o][w]]
                for c in range(len(cats)):
                    logp[c] += math.log(p) if c == a else math.log((1 - p) / (k - 1))
            m = max(logp)
            ex = [math.exp(x - m) for x in logp]
            s = sum(ex)
            new = [x / s for x in ex]
            delta = max(delta, max(abs(x - y) for x, y in zip(new, post[o], strict=True)))
            post[o] = new
        if delta < tol:
            break
    out = {}
    for o in objs:
        row = post[o]
        best = min(range(len(cats)), key=lambda c: (-round(row[c], 12), c))
        out[o] = (cats[best], round(row[best], 2))
    return out


def consolidate_classification(
    objects: Sequence[ObjectAnswers],
    ctx: ConsolidationContext,
    *,
    widget: str | None = None,
    labels: Sequence[str] | None = None,
    method: str = "majority",
    multilabel: bool | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """The post-annotation response for a batch of classification objects.

    ``multilabel=None`` decides per object: multi when any worker answered with ``labels``.
    Class ids index ``labels``, else ``labelCategories``, else the sorted labels of the batch.
    ``weights`` (per worker id) weight the single-label majority vote (:func:`majority_label`);
    Dawid-Skene learns each worker's reliability itself and multi-label votes stay unweighted.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    attr = ctx.label_attribute_name
    parsed = []
    seen: set[str] = set()
    for obj in objects:
        valid: dict[str, str | list[str]] = {}
        problems = list(obj.problems)
        for ans in obj.answers:
            try:
                valid[ans.worker_id] = find_classifier_output(ans.content, widget)
            except ContractError as exc:
                problems.append(f"{exc} (worker {ans.worker_id})")
                continue
            v = valid[ans.worker_id]
            seen.update([v] if isinstance(v, str) else v)
        parsed.append((obj, valid, problems))
    cats = list(labels or ctx.label_categories or sorted(seen))
    index = {c: i for i, c in enumerate(cats)}
    ready = []
    for obj, valid, problems in parsed:
        for w in sorted(valid):
            v = valid[w]
            bad = sorted(({v} if isinstance(v, str) else set(v)) - index.keys())
            if bad:
                problems.append(f"label {bad[0]!r} is not a label category (worker {w})")
                del valid[w]
        why = check_enough(obj, len(valid), problems, ctx)
        multi = multilabel if multilabel is not None else any(isinstance(v, list) for v in valid.values())
        ready.append((obj, valid, why, multi))
    ds_single: dict[str, tuple[str, float]] = {}
    ds_multi: dict[str, dict[str, tuple[str, float]]] = {}
    if method == "dawid-skene":
        single = {o.dataset_object_id: {w: v for w, v in val.items() if isinstance(v, str)}
                  for o, val, why, multi in ready if why is None and not multi}
        ds_single = dawid_skene(single, cats) if single else {}
        multi_objs = {o.dataset_object_id: val for o, val, why, multi in ready if why is None and multi}
        for c in cats:
            yes_no = {oid: {w: ("yes" if c in _as_list(v) else "no") for w, v in val.items()}
                      for oid, val in multi_objs.items()}
            if yes_no:
                ds_multi[c] = dawid_skene(yes_no, ["yes", "no"])
    out = []
    for obj, valid, why, multi in ready:
        oid = obj.dataset_object_id
        if why is not None:
            out.append(failure_item(oid, attr, why))
            continue
        if not multi:
            if any(isinstance(v, list) for v in valid.values()):
                out.append(failure_item(oid, attr, "single-label job got a multi-label answer"))
                continue
            votes = {w: v for w, v in valid.items() if isinstance(v, str)}
            label, conf = ds_single[oid] if method == "dawid-skene" else majority_label(votes, cats, weights)
            value, one = image_classification_label(
                index[label], label, job_name=labeling_job_ref(ctx.job_name), confidence=conf,
                creation_date=ctx.creation_date, text=_is_text(obj),
            )
            out.append(response_item(oid, OutputLabel(attr, value, one).to_items()))
            continue
        mvotes = {w: _as_list(v) for w, v in valid.items()}
        if method == "dawid-skene":
            chosen = {c: ds_multi[c][oid][1] for c in cats if ds_multi[c][oid][0] == "yes"}
        else:
            chosen = majority_labels(mvotes, cats)
        ids, multi_meta = multilabel_classification_label(
            {index[c]: p for c, p in chosen.items()}, {index[c]: c for c in chosen},
            job_name=labeling_job_ref(ctx.job_name), creation_date=ctx.creation_date, text=_is_text(obj),
        )
        out.append(response_item(oid, OutputLabel(attr, list(ids), multi_meta).to_items()))
    return out


def _is_text(obj: ObjectAnswers) -> bool:
    """A text object (manifest ``source``, request ``dataObject.content``), which GT labels
    ``groundtruth/text-classification``, not an image (``source-ref``, ``s3Uri``)."""
    return "content" in obj.data_object and "s3Uri" not in obj.data_object


def _as_list(v: str | list[str]) -> list[str]:
    return [v] if isinstance(v, str) else list(v)
