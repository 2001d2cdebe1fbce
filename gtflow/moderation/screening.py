"""Bulk screening of a training set: every image checked before it can reach training.

``screen()`` lists the images under a prefix, moderates them concurrently (with retries and
progress), and records one decision per image in a ledger in the store
(``<out>/decisions/<hash>.json``, written once). Unsafe images are flagged, or moved aside to a
quarantine prefix; uncertain ones go to human review (the local portal with the bundled
``moderation-review`` template, or Rekognition's built-in A2I loop on AWS); safe ones are
listed in a clean manifest for training. A rerun skips every image already decided and picks up
reviews completed since.

An image whose moderation fails for good — its bytes are not an image, or too large, or in a
format the provider refuses (a ``UsageError`` on the ``image`` field, or Rekognition's
``InvalidImageFormatException``/``ImageTooLargeException``) — goes to the quarantine
(``<out>/quarantine/``, :mod:`gtflow.quarantine`) with the reason, is counted under
``quarantined`` and its ledger record says so; later runs skip it until ``gtflow quarantine
release ID --prefix <out>`` re-admits it. Any other failure (throttling after retries, a
network error) is counted under ``errors`` and retried by the next run.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import GtflowError, ObjectNotFoundError, ServiceError, UsageError
from gtflow.logs import get_logger
from gtflow.manifest.writer import write_manifest
from gtflow.moderation.image import CategoryPolicy, ImageModeration, ImageModerator, ModerationLabel
from gtflow.moderation.taxonomy import IMAGE_CATEGORIES
from gtflow.quarantine import Quarantine, record_id
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["ScreenReport", "screen", "ledger_uri", "read_decisions", "LocalReview", "on_task_complete", "REVIEW_OWNER",
           "review_task_input", "review_verdicts", "audited"]

log = get_logger(__name__)

#: provider error codes the same bytes always get again (a rerun cannot help)
PERMANENT_CODES = frozenset({"InvalidImageFormatException", "ImageTooLargeException"})
QUARANTINE_STAGE = "moderation"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")
REVIEW_OWNER = "moderation"
_FINAL = ("safe", "unsafe")


def ledger_uri(out_prefix: str, image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    return str(S3Uri.parse(out_prefix).join("decisions", digest[:2], f"{digest}.json"))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _read(store: ObjectStore, uri: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(store.get_bytes(uri)))
    except ObjectNotFoundError:
        return None


def _write(store: ObjectStore, uri: str, record: Mapping[str, Any]) -> None:
    store.put_text(uri, json.dumps(record, indent=1, ensure_ascii=False), content_type="application/json")


def read_decisions(store: ObjectStore, out_prefix: str) -> list[dict[str, Any]]:
    """Every decision in the ledger, in image order."""
    prefix = str(S3Uri.parse(out_prefix).join("decisions")) + "/"
    records = [json.loads(store.get_bytes(o.uri)) for o in store.list(prefix) if o.uri.endswith(".json")]
    return sorted(records, key=lambda r: r["image"])


class LocalReview:
    """Uncertain images become tasks in the local portal (bundled ``moderation-review`` template)."""

    def __init__(self, queue: Any, out_prefix: str, *, workers_per_task: int = 1, name: str | None = None) -> None:
        from gtflow.ui import load_bundled

        self.queue = queue
        self.name = name or "moderation-" + hashlib.sha256(out_prefix.encode()).hexdigest()[:10]
        queue.register_queue(
            self.name, owner=REVIEW_OWNER, template=load_bundled("moderation-review"),
            title="Moderation review", description="Confirm or reject each detected moderation label",
            workers_per_task=workers_per_task, meta={"out_prefix": out_prefix},
        )

    def submit(self, result: ImageModeration) -> str:
        task_id = hashlib.sha256(result.image.encode()).hexdigest()[:32]
        self.queue.add_task(self.name, task_id, review_task_input(result))
        return f"{self.name}/{task_id}"


def review_task_input(result: ImageModeration) -> dict[str, Any]:
    """The ``moderation-review`` task input: the image, the model's labels, and the taxonomy's
    other top-level categories, which the reviewer may add when the model missed them."""
    proposed = {lab.name for lab in result.labels} | {lab.parent_name for lab in result.labels if lab.parent_name}
    return {
        "taskObject": result.image,
        "moderationLabels": [{"name": lab.name, "parentName": lab.parent_name, "confidence": lab.confidence}
                             for lab in result.labels],
        "otherCategories": [c for c in IMAGE_CATEGORIES if c not in proposed],
        "header": "Does this image show the content named by each label?",
    }


def review_verdicts(labels: list[Mapping[str, Any]], answers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-label confirm/reject counts from moderation-review answers, the labels people added
    (``missed``: categories the model did not propose), and the human decision.

    A worker who marks the image clean rejects every proposed label and adds none. The image is
    unsafe when a proposed label has more confirmations than rejections, or when more than half
    of the workers added the same category.
    """
    per: dict[str, dict[str, int]] = {lab["name"]: {"confirmed": 0, "rejected": 0} for lab in labels}
    added: dict[str, int] = {}
    notes = []
    n = clean = 0
    for answer in answers:
        n += 1
        is_clean = (answer.get("clean") or {}).get("clean") is True
        clean += is_clean
        for i, lab in enumerate(labels):
            choice = answer.get(f"label-{i}") or {}
            if is_clean or choice.get("reject") is True:
                per[lab["name"]]["rejected"] += 1
            elif choice.get("confirm") is True:
                per[lab["name"]]["confirmed"] += 1
        missed = answer.get("missed") or {}
        if not is_clean and isinstance(missed, Mapping):
            for name, checked in missed.items():
                if checked is True and name not in per:
                    added[name] = added.get(name, 0) + 1
        if str(answer.get("note", "")).strip():
            notes.append(str(answer["note"]).strip())
    unsafe = any(v["confirmed"] > v["rejected"] for v in per.values()) or any(2 * c > n for c in added.values())
    return {"action": "unsafe" if unsafe else "safe", "verdicts": per, "added": added, "clean": clean,
            "notes": notes}


