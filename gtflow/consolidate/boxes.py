"""Bounding boxes from several workers, consolidated into one GT object-detection label.

The rule (documented in docs/labeling-jobs.md):

1. Each worker's boxes are read from the bounding-box widget (``boundingBoxes`` under the
   name the template used: ``boundingBox``, ``annotatedResult``, ... or a name you give).
2. Per label, boxes from **different** workers whose IoU is at least ``iou_threshold`` (0.5)
   are joined greedily, best IoU first, so that a cluster never holds two boxes of one worker.
   Ties are broken by a canonical order (workers by id, boxes by coordinates), so the result
   does not depend on the order in which answers arrive.
3. A cluster is kept when at least ``min_votes`` workers drew it (default: half of the
   workers who answered, rounded up). With per-worker ``weights`` (e.g. gold accuracy from
   ``gtflow workers report``; a worker not listed weighs 1) the rule is weighted instead: a
   cluster is kept when the weight of its workers is positive and at least half the weight of
   the workers who answered (equal weights give the unweighted rule). Its box is the mean of the members' corners, rounded
   to whole pixels (half up: :func:`gtflow.wire.output.whole_pixel`).
4. Per-object confidence = (workers in the cluster / workers who answered) x mean IoU of the
   members with the fused box, rounded to 2 places. Identical workers give 1.0.

Three engines give identical results: ``"python"`` (the default: pure Python with a sweep
over x so only boxes that can overlap are compared; what a Lambda zip runs), ``"numpy"`` (the
IoU matrices of many label groups stacked and computed in one vectorised step, clusters fused
in one step; measured on par with the sweep, because per-box Python work dominates at <= 60
boxes per object) and ``"pairwise"`` (the straightforward all-pairs loop: the benchmark's
baseline).

    >>> a = {"w1": [Box("cat", 10, 10, 50, 50)], "w2": [Box("cat", 12, 10, 50, 50)]}
    >>> [(b.left, b.width, b.confidence) for b in cluster_boxes(a)]
    [(11, 50, 0.96)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gtflow.consolidate.request import (
    ConsolidationContext,
    ObjectAnswers,
    check_enough,
    failure_item,
    response_item,
)
from gtflow.errors import ContractError
from gtflow.wire.crowd import bounding_box_answer
from gtflow.wire.output import (
    BoundingBoxAnnotation,
    ImageSize,
    ObjectConfidence,
    ObjectDetectionLabel,
    ObjectDetectionMetadata,
    OutputLabel,
    labeling_job_ref,
    whole_pixel,
)

__all__ = [
    "Box",
    "FusedBox",
    "iou",
    "cluster_boxes",
    "cluster_many",
    "parse_worker_boxes",
    "consolidate_boxes",
]


@dataclass(frozen=True, order=True)
class Box:
    """One worker's box in pixels (GT's ``left``/``top`` from the top-left corner)."""

    label: str
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class FusedBox:
    """A consolidated box with the workers that agreed on it."""

    label: str
    left: int
    top: int
    width: int
    height: int
    confidence: float
    workers: tuple[str, ...]


def iou(a: Box, b: Box) -> float:
    """Intersection over union; two identical boxes (even empty ones) give 1.0."""
    ax2, ay2, bx2, by2 = a.left + a.width, a.top + a.height, b.left + b.width, b.top + b.height
    iw = min(ax2, bx2) - max(a.left, b.left)
    ih = min(ay2, by2) - max(a.top, b.top)
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = a.width * a.height + b.width * b.height - inter
    if union <= 0:
        return 1.0 if (a.left, a.top, a.width, a.height) == (b.left, b.top, b.width, b.height) else 0.0
    return float(inter / union)


def _pairs_pairwise(boxes: Sequence[Box], owner: Sequence[int], thr: float) -> list[tuple[float, int, int]]:
    """The straightforward baseline: IoU of every pair of boxes from different workers."""
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if owner[i] != owner[j]:
                v = iou(boxes[i], boxes[j])
                if v >= thr:
                    pairs.append((v, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def _pairs_python(boxes: Sequence[Box], owner: Sequence[int], thr: float) -> list[tuple[float, int, int]]:
    """The same pairs, found with a sweep over x: only boxes whose x-ranges meet are compared."""
    if thr <= 0:  # every pair qualifies, overlapping or not
        return _pairs_pairwise(boxes, owner, thr)
    order = sorted(range(len(boxes)), key=lambda k: boxes[k].left)
    active: list[tuple[float, int]] = []
    pairs = []
    for k in order:
        b = boxes[k]
        active = [(r, m) for r, m in active if r >= b.left]
        for _, m in active:
            if owner[m] != owner[k]:
                v = iou(boxes[m], b)
                if v >= thr:
                    pairs.append((v, m, k) if m < k else (v, k, m))
        active.append((b.left + b.width, k))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def _union(owner: Sequence[int], pairs: Sequence[tuple[float, int, int]]) -> list[list[int]]:
    """Greedy joining over pairs sorted best-first; a cluster never holds one worker twice."""
    n = len(owner)
    parent = list(range(n))
    members: dict[int, set[int]] = {i: {owner[i]} for i in range(n)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, i, j in pairs:
        ri, rj = find(i), find(j)
        if ri == rj or members[ri] & members[rj]:
            continue
        lo, hi = min(ri, rj), max(ri, rj)
        parent[hi] = lo
        members[lo] |= members.pop(hi)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _box_key(b: Box) -> tuple[str, float, float, float, float]:
    return (b.label, b.left, b.top, b.width, b.height)


# A label group: the object's index, the label, its boxes in canonical order, their worker
# index, and the object's sorted worker ids.
_Group = tuple[int, str, list[Box], list[int], list[str]]


def _groups(objects: Sequence[Mapping[str, Sequence[Box]]]) -> list[_Group]:
    out: list[_Group] = []
    for oi, wb in enumerate(objects):
        workers = sorted(wb)
        by_label: dict[str, tuple[list[Box], list[int]]] = {}
        for wi, w in enumerate(workers):
            for b in sorted(wb[w], key=_box_key):
                boxes, owner = by_label.setdefault(b.label, ([], []))
                boxes.append(b)
                owner.append(wi)
        for label in sorted(by_label):
            boxes, owner = by_label[label]
            out.append((oi, label, boxes, owner, workers))
    return out


_CHUNK_CELLS = 2_000_000  # IoU cells per vectorised step (bounds memory to a few tens of MiB)


def _pairs_batched(groups: Sequence[_Group], thr: float) -> list[list[tuple[float, int, int]]]:
    """Candidate pairs of every group, computed for many groups per numpy step.

    Groups are padded to a power-of-two size and stacked, so one broadcast computes thousands
    of IoU matrices at once; pairs come back sorted exactly as the pure-Python path sorts them.
    """
    import numpy as np

    pairs: list[list[tuple[float, int, int]]] = [[] for _ in groups]
    buckets: dict[int, list[int]] = {}
    for gi, g in enumerate(groups):
        n = len(g[2])
        if n >= 2:
            m = 2
            while m < n:
                m *= 2
            buckets.setdefault(m, []).append(gi)
    for m, gids in buckets.items():
        step = max(1, _CHUNK_CELLS // (m * m))
        for c in range(0, len(gids), step):
            chunk = gids[c:c + step]
            g_n = len(chunk)
            flat: list[tuple[float, float, float, float]] = []
            pos: list[int] = []
            own: list[int] = []
            for k, gi in enumerate(chunk):
                boxes, owner = groups[gi][2], groups[gi][3]
                flat.extend((b.left, b.top, b.width, b.height) for b in boxes)
                pos.extend(range(k * m, k * m + len(boxes)))
                own.extend(owner)
            flat_a = np.zeros((g_n * m, 4), dtype=np.float64)
            flat_a[pos] = np.asarray(flat, dtype=np.float64)
            flat_o = np.full(g_n * m, -1, dtype=np.int64)
            flat_o[pos] = own
            a = flat_a.reshape(g_n, m, 4)
            o = flat_o.reshape(g_n, m)
            x1, y1, w, h = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
            x2, y2 = x1 + w, y1 + h
            iw = np.minimum(x2[:, :, None], x2[:, None, :]) - np.maximum(x1[:, :, None], x1[:, None, :])
            ih = np.minimum(y2[:, :, None], y2[:, None, :]) - np.maximum(y1[:, :, None], y1[:, None, :])
            inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
            area = w * h
            union = area[:, :, None] + area[:, None, :] - inter
            pos_union = union > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                iou_m = inter / np.where(pos_union, union, 1.0)
            same = (a[:, :, None, :] == a[:, None, :, :]).all(axis=3)
            iou_m = np.where(pos_union, iou_m, np.where(same, 1.0, 0.0))
            mask = (
                np.triu(np.ones((m, m), dtype=bool), k=1)[None]
                & (o[:, :, None] != o[:, None, :])
                & (o[:, :, None] >= 0) & (o[:, None, :] >= 0)
                & (iou_m >= thr)
            )
            gg, ii, jj = np.nonzero(mask)
            if not len(gg):
                continue
            vals = iou_m[gg, ii, jj]
            order = np.lexsort((jj, ii, -vals, gg))
            for k, v, i, j in zip(gg[order].tolist(), vals[order].tolist(), ii[order].tolist(),
                                  jj[order].tolist(), strict=True):
                pairs[chunk[k]].append((v, i, j))
    return pairs


def cluster_many(
    objects: Sequence[Mapping[str, Sequence[Box]]],
    *,
    iou_threshold: float = 0.5,
    min_votes: int | None = None,
    engine: str = "auto",
    weights: Mapping[str, float] | None = None,
) -> list[list[FusedBox]]:
    """:func:`cluster_boxes` for many objects at once (the numpy engine batches the IoU work).

    Gives exactly what calling :func:`cluster_boxes` per object gives.
    """
    if engine == "auto":
        # Measured on par with numpy (docs/benchmarks/consolidation.md) and needs no import.
        engine = "python"
    if engine not in ("numpy", "python", "pairwise"):
        raise ValueError(f"unknown engine {engine!r}")
    groups = _groups(objects)
    if engine == "numpy":
        all_pairs = _pairs_batched(groups, iou_threshold)
    else:
        find = _pairs_python if engine == "python" else _pairs_pairwise
        all_pairs = [find(g[2], g[3], iou_threshold) for g in groups]
    clusters = [_union(g[3], pairs) if pairs else [[i] for i in range(len(g[2]))]
                for g, pairs in zip(groups, all_pairs, strict=True)]
    if engine == "numpy":
        out = _fuse_batched(groups, clusters, len(objects), min_votes, weights)
    else:
        out = [[] for _ in objects]
        for g, members_list in zip(groups, clusters, strict=True):
            oi, label, boxes, owner, workers = g
            n = len(workers)
            need = min_votes if min_votes is not None else math.ceil(n / 2)
            for members in members_list:
                if _kept(members, owner, workers, need, weights):
                    out[oi].append(_fuse(label, [boxes[i] for i in members], [workers[owner[i]] for i in members], n))
    for fused in out:
        fused.sort(key=lambda f: (f.label, f.left, f.top, f.width, f.height))
    return out


def _kept(members: Sequence[int], owner: Sequence[int], workers: Sequence[str], need: int,
          weights: Mapping[str, float] | None) -> bool:
    """Rule 3: enough workers (or, with ``weights``, enough of the answering workers' weight)."""
    if weights is None:
        return len(members) >= need
    total = sum(weights.get(w, 1.0) for w in workers)
    mine = sum(weights.get(workers[owner[i]], 1.0) for i in members)
    return mine > 0 and 2 * mine >= total


def cluster_boxes(
    worker_boxes: Mapping[str, Sequence[Box]],
    *,
    iou_threshold: float = 0.5,
    min_votes: int | None = None,
    engine: str = "auto",
    weights: Mapping[str, float] | None = None,
) -> list[FusedBox]:
    """Fuse the boxes of several workers (see the module docstring for the rule).

    ``worker_boxes`` maps each worker who answered (even with no boxes) to their boxes.
    The result is sorted by label, then position.
    """
    return cluster_many([worker_boxes], iou_threshold=iou_threshold, min_votes=min_votes, engine=engine,
                        weights=weights)[0]


def _fuse_batched(
    groups: Sequence[_Group], clusters: Sequence[list[list[int]]], n_objects: int, min_votes: int | None,
    weights: Mapping[str, float] | None = None,
) -> list[list[FusedBox]]:
    """:func:`_fuse` for every kept cluster at once (same float operations, same results)."""
    import numpy as np

    coords: list[tuple[float, float, float, float]] = []
    cid: list[int] = []
    meta: list[tuple[int, str, tuple[str, ...], int, int]] = []
    for g, members_list in zip(groups, clusters, strict=True):
        oi, label, boxes, owner, workers = g
        n = len(workers)
        need = min_votes if min_votes is not None else math.ceil(n / 2)
        for members in members_list:
            if not _kept(members, owner, workers, need, weights):
                continue
            c = len(meta)
            meta.append((oi, label, tuple(sorted(workers[owner[i]] for i in members)), n, len(members)))
            for i in members:
                b = boxes[i]
                coords.append((b.left, b.top, b.width, b.height))
                cid.append(c)
    out: list[list[FusedBox]] = [[] for _ in range(n_objects)]
    if not meta:
        return out
    a = np.asarray(coords, dtype=np.float64)
    cc = np.asarray(cid, dtype=np.int64)
    k = np.bincount(cc).astype(np.float64)
    left, top, w, h = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    x1 = np.bincount(cc, weights=left) / k
    y1 = np.bincount(cc, weights=top) / k
    x2 = np.bincount(cc, weights=left + w) / k
    y2 = np.bincount(cc, weights=top + h) / k
    mw, mh = x2 - x1, y2 - y1
    # IoU of each member with its cluster's mean box, exactly as iou(member, mean_box).
    bx1, by1, bw, bh = x1[cc], y1[cc], mw[cc], mh[cc]
    iw = np.minimum(left + w, bx1 + bw) - np.maximum(left, bx1)
    ih = np.minimum(top + h, by1 + bh) - np.maximum(top, by1)
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = w * h + bw * bh - inter
    same = (left == bx1) & (top == by1) & (w == bw) & (h == bh)
    with np.errstate(divide="ignore", invalid="ignore"):
        ious = np.where(union > 0, inter / np.where(union > 0, union, 1.0), np.where(same, 1.0, 0.0))
    agreement = np.bincount(cc, weights=ious) / k
    for c, (xa, ya, xb, yb, agr) in enumerate(zip(x1.tolist(), y1.tolist(), x2.tolist(), y2.tolist(),
                                                   agreement.tolist(), strict=True)):
        oi, label, who, n, kk = meta[c]
        lft, tp = whole_pixel(xa), whole_pixel(ya)
        out[oi].append(
            FusedBox(label, lft, tp, whole_pixel(xb) - lft, whole_pixel(yb) - tp, round(kk / n * agr, 2), who)
        )
    return out


def _fuse(label: str, members: list[Box], who: list[str], n_workers: int) -> FusedBox:
    k = len(members)
    x1 = sum(b.left for b in members) / k
    y1 = sum(b.top for b in members) / k
    x2 = sum(b.left + b.width for b in members) / k
    y2 = sum(b.top + b.height for b in members) / k
    left, top = whole_pixel(x1), whole_pixel(y1)
    width, height = whole_pixel(x2) - left, whole_pixel(y2) - top
    mean_box = Box(label, x1, y1, x2 - x1, y2 - y1)
    agreement = sum(iou(b, mean_box) for b in members) / k
    conf = round(k / n_workers * agreement, 2)
    return FusedBox(label, left, top, width, height, conf, tuple(sorted(who)))


def parse_worker_boxes(
    content: Mapping[str, Any], *, widget: str | None = None
) -> tuple[list[Box], tuple[int, int] | None]:
    """A worker's boxes and the ``(width, height)`` they reported, read through
    :func:`gtflow.wire.crowd.bounding_box_answer` (ContractError naming the field if
    unreadable: no box widget or several, a missing or non-numeric value, a negative size)."""
    _, out = bounding_box_answer(content, widget)
    boxes = [Box(b.label, b.left, b.top, b.width, b.height) for b in out.bounding_boxes]
    props = out.input_image_properties
    return boxes, (props.width, props.height)


def consolidate_boxes(
    objects: Sequence[ObjectAnswers],
    ctx: ConsolidationContext,
    *,
    widget: str | None = None,
    labels: Sequence[str] | None = None,
    iou_threshold: float = 0.5,
    min_votes: int | None = None,
    engine: str = "auto",
    weights: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """The post-annotation response for a batch of bounding-box objects (``weights``: rule 3).

    Class ids index ``labels``, else the event's ``labelCategories``, else the sorted labels
    seen in this batch (stable only within the batch: give categories for real jobs).
    """
    attr = ctx.label_attribute_name
    parsed: list[tuple[ObjectAnswers, dict[str, list[Box]], list[tuple[int, int]], list[str]]] = []
    seen: set[str] = set()
    for obj in objects:
        valid: dict[str, list[Box]] = {}
        sizes: list[tuple[int, int]] = []
        problems = list(obj.problems)
        for ans in obj.answers:
            try:
                boxes, size = parse_worker_boxes(ans.content, widget=widget)
            except ContractError as exc:
                problems.append(f"{exc} (worker {ans.worker_id})")
                continue
            valid[ans.worker_id] = boxes
            if size:
                sizes.append(size)
            seen.update(b.label for b in boxes)
        parsed.append((obj, valid, sizes, problems))
    cats = list(labels or ctx.label_categories or sorted(seen))
    index = {c: i for i, c in enumerate(cats)}
    ready = []
    for obj, valid, sizes, problems in parsed:
        for wid in sorted(valid):
            bad = sorted({b.label for b in valid[wid]} - index.keys())
            if bad:
                problems.append(f"label {bad[0]!r} is not a label category (worker {wid})")
                del valid[wid]
        why = check_enough(obj, len(valid), problems, ctx)
        if why is None and not sizes:
            why = "no worker reported inputImageProperties"
        ready.append((obj, valid, sizes, why))
    fusable = [valid for _, valid, _, why in ready if why is None]
    fused_all = iter(cluster_many(fusable, iou_threshold=iou_threshold, min_votes=min_votes, engine=engine,
                                          weights=weights))
    out = []
    for obj, _valid, sizes, why in ready:
        if why is not None:
            out.append(failure_item(obj.dataset_object_id, attr, why))
            continue
        counts = Counter(sizes)
        (w, h), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        # a fused box is clipped to the image; one of no area there (a 0x0 click, a box drawn
        # off the image) is dropped: the consolidated label always passes the OD lint
        fused = [(f, xywh) for f in next(fused_all) if (xywh := _inside(f, w, h)) is not None]
        fused.sort(key=lambda fx: (index[fx[0].label], *fx[1]))
        value = ObjectDetectionLabel(
            annotations=tuple(BoundingBoxAnnotation(index[f.label], *xywh) for f, xywh in fused),
            image_size=(ImageSize(w, h, 3),),
        )
        used = sorted({index[f.label] for f, _ in fused})
        meta = ObjectDetectionMetadata(
            class_map={str(i): cats[i] for i in used},
            objects=tuple(ObjectConfidence(f.confidence) for f, _ in fused),
            job_name=labeling_job_ref(ctx.job_name),
            human_annotated="yes",
            creation_date=ctx.creation_date,
        )
        out.append(response_item(obj.dataset_object_id, OutputLabel(attr, value, meta).to_items()))
    return out


def _inside(f: Any, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``(left, top, width, height)`` of fused box ``f`` clipped to the image, None if nothing is left."""
    x1, y1 = max(0, f.left), max(0, f.top)
    x2, y2 = min(width, f.left + f.width), min(height, f.top + f.height)
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2 - x1, y2 - y1
