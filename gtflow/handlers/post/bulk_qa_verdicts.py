"""Post-annotation for bulk label QA (and label verification): per-item verdicts + the verdict table.

For each batch object the batch file (``dataObject.s3Uri``) is read again to map item indexes
to images; the label value lists per image how many workers confirmed and rejected it, and one
verdict per (image, label, worker) is recorded in the verdict table. The table stores each
(item, worker) once, so a re-delivered event changes no count.

Options: ``mode`` (``bulk-qa`` | ``verification``), ``widget`` (``confirmed`` / ``verification``),
``label`` (verification mode: the label being verified, for the verdict table),
``workers_per_object``.

Batch files and answers in the format of AWS's bulk-QA sample (a JSON array of
``{s3_image_url, label, confidence}``; answers ``{"<label>-<i>": {"Confirmed": bool}}``) are read
too (:mod:`gtflow.wire.bulk_qa_sample`), so jobs started from that sample can be consolidated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gtflow.consolidate.verification import consolidate_bulk_qa, consolidate_verification
from gtflow.errors import ConfigError, ContractError, GtflowError
from gtflow.handlers.post._common import load
from gtflow.handlers.runtime import check_options, default_verdicts, read_json
from gtflow.logs import get_logger
from gtflow.wire import bulk_qa_sample as sample

__all__ = ["handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ("mode", "widget", "label", "workers_per_object")
log = get_logger(__name__)


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> list[dict[str, Any]]:
    opts = check_options(options, OPTIONS, "post/bulk-qa-verdicts")
    _, objects, ctx = load(event, store, opts)
    mode = opts.get("mode", "bulk-qa")
    if mode == "bulk-qa":
        batches: dict[str, Any] = {}
        for obj in objects:
            src = obj.source
            if src is None or src in batches:
                continue
            try:
                batches[src] = read_json(store, src)
            except GtflowError as exc:  # this object fails; the batch goes on
                batches[src] = exc
        widget = opts.get("widget", "confirmed")
        seen: dict[str, Any] = {}
        objects = [_from_sample(obj, batches, widget, seen) for obj in objects]  # AWS's bulk-QA sample format
        responses, new = consolidate_bulk_qa(objects, ctx, batches, widget=widget)
    elif mode == "verification":
        responses, new = consolidate_verification(
            objects, ctx, widget=opts.get("widget", "verification"), label=opts.get("label"))
    else:
        raise ConfigError("mode must be 'bulk-qa' or 'verification'", field="mode")
    if new:
        table = verdicts if verdicts is not None else default_verdicts(store)
        added = table.record_many(new)
        log.info("verdicts recorded new=%d repeated=%d", added, len(new) - added)
    return responses


def _from_sample(obj: Any, batches: dict[str, Any], widget: str, seen: dict[str, Any]) -> Any:
    """A data object whose batch file is in the AWS bulk-QA sample's format, as gtflow's: the
    batch converted in ``batches``, each answer converted (or left as a problem naming the key).
    ``seen`` keeps each converted batch's items (several objects may share a batch file)."""
    src = obj.source
    if src is None or (src not in seen and not sample.is_sample_batch(batches.get(src))):
        return obj
    if src not in seen:
        try:
            seen[src] = sample.parse_sample_batch(batches[src])
            batches[src] = sample.to_gtflow_batch(seen[src], batch_id=src.rsplit("/", 1)[-1].removesuffix(".json"))
        except ContractError as exc:
            seen[src] = batches[src] = exc
    items = seen[src]
    if isinstance(items, Exception):
        return obj
    answers, problems = [], list(obj.problems)
    for ans in obj.answers:
        try:
            answers.append(replace(ans, content=sample.to_gtflow_answer(ans.content, items, widget=widget)))
        except ContractError as exc:
            problems.append(f"{exc} (worker {ans.worker_id})")
    return replace(obj, answers=tuple(answers), problems=tuple(problems))