def on_task_complete(queue: Any, info: Any, task: Any, answers: list[Any]) -> None:
    """TaskQueue completion hook: a person decided; record it in the screening ledger."""
    out_prefix = info.meta["out_prefix"]
    image = task.task_input["taskObject"]
    uri = ledger_uri(out_prefix, image)
    record = _read(queue.store, uri) or {"image": image}
    human = review_verdicts(list(task.task_input["moderationLabels"]), [a.answer for a in answers])
    record.update({
        "action": human["action"], "decidedBy": "human", "review": {**human, "workers": [a.worker_id for a in answers]},
        "decidedAt": _now(),
    })
    _write(queue.store, uri, record)


def audited(image: str, fraction: float) -> bool:
    """Whether ``image`` is in the audit sample of size ``fraction`` (stable across runs)."""
    if fraction <= 0:
        return False
    return int(hashlib.sha256(b"audit\0" + image.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


@dataclass
class ScreenReport:
    images: int = 0
    skipped: int = 0  # already decided by an earlier run
    safe: int = 0
    unsafe: int = 0
    review: int = 0
    errors: int = 0  # failed this run for a reason that may pass (retried by the next run)
    quarantined: int = 0  # failed for good (bad input): in the quarantine until released
    moved: int = 0
    removed: list[dict[str, Any]] = field(default_factory=list)
    pending_review: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)  # {image, id, reason}
    clean_manifest: str = ""
    report_uri: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _moderate_with_retry(moderator: ImageModerator, image: str, retries: int, sleep: Callable[[float], None]) -> ImageModeration:
    for attempt in range(retries + 1):
        try:
            return moderator.moderate(image)
        except GtflowError:
            raise
        except Exception:
            if attempt == retries:
                raise
            sleep(min(0.2 * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def permanent_failure(exc: BaseException) -> bool:
    """Whether moderating the same bytes again must fail the same way (bad input, not a
    transient provider error)."""
    if isinstance(exc, UsageError) and exc.field == "image":
        return True
    if isinstance(exc, ServiceError):
        code = str(exc.message).split(":", 1)[0]
        return code in PERMANENT_CODES
    return False


def screen(
    store: ObjectStore,
    prefix: str,
    moderator: ImageModerator,
    *,
    out_prefix: str,
    policy: CategoryPolicy | None = None,
    review: LocalReview | None = None,
    quarantine_prefix: str | None = None,
    workers: int = 8,
    retries: int = 2,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    audit_fraction: float = 0.0,
) -> ScreenReport:
    """Screen every image under ``prefix``; see the module docstring. Safe to rerun.

    ``audit_fraction`` (0-1) of the images the model finds safe go to human review as well
    (chosen by a hash of the image, so a rerun picks the same ones): only there can people
    find what the model misses, the false negatives an adapter needs.
    """
    if not 0 <= audit_fraction <= 1:
        raise UsageError("audit_fraction must be between 0 and 1", field="audit_fraction")
    policy = policy or CategoryPolicy()
    t0 = time.perf_counter()
    report = ScreenReport()
    images = [o.uri for o in store.list(prefix) if o.uri.lower().endswith(IMAGE_EXTENSIONS)]
    report.images = len(images)
    quarantine = Quarantine(store, out_prefix)
    todo, released = [], set()
    for image in images:
        rec = _read(store, ledger_uri(out_prefix, image)) or {}
        action = rec.get("action")
        if action in _FINAL + ("review",) or (action == "quarantined" and _still_quarantined(quarantine, rec)):
            report.skipped += 1
        else:
            todo.append(image)
            if action == "quarantined":
                released.add(image)

    def decide(image: str) -> dict[str, Any]:
        result = _moderate_with_retry(moderator, image, retries, sleep)
        decision = policy.decide(result.labels)
        action, reasons = decision.action, list(decision.reasons)
        if action == "safe" and (review is not None or result.human_loop_arn) and audited(image, audit_fraction):
            action, reasons = "review", [{"audit": True, "fraction": audit_fraction}]
        record: dict[str, Any] = {
            "image": image, "action": action, "decidedBy": "model",
            "labels": [lab.to_dict() for lab in result.labels], "reasons": reasons,
            "modelVersion": result.model_version, "decidedAt": _now(),
        }
        if action == "review":
            if result.human_loop_arn:
                record["humanLoopArn"] = result.human_loop_arn
            elif review is not None:
                record["reviewTask"] = review.submit(result)
        _write(store, ledger_uri(out_prefix, image), record)
        if image in released:
            with suppress(UsageError):
                quarantine.readmitted(record_id(QUARANTINE_STAGE, image), by=out_prefix)
        return record

    bar = _progress(progress, len(todo))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(decide, image): image for image in todo}
        for fut in as_completed(futures):
            image = futures[fut]
            try:
                fut.result()
            except Exception as exc:
                if permanent_failure(exc):  # bad input: quarantined, not retried until released
                    entry = quarantine.add(stage=QUARANTINE_STAGE, source=image, reason=str(exc),
                                           record={"image": image})
                    _write(store, ledger_uri(out_prefix, image),
                           {"image": image, "action": "quarantined", "quarantineId": entry.id,
                            "reason": str(exc)[:300], "decidedAt": _now()})
                    bar(1)
                    continue
                # recorded, retried by the next run
                report.errors += 1
                report.failed.append({"image": image, "error": f"{type(exc).__name__}: {exc}"[:300]})
                log.warning("moderation failed for one image (%s)", type(exc).__name__)
            bar(1)
    bar(None)

    # Tally from the ledger (so human decisions made since the last run count), move unsafe aside.
    # The ledger, not the listing, is the whole truth: images moved aside by an earlier run
    # are still in the report.
    clean = []
    ledger = read_decisions(store, out_prefix)
    report.images = len({r["image"] for r in ledger} | set(images))
    for rec in ledger:
        image = rec["image"]
        action = rec["action"]
        if action == "safe":
            report.safe += 1
            clean.append({"source-ref": image})
        elif action == "unsafe":
            report.unsafe += 1
            human = rec.get("decidedBy") == "human"
            report.removed.append({"image": image, "decidedBy": rec.get("decidedBy"),
                                   "reasons": rec.get("review", {}).get("verdicts") if human else rec.get("reasons"),
                                   **({"added": rec.get("review", {}).get("added", {})} if human else {})})
            if quarantine_prefix and not rec.get("movedTo"):
                rec["movedTo"] = _move(store, image, prefix, quarantine_prefix)
                _write(store, ledger_uri(out_prefix, image), rec)
                report.moved += 1
        elif action == "review":
            report.review += 1
            report.pending_review.append(image)
        elif action == "quarantined":
            report.quarantined += 1
            report.quarantine.append({"image": image, "id": str(rec.get("quarantineId", "")),
                                      "reason": str(rec.get("reason", ""))})

    report.clean_manifest = str(S3Uri.parse(out_prefix).join("clean.manifest"))
    write_manifest(report.clean_manifest, clean, store=store)
    report.seconds = round(time.perf_counter() - t0, 3)
    report.report_uri = str(S3Uri.parse(out_prefix).join("report.json"))
    _write(store, report.report_uri, report.to_dict())
    store.put_text(str(S3Uri.parse(out_prefix).join("report.md")), to_markdown(report), content_type="text/markdown")
    log.info("screened %d images: %d safe, %d unsafe, %d review, %d quarantined, %d errors, %d skipped",
             report.images, report.safe, report.unsafe, report.review, report.quarantined, report.errors,
             report.skipped)
    return report


def _still_quarantined(quarantine: Any, rec: Mapping[str, Any]) -> bool:
    """A ledger record of a quarantined image stays while its entry is not released."""
    try:
        return bool(quarantine.get(str(rec.get("quarantineId", ""))).status == "quarantined")
    except UsageError:  # entry gone (or the id unreadable): screen the image again
        return False



def _move(store: ObjectStore, image: str, prefix: str, quarantine_prefix: str) -> str:
    rel = image[len(prefix):].lstrip("/") if image.startswith(prefix) else S3Uri.parse(image).key
    dest = str(S3Uri.parse(quarantine_prefix).join(rel))
    if not store.exists(dest):
        store.put_bytes(dest, store.get_bytes(image))
    store.delete(image)
    return dest


def _progress(enabled: bool, total: int) -> Callable[[int | None], None]:
    if not enabled or total == 0:
        return lambda n: None
    from rich.progress import Progress

    prog = Progress(transient=True)
    prog.start()
    task = prog.add_task("screening", total=total)

    def step(n: int | None) -> None:
        if n is None:
            prog.stop()
        else:
            prog.advance(task, n)

    return step


def to_markdown(report: ScreenReport) -> str:
    lines = [
        "# Screening report", "",
        f"{report.images} images: {report.safe} safe, {report.unsafe} unsafe, {report.review} awaiting review, "
        f"{report.quarantined} quarantined, {report.errors} errors ({report.skipped} decided by an earlier run).", "",
        "## Removed", "", "| image | decided by | why |", "|---|---|---|",
    ]
    for r in report.removed:
        why = r["reasons"]
        if isinstance(why, list):
            why = ", ".join(f"{x['label']} {x['confidence']:.0f}% ≥ {x['threshold']:.0f}" for x in why)
        elif isinstance(why, dict):
            why = ", ".join([f"{k}: {v['confirmed']} confirmed" for k, v in why.items() if v["confirmed"]]
                            + [f"{k}: added by {n}" for k, n in (r.get("added") or {}).items()])
        lines.append(f"| {r['image']} | {r['decidedBy']} | {why} |")
    if report.pending_review:
        lines += ["", "## Awaiting human review", ""] + [f"- {i}" for i in report.pending_review]
    if report.quarantine:
        lines += ["", "## Quarantined (bad input; gtflow quarantine release ID re-admits one)", ""] + [
            f"- {q['image']} ({q['id']}): {q['reason']}" for q in report.quarantine]
    if report.failed:
        lines += ["", "## Errors (retried on the next run)", ""] + [f"- {f['image']}: {f['error']}" for f in report.failed]
    return "\n".join(lines) + "\n"


def labels_of(record: Mapping[str, Any]) -> list[ModerationLabel]:
    return [ModerationLabel(d["name"], d.get("parentName", ""), float(d["confidence"]), int(d.get("taxonomyLevel", 1)))
            for d in record.get("labels", [])]
