"""Annotation consolidation: pure, order-independent functions usable in Lambda and locally.

* :mod:`gtflow.consolidate.request` — the consolidation request read into per-object answers,
  failure entries in GT's form;
* :mod:`gtflow.consolidate.boxes` — bounding boxes (IoU clustering per label, fused boxes,
  agreement confidence) → ``groundtruth/object-detection``;
* :mod:`gtflow.consolidate.classes` — single/multi-label classification by majority vote
  (first-category tie rule) or Dawid–Skene;
* :mod:`gtflow.consolidate.verification` — bulk QA verdicts and label verification.

Every consolidator returns a response list with each ``datasetObjectId`` exactly once: an
object without enough usable answers gets ``<attr>-metadata`` in GT's failure form instead of
a label, and the rest of the batch goes on.
"""

from __future__ import annotations

from gtflow.consolidate.boxes import Box, FusedBox, cluster_boxes, consolidate_boxes
from gtflow.consolidate.classes import consolidate_classification, dawid_skene, majority_label
from gtflow.consolidate.request import (
    ConsolidationContext,
    ObjectAnswers,
    WorkerAnswer,
    parse_request,
)
from gtflow.consolidate.verification import consolidate_bulk_qa, consolidate_verification

__all__ = [
    "Box",
    "FusedBox",
    "cluster_boxes",
    "consolidate_boxes",
    "consolidate_classification",
    "dawid_skene",
    "majority_label",
    "ConsolidationContext",
    "ObjectAnswers",
    "WorkerAnswer",
    "parse_request",
    "consolidate_bulk_qa",
    "consolidate_verification",
]
