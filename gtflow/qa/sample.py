"""Jobs started from AWS's bulk-QA sample, brought into gtflow.

* :func:`convert_sample_batches` turns the sample's manifest and batch files (JSON arrays of
  ``{s3_image_url, label, confidence}``) into gtflow's batches and ``batches.manifest``, so the
  same images can be run again as a gtflow bulk-QA job;
* :func:`read_sample_table` / :func:`scan_sample_table` read the sample's own verdict table
  (DynamoDB: ``s3_image_url``, ``label``, ``confidence``, ``WorkerConfirmCount``,
  ``WorkerDisconfirmCount``) from an export file or a ``Scan``, as gtflow verdicts, so its
  counts can be analysed at once (``gtflow qa import-sample-table``);
* :func:`import_sample_requests` replays an existing job's consolidation requests (Ground
  Truth keeps them under ``<output>/<job>/annotations/consolidated-annotation/consolidation-request/``)
  through the ``post/bulk-qa-verdicts`` handler, which reads the sample's batches and answers,
  so the verdicts land in the verdict table and ``gtflow qa export`` / ``report`` /
  ``thresholds`` analyse them. The table stores each (item, worker) once, so a rerun adds nothing.

The formats are parsed in :mod:`gtflow.wire.bulk_qa_sample`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ContractError, UsageError
from gtflow.logs import get_logger
from gtflow.manifest.writer import write_manifest
from gtflow.uris import S3Uri
from gtflow.wire import bulk_qa_sample as sample
from gtflow.wire.gt_lambda import ConsolidationResponseItem
from gtflow.wire.output import metadata_key

__all__ = ["SampleImport", "convert_sample_batches", "import_sample_requests", "post_event",
           "read_sample_table", "scan_sample_table"]

log = get_logger(__name__)
# A failed object is reported under its id key, as the consolidation response spells it.
ID_KEY = ConsolidationResponseItem.key_of("dataset_object_id")


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "label"


def convert_sample_batches(store: Any, manifest_uri: str, prefix: str) -> dict[str, Any]:
    """Write gtflow batch files and ``<prefix>/batches.manifest`` for the sample's manifest.

    Batch ids keep the sample's file name (``custom-labeling-inputs/3.json`` → ``<label>-3``).
    Errors name the manifest line or the batch file and the field.
    """
    from gtflow.manifest import read_manifest

    root = prefix.rstrip("/")
    S3Uri.parse(root + "/")
    lines = []
    items = 0
    for n, rec in read_manifest(manifest_uri, store=store):
        src = rec.get("source-ref")
        if not isinstance(src, str):
            raise ContractError("the line has no source-ref naming a batch file", path=manifest_uri, line=n,
                                field="source-ref")
        try:
            batch = sample.parse_sample_batch(json.loads(store.get_text(src)))
            stem = src.rsplit("/", 1)[-1].removesuffix(".json")
            batch_id = f"{_slug(batch[0].label)}-{stem}" if batch else stem
            out = sample.to_gtflow_batch(batch, batch_id=batch_id)
        except ContractError as exc:
            raise exc.at(path=src) from exc.__cause__
        except ValueError as exc:
            raise ContractError(f"not JSON: {exc}", path=src) from exc
        uri = f"{root}/batches/{batch_id}.json"
        store.put_text(uri, json.dumps(out, ensure_ascii=False), content_type="application/json")
        lines.append({"source-ref": uri, "label": out["label"], "batchId": batch_id, "itemCount": len(out["items"])})
        items += len(out["items"])
    manifest = f"{root}/batches.manifest"
    write_manifest(manifest, lines, store=store)
    return {"manifest": manifest, "batches": len(lines), "items": items}


def post_event(payload_uri: str, *, job_name: str, label_attribute_name: str = "bulk-qa") -> dict[str, Any]:
    """A post-annotation event for one consolidation request of the job ``job_name``."""
    return {
        "version": "2018-10-06",
        "labelingJobArn": f"arn:aws:sagemaker:us-east-1:000000000000:labeling-job/{job_name}",
        "labelAttributeName": label_attribute_name,
        "roleArn": "arn:aws:iam::000000000000:role/gtflow-import",
        "payload": {"s3Uri": payload_uri},
    }


@dataclass
class SampleImport:
    requests: int = 0
    objects: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # objects that could not be consolidated

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_sample_requests(store: Any, requests_prefix: str, *, job_name: str, verdicts: Any,
                           label_attribute_name: str = "bulk-qa") -> SampleImport:
    """Replay every consolidation request under ``requests_prefix`` through
    ``post/bulk-qa-verdicts`` into ``verdicts`` (a verdict table). Idempotent."""
    from gtflow.handlers.post import bulk_qa_verdicts

    if not job_name:
        raise UsageError("a job name is needed: the verdicts are kept per job", field="job_name")
    out = SampleImport()
    uris = sorted(o.uri for o in store.list(requests_prefix) if o.uri.endswith(".json"))
    if not uris:
        raise UsageError(f"no consolidation request (*.json) under {requests_prefix}", path=requests_prefix)
    for uri in uris:
        responses = bulk_qa_verdicts.handle(post_event(uri, job_name=job_name, label_attribute_name=label_attribute_name),
                                            store=store, verdicts=verdicts)
        out.requests += 1
        out.objects += len(responses)
        for r in responses:
            item = ConsolidationResponseItem.from_dict(r)
            meta = item.label(metadata_key(label_attribute_name)) or {}
            if "failure-reason" in meta:
                out.failed.append({"request": uri, ID_KEY: item.dataset_object_id,
                                   "reason": str(meta["failure-reason"])})
    log.info("imported %d consolidation requests, %d objects, %d failed", out.requests, out.objects, len(out.failed))
    return out


def _verdicts(items: Any, where: str) -> list[Any]:
    from gtflow.qa.records import Verdict

    out = []
    for i, raw in items:
        try:
            item = sample.parse_table_item(raw)
        except ContractError as exc:
            raise exc.at(path=where, line=i) from exc.__cause__
        if item.confidence is None:
            raise ContractError("the item has no confidence; verdicts without one cannot be analysed",
                                path=where, line=i, field="confidence")
        out.append(Verdict.from_dict(item.to_verdict()))
    return out


def read_sample_table(source: str, *, store: Any = None) -> list[Any]:
    """Verdicts from an export of the sample's DynamoDB table: JSON Lines (typed items, an S3
    export's ``{"Item": ...}`` lines, or plain objects), a JSON array, or a CSV with the table's
    column names. ``source`` is a path or, with ``store``, an ``s3://`` URI. Errors name the
    line (or item) and the field."""
    import csv
    import io
    from pathlib import Path

    text = store.get_text(source) if source.startswith("s3://") and store is not None else Path(source).read_text(
        encoding="utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = json.loads(text)
        return _verdicts(enumerate(data, start=1), source)
    if stripped.startswith("{"):
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((n, json.loads(line)))
                except ValueError as exc:
                    raise ContractError(f"not JSON: {exc}", path=source, line=n) from exc
        return _verdicts(rows, source)
    reader = csv.DictReader(io.StringIO(text))
    return _verdicts(((n, {k: v for k, v in row.items() if v not in (None, "")})
                      for n, row in enumerate(reader, start=2)), source)


def scan_sample_table(client: Any, table_name: str) -> list[Any]:
    """Verdicts from a ``Scan`` of the sample's DynamoDB table (every page)."""
    items = []
    for page in client.get_paginator("scan").paginate(TableName=table_name):
        items += page.get("Items", [])
    return _verdicts(enumerate(items, start=1), f"dynamodb:{table_name}")
