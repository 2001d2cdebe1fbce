"""Bulk label QA verdicts and label verification: who confirmed, who rejected.

**Bulk QA** (CONTRACTS_LOCAL): each data object is a batch file
``{"label", "batchId", "items": [{"image", "confidence"}, ...]}``; each worker answers
``{"confirmed": {"0": true, "1": false, ...}}`` (one pre-checked box per item; true = the label
is right). Every item index must be present with a boolean; an answer that is not so is
rejected (and if too few usable answers remain, the object fails with a clear reason). The
label value written for a batch is::

    {"label": "cat", "batchId": "cat-0003",
     "items": [{"image": "s3://...", "confidence": 93.5, "confirmed": 2, "disconfirmed": 1,
                "workers": {"w1": true, "w2": true, "w3": false}}, ...]}

with ``-metadata`` of type ``groundtruth/custom``. One :class:`~gtflow.verdicts.Verdict` per
(image, worker) is returned for the verdict table.

**Label verification** (bundled ``label-verification``): ``{"verification": {"label":
"Correct"|"Incorrect", "workerComment"?}}`` becomes GT's ``groundtruth/label-verification``
output (class index as a string, ``class-name``, ``worker-feedback`` without empty comments),
by majority vote with the first-category tie rule.

    >>> parse_bulk_qa_answer({"confirmed": {"0": True, "1": False}}, 2)
    [True, False]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.consolidate.classes import majority_label
from gtflow.consolidate.request import (
    ConsolidationContext,
    ObjectAnswers,
    check_enough,
    failure_item,
    response_item,
)
from gtflow.verdicts import Verdict

__all__ = [
    "parse_bulk_qa_answer",
    "parse_batch",
    "consolidate_bulk_qa",
    "consolidate_verification",
    "VERIFICATION_CATEGORIES",
]

VERIFICATION_CATEGORIES = ("Correct", "Incorrect")


def parse_batch(batch: Any) -> dict[str, Any]:
    """Check a bulk-QA batch object; ValueError naming the bad field."""
    if not isinstance(batch, Mapping):
        raise ValueError("batch file is not a JSON object")
    if not isinstance(batch.get("label"), str):
        raise ValueError("batch file has no 'label'")
    items = batch.get("items")
    if not isinstance(items, list):
        raise ValueError("batch file has no 'items' list")
    for i, it in enumerate(items):
        if not isinstance(it, Mapping) or not isinstance(it.get("image"), str):
            raise ValueError(f"batch items[{i}] has no 'image'")
    return dict(batch)


def parse_bulk_qa_answer(content: Mapping[str, Any], n_items: int, *, widget: str = "confirmed") -> list[bool]:
    """One worker's verdict per item index; ValueError unless every index has a boolean."""
    raw = content.get(widget)
    if not isinstance(raw, Mapping):
        raise ValueError(f"answer has no {widget!r} checkbox object")
    extra = sorted(set(raw) - {str(i) for i in range(n_items)})
    if extra:
        raise ValueError(f"{widget!r} has unknown item index {extra[0]!r}")
    out = []
    for i in range(n_items):
        v = raw.get(str(i))
        if not isinstance(v, bool):
            raise ValueError(f"{widget!r} item {i} is {'missing' if v is None else 'not a boolean'}")
        out.append(v)
    return out


