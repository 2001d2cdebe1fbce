"""Gold items and worker quality for bounding-box reviews (human loops on either backend).

**Gold items** are images whose boxes the owner knows (an object-detection manifest). A
fraction of them is started as ordinary review loops (:func:`gold_inputs` builds their
InputContent: the image with no proposed boxes, like a routed image the model found nothing
in), so workers cannot tell them apart. On AWS they are just loops whose answers gtflow checks.

**Scores**, per worker, from the A2I ``output.json`` of the loops (:func:`score_workers`):

* ``gold_accuracy`` - on gold images, the F1 of the worker's boxes against the known boxes: a
  worker box matches a gold box of the same class at IoU >= 0.5 (one to one, best IoU first);
  precision = matches / worker boxes, recall = matches / gold boxes. 1.0 = every box right.
* ``gold_iou`` - mean IoU of the matched pairs (how tight the boxes are) and ``class_accuracy``
  - of worker boxes overlapping a gold box at IoU >= 0.5 (any class), the share with its class.
* ``agreement`` - the same F1 against the consolidated answer
  (:func:`gtflow.a2i.convert.consolidate_answers`) of non-gold loops with several workers.
* ``median_seconds`` (``timeSpentInSeconds``) and ``answers`` (volume).

:func:`below` names the workers under a threshold; their answers can be left out of
consolidation (``exclude_workers`` of :mod:`gtflow.a2i.convert`, ``--exclude-workers``).
Or weighted: :func:`read_weights` turns the report (``gtflow workers report --json``) into
per-worker weights = ``gold_accuracy``, else ``agreement`` (a worker with neither weighs 1),
for ``worker_weights`` / ``--worker-weights`` (boxes: a cluster is kept when its workers hold
at least half the answering workers' weight; classes: a weighted majority vote).

**Labeling jobs** are scored the same way: :func:`labeling_job_outputs` reads a GT labeling
job's worker responses (``annotations/worker-response/iteration-N/<dataObjectId>/<ts>.json``,
either backend; the local runner writes the same layout) and pairs each ``dataObjectId`` (the
0-based line of the input manifest) with its ``source-ref``, giving one
:class:`~gtflow.wire.a2i.HumanLoopOutput` per data object for :func:`score_workers`.

    >>> gold = {"s3://b/1.png": [GoldBox("cat", 10, 10, 20, 20)]}
    >>> good = [GoldBox("cat", 11, 10, 20, 20)]
    >>> round(box_f1(good, gold["s3://b/1.png"])[0], 2)
    1.0
    >>> box_f1([GoldBox("dog", 11, 10, 20, 20)], gold["s3://b/1.png"])[0]
    0.0
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ContractError, GtflowError, UsageError
from gtflow.routing import audit_draw
from gtflow.wire.a2i import HumanLoopOutput
from gtflow.wire.crowd import bounding_box_answer
from gtflow.wire.output import class_ids, metadata_key

__all__ = [
    "GoldBox",
    "WorkerQuality",
    "read_gold",
    "gold_inputs",
    "box_f1",
    "score_workers",
    "below",
    "read_weights",
    "labeling_job_outputs",
    "report_html",
]


@dataclass(frozen=True)
class GoldBox:
    """A box in pixels with its class name."""

    label: str
    left: float
    top: float
    width: float
    height: float


def _iou(a: GoldBox, b: GoldBox) -> float:
    iw = min(a.left + a.width, b.left + b.width) - max(a.left, b.left)
    ih = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def box_f1(boxes: Sequence[GoldBox], truth: Sequence[GoldBox], *, iou_threshold: float = 0.5
           ) -> tuple[float, list[float], int, int]:
    """``(f1, IoUs of the matched pairs, boxes overlapping a true box, of which right class)``.

    Matching is one to one, same class, best IoU first; no box and no truth is a perfect 1.0.
    """
    if not boxes and not truth:
        return 1.0, [], 0, 0
    pairs = sorted(((_iou(b, t), i, j) for i, b in enumerate(boxes) for j, t in enumerate(truth)
                    if b.label == t.label), reverse=True)
    used_b: set[int] = set()
    used_t: set[int] = set()
    ious = []
    for v, i, j in pairs:
        if v < iou_threshold or i in used_b or j in used_t:
            continue
        used_b.add(i)
        used_t.add(j)
        ious.append(v)
    matched = len(ious)
    f1 = 2 * matched / (len(boxes) + len(truth))
    overlapping = [max(((_iou(b, t), t.label) for t in truth), default=(0.0, "")) for b in boxes]
    near = [lab for v, lab in overlapping if v >= iou_threshold]
    right = sum(1 for b, (v, lab) in zip(boxes, overlapping, strict=True) if v >= iou_threshold and lab == b.label)
    return f1, ious, len(near), right


def read_gold(lines: Iterable[Mapping[str, Any]], label_attribute: str) -> dict[str, list[GoldBox]]:
    """Known boxes by ``source-ref`` from object-detection manifest lines (class names from the
    line's ``class-map``)."""
    out: dict[str, list[GoldBox]] = {}
    for n, line in enumerate(lines, start=1):
        src = line.get("source-ref")
        label = line.get(label_attribute)
        if not isinstance(src, str) or not isinstance(label, Mapping):
            raise ContractError("a gold line needs source-ref and the label attribute", line=n,
                                field=label_attribute if isinstance(src, str) else "source-ref")
        try:
            names = class_ids(line.get(metadata_key(label_attribute)) or {}, metadata_key(label_attribute))
        except ContractError as exc:
            raise exc.at(line=n) from None
        cmap = {str(k): v for k, v in names.items()}
        try:
            out[src] = [GoldBox(str(cmap.get(str(a["class_id"]), a["class_id"])), float(a["left"]), float(a["top"]),
                                float(a["width"]), float(a["height"])) for a in label.get("annotations", [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"unreadable annotation: {exc}", line=n, field=f"{label_attribute}.annotations") from None
    return out


def gold_inputs(gold: Mapping[str, Sequence[GoldBox]], class_map: Mapping[int, str], *, n_tasks: int,
                fraction: float, sizes: Mapping[str, tuple[int, int]], seed: str = "gold") -> list[dict[str, Any]]:
    """InputContent of the gold loops to start beside ``n_tasks`` ordinary ones so that gold
    makes up ``fraction`` of all (at least one when fraction > 0), chosen by a seeded draw.
    ``sizes`` gives each gold image's ``(width, height)``.

    >>> g = {f"s3://b/{i}.png": [] for i in range(10)}
    >>> ins = gold_inputs(g, {0: "cat"}, n_tasks=18, fraction=0.1, sizes={k: (64, 48) for k in g})
    >>> len(ins), ins[0]["initialValue"]
    (2, [])
    """
    if not 0.0 <= fraction < 1.0:
        raise UsageError("the gold fraction is in [0, 1)", field="gold_fraction")
    if fraction == 0 or not gold:
        return []
    want = max(1, round(fraction * n_tasks / (1.0 - fraction)))
    chosen = sorted(gold, key=lambda s: audit_draw(seed, s))[:want]
    from gtflow.a2i.input_content import review_input
    from gtflow.routing import Prediction

    out = []
    for src in chosen:
        if src not in sizes:
            raise UsageError(f"no image size for gold image {src}", field="sizes")
        out.append(review_input(Prediction(src, ()), class_map, sizes[src]))
    return out


@dataclass
class WorkerQuality:
    """One worker's scores (see the module docstring); None where there was nothing to score."""

    worker_id: str
    answers: int = 0
    gold_items: int = 0
    gold_accuracy: float | None = None
    gold_iou: float | None = None
    class_accuracy: float | None = None
    agreement: float | None = None
    agreement_items: int = 0
    median_seconds: float | None = None
    _gold: list[float] = field(default_factory=list, repr=False)
    _ious: list[float] = field(default_factory=list, repr=False)
    _near: int = field(default=0, repr=False)
    _right: int = field(default=0, repr=False)
    _agree: list[float] = field(default_factory=list, repr=False)
    _seconds: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"workerId": self.worker_id, "answers": self.answers, "goldItems": self.gold_items,
                "goldAccuracy": self.gold_accuracy, "goldIou": self.gold_iou, "classAccuracy": self.class_accuracy,
                "agreement": self.agreement, "agreementItems": self.agreement_items,
                "medianSeconds": self.median_seconds}


def _boxes(content: Mapping[str, Any]) -> list[GoldBox]:
    _, ans = bounding_box_answer(content)
    return [GoldBox(b.label, float(b.left), float(b.top), float(b.width), float(b.height)) for b in ans.bounding_boxes]


def score_workers(
    outputs: Iterable[HumanLoopOutput],
    gold: Mapping[str, Sequence[GoldBox]],
    class_map: Mapping[int, str],
    *,
    problems: list[GtflowError] | None = None,
) -> list[WorkerQuality]:
    """Per-worker quality from loops' outputs, sorted by worker id. An answer that cannot be
    read is a problem of that answer (listed in ``problems`` when given), not of the report."""
    from gtflow.a2i.convert import consolidate_answers

    by: dict[str, WorkerQuality] = {}
    for out in outputs:
        src = out.input_content.get("taskObject")
        truth = gold.get(src) if isinstance(src, str) else None
        consensus: list[GoldBox] | None = None
        if truth is None and len(out.human_answers) > 1:
            try:
                line = consolidate_answers(out, class_map, "consensus")
                consensus = [GoldBox(class_map.get(a["class_id"], str(a["class_id"])), a["left"], a["top"],
                                     a["width"], a["height"]) for a in line["consensus"]["annotations"]]
            except GtflowError as exc:
                if problems is not None:
                    problems.append(exc.at(path=out.human_loop_name))
        for a in out.human_answers:
            q = by.setdefault(a.worker_id, WorkerQuality(a.worker_id))
            q.answers += 1
            if a.time_spent_in_seconds is not None:
                q._seconds.append(float(a.time_spent_in_seconds))
            if truth is None and consensus is None:
                continue
            try:
                boxes = _boxes(a.answer_content)
            except GtflowError as exc:
                if problems is not None:
                    problems.append(exc.at(path=out.human_loop_name))
                if truth is not None:
                    q._gold.append(0.0)
                continue
            if truth is not None:
                f1, ious, near, right = box_f1(boxes, truth)
                q._gold.append(f1)
                q._ious += ious
                q._near += near
                q._right += right
            elif consensus is not None:
                q._agree.append(box_f1(boxes, consensus)[0])
    for q in by.values():
        q.gold_items = len(q._gold)
        q.gold_accuracy = round(statistics.fmean(q._gold), 4) if q._gold else None
        q.gold_iou = round(statistics.fmean(q._ious), 4) if q._ious else None
        q.class_accuracy = round(q._right / q._near, 4) if q._near else None
        q.agreement_items = len(q._agree)
        q.agreement = round(statistics.fmean(q._agree), 4) if q._agree else None
        q.median_seconds = round(statistics.median(q._seconds), 3) if q._seconds else None
    return [by[w] for w in sorted(by)]


def below(qualities: Iterable[WorkerQuality], threshold: float, *, metric: str = "gold_accuracy",
          min_items: int = 1) -> list[str]:
    """Workers whose ``metric`` (``gold_accuracy``, ``agreement``, ...) is below ``threshold``
    on at least ``min_items`` scored items (others are not judged)."""
    if metric not in ("gold_accuracy", "gold_iou", "class_accuracy", "agreement"):
        raise UsageError(f"unknown metric {metric!r}", field="metric")
    items = "agreement_items" if metric == "agreement" else "gold_items"
    return [q.worker_id for q in qualities
            if getattr(q, metric) is not None and getattr(q, items) >= min_items and getattr(q, metric) < threshold]


def read_weights(report: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per-worker weights from a ``gtflow workers report --json`` object (or its ``workers``
    list): ``goldAccuracy``, else ``agreement``; workers with neither are left out (weigh 1).

    >>> read_weights({"workers": [{"workerId": "a", "goldAccuracy": 0.9, "agreement": 0.5},
    ...                           {"workerId": "b", "goldAccuracy": None, "agreement": 0.5},
    ...                           {"workerId": "c", "goldAccuracy": None, "agreement": None}]})
    {'a': 0.9, 'b': 0.5}
    """
    rows = report.get("workers") if isinstance(report, Mapping) else report
    if not isinstance(rows, Sequence):
        raise ContractError("expected a workers report (gtflow workers report --json)", field="workers")
    out: dict[str, float] = {}
    for n, row in enumerate(rows):
        wid = row.get("workerId") if isinstance(row, Mapping) else None
        if not isinstance(wid, str):
            raise ContractError("a worker row needs a workerId", field=f"workers[{n}].workerId")
        for key in ("goldAccuracy", "agreement"):
            v = row.get(key)
            if v is not None:
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
                    raise ContractError("expected a number in [0, 1]", field=f"workers[{n}].{key}")
                out[wid] = float(v)
                break
    return out


def labeling_job_outputs(src: str, source_refs: Sequence[str], *, store: Any = None,
                         problems: list[GtflowError] | None = None) -> list[HumanLoopOutput]:
    """One output per data object from a labeling job's worker-response files under ``src``
    (a local folder, or an ``s3://`` prefix through ``store``): all its workers' answers (every
    iteration and file, each worker's answer once), with ``taskObject`` = ``source_refs[id]``."""
    import json

    from gtflow.wire.gt_lambda import WorkerResponse

    marker = "annotations/worker-response/"
    if src.startswith("s3://"):
        if store is None:
            raise UsageError("an s3:// source needs a store", field="store")
        uris = sorted(o.uri for o in store.list(src) if marker in o.uri and o.uri.endswith(".json"))
        read = store.get_bytes
    else:
        from pathlib import Path

        root = Path(src)
        if not root.is_dir():
            raise UsageError(f"no such folder: {src}", field="SRC")
        uris = sorted(str(f) for f in root.rglob("*.json") if marker in f.as_posix())
        read = lambda u: Path(u).read_bytes()  # noqa: E731
    answers: dict[str, dict[tuple[str, str], Any]] = {}
    for uri in uris:
        oid = uri.rsplit("/", 2)[-2]
        try:
            if not oid.isdigit() or int(oid) >= len(source_refs):
                raise ContractError(f"no input manifest line {oid}", path=uri, field="dataObjectId")
            wr = WorkerResponse.from_dict(json.loads(read(uri)))
        except (GtflowError, ValueError) as exc:
            err = exc if isinstance(exc, GtflowError) else ContractError(f"unreadable: {exc}", path=uri)
            if problems is None:
                raise err from None
            problems.append(err.at(path=uri))
            continue
        for a in wr.answers:
            answers.setdefault(oid, {})[(a.worker_id, a.submission_time)] = a
    return [HumanLoopOutput(flow_definition_arn="labeling-job", human_loop_name=oid,
                            input_content={"taskObject": source_refs[int(oid)]},
                            human_answers=tuple(answers[oid][k] for k in sorted(answers[oid])))
            for oid in sorted(answers, key=int)]


def report_html(qualities: Sequence[WorkerQuality], *, title: str = "Worker quality") -> str:
    """A self-contained HTML page: the table and a plot of gold accuracy vs median time per
    answer (marker size: answers)."""
    import base64
    import html
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for q in qualities:
        y = q.gold_accuracy if q.gold_accuracy is not None else q.agreement
        if y is None or q.median_seconds is None:
            continue
        ax.scatter([q.median_seconds], [y], s=20 + 10 * q.answers, alpha=0.6)
        ax.annotate(q.worker_id, (q.median_seconds, y), fontsize=8)
    ax.set_xlabel("median seconds per answer")
    ax.set_ylabel("gold accuracy (else agreement)")
    ax.set_ylim(-0.05, 1.05)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    img = base64.b64encode(buf.getvalue()).decode()

    def cell(v: Any) -> str:
        return "" if v is None else html.escape(f"{v:.3f}" if isinstance(v, float) else str(v))

    cols = ["workerId", "answers", "goldItems", "goldAccuracy", "goldIou", "classAccuracy", "agreement",
            "agreementItems", "medianSeconds"]
    rows = "".join("<tr>" + "".join(f"<td>{cell(q.to_dict()[c])}</td>" for c in cols) + "</tr>" for q in qualities)
    head = "".join(f"<th>{c}</th>" for c in cols)
    return (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><table border=1 cellpadding=4><tr>{head}</tr>{rows}</table>"
            f"<p><img alt='gold accuracy vs time' src='data:image/png;base64,{img}'></p>")
