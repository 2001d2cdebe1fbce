"""Post-annotation: image classification (single or multi-label) by majority vote or Dawid–Skene.

Options: ``widget`` (the classifier's name; by default the one widget holding ``label`` or
``labels``), ``labels`` (class order when the event has no ``labelCategories``), ``method``
(``majority`` | ``dawid-skene``), ``multilabel`` (true/false; default: per object, from the
answers), ``workers_per_object``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.classes import consolidate_classification
from gtflow.handlers.post._common import load
from gtflow.handlers.runtime import check_options

__all__ = ["handle", "OPTIONS"]

OPTIONS: tuple[str, ...] = ("widget", "labels", "method", "multilabel", "workers_per_object")


def handle(event: Mapping[str, Any], *, store: Any, options: Mapping[str, Any] | None = None,
           verdicts: Any = None) -> list[dict[str, Any]]:
    opts = check_options(options, OPTIONS, "post/classification")
    _, objects, ctx = load(event, store, opts)
    opts.pop("workers_per_object", None)
    return consolidate_classification(objects, ctx, **opts)
