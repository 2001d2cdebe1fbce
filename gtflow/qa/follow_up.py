"""The false-negative follow-up: ask for the right class of images whose label was rejected.

Bulk QA only finds false positives within a label group (docs/bulk-qa.md, "The false-negative
gap"). Images whose label the workers rejected go to a classification labeling job (bundled
``image-classification`` template, task input ``{"taskObject": uri, "labels": [...]}``, the
``passthrough`` pre-annotation handler and the ``classification`` post-annotation handler).

    >>> from gtflow.qa.records import Verdict
    >>> recs = follow_up_records([Verdict("s3://b/1.jpg", "cat", 91, 0, 2), Verdict("s3://b/2.jpg", "cat", 99, 2, 0)],
    ...                          labels=["cat", "dog"])
    >>> recs
    [{'source-ref': 's3://b/1.jpg', 'taskObject': 's3://b/1.jpg', 'labels': ['cat', 'dog'], 'model-label': 'cat', 'confidence': 91}]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gtflow.errors import UsageError
from gtflow.qa.analysis import CorrectRule
from gtflow.qa.records import Verdict

__all__ = ["follow_up_records", "start_follow_up_local", "FOLLOW_UP_TEMPLATE", "FOLLOW_UP_PRE", "FOLLOW_UP_POST"]

FOLLOW_UP_TEMPLATE = "image-classification"
FOLLOW_UP_PRE = "passthrough"
FOLLOW_UP_POST = "classification"


def follow_up_records(
    verdicts: Iterable[Verdict],
    *,
    labels: Sequence[str],
    rule: CorrectRule | str = CorrectRule.MAJORITY,
    header: str | None = None,
) -> list[dict[str, Any]]:
    """Input-manifest lines for the classification job: one per reviewed image that is *not*
    correct under ``rule``, in input order, each image once. ``labels`` are the classes the
    worker chooses from (the rejected label stays among them: a worker may disagree)."""
    cats = [str(x) for x in labels if str(x)]
    if len(cats) < 2:
        raise UsageError("a classification follow-up needs at least two labels", field="labels")
    if len(set(cats)) != len(cats):
        raise UsageError("labels must not repeat", field="labels")
    rl = CorrectRule.parse(rule)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for v in verdicts:
        if v.reviews == 0 or rl.is_correct(v.confirmed, v.disconfirmed) or v.image in seen:
            continue
        seen.add(v.image)
        rec: dict[str, Any] = {"source-ref": v.image, "taskObject": v.image, "labels": cats,
                               "model-label": v.label, "confidence": v.confidence}
        if header:
            rec["header"] = header
        out.append(rec)
    return out


def start_follow_up_local(
    verdicts: Iterable[Verdict],
    *,
    store: Any,
    prefix: str,
    labels: Sequence[str],
    rule: CorrectRule | str = CorrectRule.MAJORITY,
    workers: int = 1,
    job_name: str | None = None,
) -> dict[str, Any]:
    """Write the follow-up manifest at ``<prefix>/follow-up.manifest`` and start a local
    image-classification labeling job on it (idempotent). Returns a summary."""
    from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob
    from gtflow.manifest import write_manifest
    from gtflow.qa.job import job_name_for
    from gtflow.ui.bundled import load_bundled

    records = follow_up_records(verdicts, labels=labels, rule=rule)
    root = prefix.rstrip("/")
    name = job_name or job_name_for(root)
    if not records:
        return {"job": name, "images": 0, "manifest": None}
    manifest = f"{root}/follow-up.manifest"
    write_manifest(manifest, records, store=store)
    spec = LocalJobSpec(
        name=name, input_manifest=manifest, output_path=f"{root}/output/", template=load_bundled(FOLLOW_UP_TEMPLATE),
        pre_handler=f"pre/{FOLLOW_UP_PRE}", post_handler=f"post/{FOLLOW_UP_POST}",
        workers_per_object=workers, label_categories=tuple(str(x) for x in labels),
        title=f"Which class? · {name}", description="Pick the class that describes the image.",
    )
    job = LocalLabelingJob(spec, store=store)
    status = job.start()
    return {"job": name, "images": len(records), "manifest": manifest, "queue": job.queue_name,
            "pending": status.pending}
