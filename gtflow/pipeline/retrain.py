"""``gtflow retrain``: the scheduled, crash-safe retraining run.

One run: read the watermark → collect human answers completed since → convert them to an
augmented manifest → merge into the training manifest and validate → train incrementally from
the current model → evaluate new vs current on the held-out set → promote only if better by a
margin → record lineage → advance the watermark (last, by compare-and-swap).

The run id, and so every job name and output key, derives from the watermark and the answers it
uses. Each stage records its result once (:class:`~gtflow.pipeline.stages.StageRunner`), so a run
that fails at any stage and is started again reaches the same end state with the same names.
The work itself is done by :class:`RetrainServices`, which the local and AWS backends provide.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtflow.errors import ConfigError, ObjectNotFoundError
from gtflow.logs import get_logger
from gtflow.pipeline.registry import ModelRegistry
from gtflow.pipeline.stages import StageRunner
from gtflow.pipeline.watermark import (
    CompletedAnswer,
    Watermark,
    load_watermark,
    save_watermark,
    select_new,
)
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["RetrainConfig", "RetrainServices", "RetrainResult", "retrain", "run_id_for"]

log = get_logger(__name__)

_NAME_RE = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")


@dataclass(frozen=True)
class RetrainConfig:
    """What a retraining run works on. Load it with :meth:`from_file` (YAML or JSON)."""

    name: str  # pipeline name: a prefix of run ids and job names
    state_prefix: str  # watermark, stage markers, lineage
    models_prefix: str  # the model registry
    output_prefix: str  # training job outputs
    label_attribute: str
    class_map: Mapping[str, str]  # {"0": "circle", ...}
    training_manifest: str  # the seed training manifest (used until a run advances it)
    heldout_manifest: str  # the fixed evaluation set
    answers: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"flow_definition": "..."}
    metric: str = "map50"
    promotion_margin: float = 0.0
    allow_new_classes: bool = False
    replay_ratio: float | None = None
    min_answers: int = 1
    training: Mapping[str, Any] = field(default_factory=dict)  # passed to the trainer
    backend: str = "local"

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name) or len(self.name) > 24:
            raise ConfigError("name must be lowercase letters, digits and inner '-', at most 24 chars", field="name")
        for key in ("state_prefix", "models_prefix", "output_prefix", "training_manifest", "heldout_manifest"):
            try:
                S3Uri.parse(getattr(self, key))
            except Exception as exc:
                raise ConfigError(str(exc), field=key) from exc
        if self.promotion_margin < 0:
            raise ConfigError("promotion_margin must be >= 0", field="promotion_margin")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str | None = None) -> RetrainConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown keys {unknown}", path=path)
        cmap = d.get("class_map")
        if isinstance(cmap, list):
            d = {**d, "class_map": {str(i): str(n) for i, n in enumerate(cmap)}}
        try:
            return cls(**d)
        except TypeError as exc:
            raise ConfigError(str(exc), path=path) from exc
        except ConfigError as exc:
            raise exc.at(path=path) from None

    @classmethod
    def from_file(cls, path: str | Path) -> RetrainConfig:
        import yaml

        text = Path(path).read_text()
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"not YAML/JSON: {exc}", path=str(path)) from exc
        if not isinstance(data, dict):
            raise ConfigError("a retrain config is a mapping", path=str(path))
        return cls.from_dict(data, path=str(path))


@dataclass
class RetrainServices:
    """The backend-specific work, as plain callables (easy to fake, easy to fail on purpose)."""

    store: ObjectStore
    #: completed human answers (all of them; the watermark filters)
    completed_answers: Callable[[], Sequence[CompletedAnswer]]
    #: answers -> augmented-manifest records (GT bounding-box label + metadata)
    to_records: Callable[[Sequence[CompletedAnswer]], list[dict[str, Any]]]
    #: (previous manifest uri, reviewed records, out uri) -> stats; writes + validates the merge
    merge: Callable[[str, list[dict[str, Any]], str], Mapping[str, Any]]
    #: (job name, train manifest, held-out manifest, base model uri or None) -> {"model_uri", ...}
    train: Callable[[str, str, str, str | None], Mapping[str, Any]]
    #: (model uri, manifest uri) -> metrics {"map50": ..., ...}
    evaluate: Callable[[str, str], Mapping[str, Any]]
    registry: ModelRegistry
    clock: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class RetrainResult:
    status: str  # "nothing-new" | "promoted" | "rejected"
    run_id: str | None = None
    answers_used: int = 0
    job_name: str | None = None
    model_uri: str | None = None
    metrics_before: Mapping[str, Any] | None = None
    metrics_after: Mapping[str, Any] | None = None
    lineage_uri: str | None = None
    stages_reused: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def run_id_for(name: str, wm: Watermark, answers: Sequence[CompletedAnswer]) -> str:
    """Deterministic: the same watermark and answers give the same run (and job) names."""
    h = hashlib.sha256()
    h.update((wm.value.isoformat() if wm.value else "-").encode())
    h.update((wm.training_manifest or "-").encode())
    for a in sorted(answers, key=lambda a: a.name):
        h.update(b"\0" + a.name.encode())
    return f"{name}-{h.hexdigest()[:12]}"


def _claim(
    store: ObjectStore, config: RetrainConfig, wm: Watermark,
    completed: Callable[[], Sequence[CompletedAnswer]],
) -> tuple[list[CompletedAnswer], Watermark]:
    """The answers this watermark's run uses, fixed by the first attempt.

    A rerun after a crash finishes the same run even if more answers arrived meanwhile; they
    go to the next run.
    """
    key = hashlib.sha256(json.dumps(wm.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    claim_uri = str(S3Uri.parse(config.state_prefix).join("claims", f"{key}.json"))
    try:
        claim = json.loads(store.get_bytes(claim_uri))
    except ObjectNotFoundError:
        claim = None
    if claim is None:
        new, _ = select_new(completed(), wm)
        if len(new) < config.min_answers:
            return new, wm
        body = [{"name": a.name, "completedAt": a.completed_at.isoformat(), "outputUri": a.output_uri} for a in new]
        store.put_if_absent(claim_uri, json.dumps(body).encode(), content_type="application/json")
        claim = json.loads(store.get_bytes(claim_uri))
    answers = [CompletedAnswer(c["name"], _dt.datetime.fromisoformat(c["completedAt"]), c["outputUri"]) for c in claim]
    return select_new(answers, wm)


def retrain(config: RetrainConfig, services: RetrainServices) -> RetrainResult:
    """Run one retraining round (see the module docstring). Safe to rerun after any failure."""
    store = services.store
    wm_uri = str(S3Uri.parse(config.state_prefix).join("watermark.json"))
    wm, etag = load_watermark(store, wm_uri)
    new, next_wm = _claim(store, config, wm, services.completed_answers)
    if len(new) < config.min_answers:
        log.info("retrain %s: %d new answers (< %d); nothing to do", config.name, len(new), config.min_answers)
        return RetrainResult("nothing-new", answers_used=len(new))

    run_id = run_id_for(config.name, wm, new)
    stages = StageRunner(store, config.state_prefix, run_id)
    previous_manifest = wm.training_manifest or config.training_manifest
    log.info("retrain run %s: %d answers since %s", run_id, len(new), wm.value)

    def convert() -> dict[str, Any]:
        records = services.to_records(new)
        uri = f"{stages.prefix}/reviewed.manifest"
        body = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        store.put_text(uri, body, content_type="application/jsonlines")
        return {"uri": uri, "lines": len(records), "answers": [a.name for a in new],
                "outputs": [a.output_uri for a in new]}

    reviewed = stages.run("convert", convert)

    def merge() -> dict[str, Any]:
        records = [json.loads(line) for line in store.get_text(reviewed["uri"]).splitlines() if line]
        uri = f"{stages.prefix}/train.manifest"
        stats = services.merge(previous_manifest, records, uri)
        return {"uri": uri, "previous": previous_manifest, "stats": dict(stats)}

    merged = stages.run("merge", merge)
    current = services.registry.current()

    def train() -> dict[str, Any]:
        base = current["model_uri"] if current else None
        out = services.train(run_id, merged["uri"], config.heldout_manifest, base)
        return {"job_name": run_id, "base_model": base, **dict(out)}

    trained = stages.run("train", train)

    def evaluate() -> dict[str, Any]:
        before = dict(services.evaluate(current["model_uri"], config.heldout_manifest)) if current else None
        after = dict(services.evaluate(trained["model_uri"], config.heldout_manifest))
        return {"current": before, "candidate": after}

    metrics = stages.run("evaluate", evaluate)

    def promote() -> dict[str, Any]:
        before, after = metrics["current"], metrics["candidate"]
        better = before is None or float(after[config.metric]) >= float(before[config.metric]) + config.promotion_margin
        if not better:
            return {"decision": "rejected", "kept": current["model_uri"] if current else None}
        entry = {"model_uri": trained["model_uri"], "job_name": trained["job_name"], "run_id": run_id,
                 "metrics": after, "training_manifest": merged["uri"]}
        services.registry.promote(entry)
        return {"decision": "promoted", "model_uri": trained["model_uri"]}

    decision = stages.run("promote", promote)
    lineage_uri = str(S3Uri.parse(config.state_prefix).join("lineage", f"{run_id}.json"))

    def lineage() -> dict[str, Any]:
        record = {
            "runId": run_id,
            "pipeline": config.name,
            "watermark": {"from": wm.to_dict(), "to": next_wm.to_dict()},
            "answers": reviewed["answers"],
            "answerOutputs": reviewed["outputs"],
            "manifests": {"reviewed": reviewed["uri"], "previousTraining": previous_manifest,
                          "training": merged["uri"], "heldout": config.heldout_manifest},
            "mergeStats": merged["stats"],
            "model": {"jobName": trained["job_name"], "modelUri": trained["model_uri"],
                      "baseModel": trained.get("base_model")},
            "metrics": {"before": metrics["current"], "after": metrics["candidate"], "metric": config.metric,
                        "margin": config.promotion_margin},
            "decision": decision["decision"],
            "recordedAt": services.clock().isoformat(),
        }
        store.put_text(lineage_uri, json.dumps(record, indent=1), content_type="application/json")
        return {"uri": lineage_uri}

    stages.run("lineage", lineage)
    save_watermark(store, wm_uri, Watermark(next_wm.value, next_wm.seen, merged["uri"]), etag)
    return RetrainResult(
        status=decision["decision"], run_id=run_id, answers_used=len(new), job_name=trained["job_name"],
        model_uri=trained["model_uri"], metrics_before=metrics["current"], metrics_after=metrics["candidate"],
        lineage_uri=lineage_uri, stages_reused=tuple(stages.reused), timings=dict(stages.timings),
    )