def consolidate_bulk_qa(
    objects: Sequence[ObjectAnswers],
    ctx: ConsolidationContext,
    batches: Mapping[str, Any],
    *,
    widget: str = "confirmed",
) -> tuple[list[dict[str, Any]], list[Verdict]]:
    """Responses for a batch of bulk-QA objects, and the verdicts to record.

    ``batches`` maps each object's ``dataObject.s3Uri`` to its batch file (already read), or
    to an Exception raised while reading it (that object fails).
    """
    attr = ctx.label_attribute_name
    out: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    for obj in objects:
        oid = obj.dataset_object_id
        src = obj.source
        try:
            if src is None or src not in batches:
                raise ValueError("dataObject names no batch file")
            if isinstance(batches[src], Exception):
                raise ValueError(f"batch file cannot be read: {batches[src]}")
            batch = parse_batch(batches[src])
        except ValueError as exc:
            out.append(failure_item(oid, attr, str(exc)))
            continue
        items = batch["items"]
        valid: dict[str, list[bool]] = {}
        problems = list(obj.problems)
        for ans in obj.answers:
            try:
                valid[ans.worker_id] = parse_bulk_qa_answer(ans.content, len(items), widget=widget)
            except ValueError as exc:
                problems.append(f"{exc} (worker {ans.worker_id})")
        why = check_enough(obj, len(valid), problems, ctx)
        if why is not None:
            out.append(failure_item(oid, attr, why))
            continue
        rows = []
        for i, it in enumerate(items):
            who = {w: valid[w][i] for w in sorted(valid)}
            yes = sum(who.values())
            row: dict[str, Any] = {"image": it["image"]}
            if "confidence" in it:
                row["confidence"] = it["confidence"]
            row.update(confirmed=yes, disconfirmed=len(who) - yes, workers=who)
            rows.append(row)
            conf = it.get("confidence")
            conf = float(conf) if isinstance(conf, (int, float)) and not isinstance(conf, bool) else None
            verdicts.extend(
                Verdict(it["image"], batch["label"], w, v, conf, batch.get("batchId"), ctx.job_name or None)
                for w, v in who.items()
            )
        value: dict[str, Any] = {"label": batch["label"]}
        if "batchId" in batch:
            value["batchId"] = batch["batchId"]
        value["items"] = rows
        out.append(response_item(oid, {attr: value, f"{attr}-metadata": ctx.metadata("groundtruth/custom")}))
    return out, verdicts


def consolidate_verification(
    objects: Sequence[ObjectAnswers],
    ctx: ConsolidationContext,
    *,
    widget: str = "verification",
    categories: Sequence[str] | None = None,
    label: str | None = None,
) -> tuple[list[dict[str, Any]], list[Verdict]]:
    """GT label-verification output per object; verdicts too when ``label`` names the label checked.

    The first category means "the label is right" (default ``("Correct", "Incorrect")``).
    """
    cats = list(categories or ctx.label_categories or VERIFICATION_CATEGORIES)
    attr = ctx.label_attribute_name
    out: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    for obj in objects:
        votes: dict[str, str] = {}
        comments: list[str] = []
        problems = list(obj.problems)
        for ans in obj.answers:
            v = ans.content.get(widget)
            if not isinstance(v, Mapping) or v.get("label") not in cats:
                problems.append(f"no {widget!r} answer in {cats} (worker {ans.worker_id})")
                continue
            votes[ans.worker_id] = v["label"]
            c = v.get("workerComment")
            if isinstance(c, str) and c.strip():
                comments.append(c.strip())
        why = check_enough(obj, len(votes), problems, ctx)
        if why is not None:
            out.append(failure_item(obj.dataset_object_id, attr, why))
            continue
        name, conf = majority_label(votes, cats)
        meta: dict[str, Any] = {
            "class-name": name,
            "confidence": conf,
            "type": "groundtruth/label-verification",
            "job-name": f"labeling-job/{ctx.job_name}",
            "human-annotated": "yes",
            "creation-date": ctx.creation_date,
        }
        if comments:
            meta["worker-feedback"] = [{"comment": c} for c in comments]
        out.append(response_item(obj.dataset_object_id, {attr: str(cats.index(name)), f"{attr}-metadata": meta}))
        if label is not None and obj.source is not None:
            verdicts.extend(
                Verdict(obj.source, label, w, v == cats[0], None, None, ctx.job_name or None)
                for w, v in sorted(votes.items())
            )
    return out, verdicts
