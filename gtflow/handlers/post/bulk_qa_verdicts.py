"""Post-annotation for bulk label QA (and label verification): per-item verdicts + the verdict table.

For each batch object the batch file (``dataObject.s3Uri``) is read again to map item indexes
to images; the label value lists per image how many workers confirmed and rejected it, and one
verdict per (image, label, worker) is recorded in the verdict table. The table stores each
(item, worker) once, so a re-delivered event changes no count.

Options: ``mode`` (``bulk-qa`` | ``verification``), ``widget`` (``confirmed`` / ``verification``),
``label`` (verification mode: the label being verified, for the verdict table),
``workers_per_object``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.verification import consolidate_bulk_qa, consolidate_verification
from gtflow.errors import ConfigError, GtflowError
from gtflow.handlers.post._common import load
from gtflow.handlers.runtime import check_options, default_verdicts, read_json
from gtflow.logs import get_logger

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
        responses, new = consolidate_bulk_qa(objects, ctx, batches, widget=opts.get("widget", "confirmed"))
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
