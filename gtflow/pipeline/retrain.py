"""``gtflow retrain``: the scheduled, crash-safe retraining run.

One run: read the watermark → collect human answers completed since → convert them to an
augmented manifest → merge into the training manifest and validate → train incrementally from
the current model → evaluate new vs current on the held-out set → promote only if better beyond
the evaluation's noise and the margin → record lineage → advance the watermark (last, by compare-and-swap).

Every answer read ends used, quarantined (a typed error: unreadable, unconvertible, only
degenerate boxes, rejected by the lint; see :mod:`gtflow.pipeline.intake`) or skipped (a newer
answer for the same image), and the result and lineage count all three. A quarantined answer
never blocks a later run: the run goes on with the rest and the watermark moves past it; an
operator who fixes it re-admits it (``gtflow quarantine release``) and the next run uses it.

Only one run of a pipeline works at a time: a lease in the store (``<state>/lease.json``, with
an expiry that the holder renews) makes a second ``gtflow retrain`` wait for the first and then
find its work done, instead of training twice; a crashed holder's lease simply expires.

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

from gtflow.errors import ConfigError, ContractError, GtflowError, ObjectNotFoundError
from gtflow.logs import get_logger
from gtflow.manifest.review import check_reviewed_line
from gtflow.pipeline.intake import Conversion, Intake, convert_answers
from gtflow.pipeline.lease import Lease
from gtflow.pipeline.registry import ModelRegistry
from gtflow.pipeline.stages import StageRunner
from gtflow.pipeline.watermark import (
    CompletedAnswer,
    Watermark,
    load_watermark,
    save_watermark,
    select_new,
)
from gtflow.quarantine import Quarantine
from gtflow.store.base import ObjectStore
from gtflow.strict_json import dumps_strict, finite
from gtflow.uris import S3Uri

__all__ = ["RetrainConfig", "RetrainServices", "RetrainResult", "retrain", "run_id_for", "promotion_reason"]

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
    #: a run holds the pipeline's lease this long between renewals (a crashed run blocks no longer)
    lease_seconds: float = 600.0
    #: a second run waits at most this long for the first to finish (then fails; rerun it)
    lease_wait_seconds: float = 6 * 3600.0

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
        for key in ("lease_seconds", "lease_wait_seconds"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1e9:
                raise ConfigError("must be a positive number of seconds", field=key)

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
    #: answers -> augmented-manifest records (GT bounding-box label + metadata): a
    #: :class:`~gtflow.pipeline.intake.Conversion` (lines per answer, refusals) or one line per answer
    to_records: Callable[[Sequence[CompletedAnswer]], Conversion | list[dict[str, Any]]]
    #: (previous manifest uri, reviewed records, out uri) -> stats; writes + validates the merge
    merge: Callable[[str, list[dict[str, Any]], str], Mapping[str, Any]]
    #: (job name, train manifest, held-out manifest, base model uri or None) -> {"model_uri", ...}
    train: Callable[[str, str, str, str | None], Mapping[str, Any]]
    #: (model uri, manifest uri) -> metrics {"map50": ..., ...}
    evaluate: Callable[[str, str], Mapping[str, Any]]
    registry: ModelRegistry
    #: (current model uri, candidate uri, manifest uri) -> a paired-bootstrap interval of the
    #: map50 difference (:meth:`gtflow.training.comparison.MapComparison.to_dict`), or None
    #: where the backend has no per-image results; then only ``promotion_margin`` guards
    compare: Callable[[str, str, str], Mapping[str, Any] | None] | None = None
    clock: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class RetrainResult:
    status: str  # "nothing-new" | "promoted" | "rejected" | "nothing-usable" (all read were left out)
    #: why promoted or rejected: "first-model" | "better" | "within-noise" | "below-margin" | "worse"
    reason: str | None = None
    run_id: str | None = None
    answers_used: int = 0
    #: read = used + quarantined + skipped; plus reviewer boxes clipped / dropped as degenerate
    counts: Mapping[str, int] = field(default_factory=dict)
    job_name: str | None = None
    model_uri: str | None = None
    metrics_before: Mapping[str, Any] | None = None
    metrics_after: Mapping[str, Any] | None = None
    lineage_uri: str | None = None
    stages_reused: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    #: the paired-bootstrap interval of the metric's change, when the backend gives one
    comparison: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def run_id_for(name: str, wm: Watermark, answers: Sequence[CompletedAnswer], readmitted: Sequence[str] = ()) -> str:
    """Deterministic: the same watermark and answers give the same run (and job) names."""
    h = hashlib.sha256()
    h.update((wm.value.isoformat() if wm.value else "-").encode())
    h.update((wm.training_manifest or "-").encode())
    for a in sorted(answers, key=lambda a: a.name):
        h.update(b"\0" + a.name.encode())
    for r in sorted(readmitted):  # "<quarantine id>@<released at>": a second release is a new run
        h.update(b"\1" + r.encode())
    return f"{name}-{h.hexdigest()[:12]}"


def _claim_uri(config: RetrainConfig, wm: Watermark) -> str:
    key = hashlib.sha256(json.dumps(wm.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    return str(S3Uri.parse(config.state_prefix).join("claims", f"{key}.json"))


def _answer_of(c: Mapping[str, Any], where: str) -> CompletedAnswer:
    try:
        return CompletedAnswer(str(c["name"]), _dt.datetime.fromisoformat(str(c["completedAt"])), str(c["outputUri"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"not a claimed answer: {exc}", path=where) from exc


def promotion_reason(before: Mapping[str, Any] | None, after: Mapping[str, Any],
                     comparison: Mapping[str, Any] | None, metric: str, margin: float) -> str:
    """Why a candidate is promoted ("first-model", "better") or not ("within-noise",
    "below-margin", "worse").

    With a paired-bootstrap ``comparison`` the whole interval of the change must lie above
    ``margin`` (and above zero): a change inside the evaluation's noise is never an improvement.
    Without one (a backend with no per-image results) the change must reach ``margin``.

    >>> promotion_reason({"map50": 0.5}, {"map50": 0.52}, {"low": -0.01, "high": 0.05}, "map50", 0.0)
    'within-noise'
    >>> promotion_reason({"map50": 0.5}, {"map50": 0.58}, {"low": 0.03, "high": 0.12}, "map50", 0.0)
    'better'
    """
    if before is None:
        return "first-model"
    delta = float(after[metric]) - float(before[metric])
    if comparison is not None:
        low, high = float(comparison["low"]), float(comparison["high"])
        if high < 0:
            return "worse"
        if low <= 0:
            return "within-noise"
        return "better" if low >= margin else "below-margin"
    if delta < 0:
        return "worse"
    return "better" if delta >= margin and delta > 0 else "below-margin"


def _claim(
    store: ObjectStore, config: RetrainConfig, wm: Watermark,
    completed: Callable[[], Sequence[CompletedAnswer]], quarantine: Quarantine,
) -> tuple[list[CompletedAnswer], Watermark, dict[str, str]]:
    """The answers this watermark's run uses, fixed by the first attempt, and the quarantine
    entries re-admitted into it (answer name -> ``id@releasedAt``).

    A rerun after a crash finishes the same run even if more answers arrived (or were released
    from the quarantine) meanwhile; they go to the next run.
    """
    claim_uri = _claim_uri(config, wm)
    try:
        claim = json.loads(store.get_bytes(claim_uri))
    except ObjectNotFoundError:
        claim = None
    except ValueError as exc:
        raise ContractError(f"corrupt claim: {exc}", path=claim_uri) from exc
    if claim is None:
        new, _ = select_new(completed(), wm)
        fresh = {a.name for a in new}
        released = [r for r in quarantine.list(status="released", stage="retrain")
                    if r.record.get("name") and r.record.get("name") not in fresh]
        if len(new) + len(released) < config.min_answers:
            return new, wm, {}
        body = [{"name": a.name, "completedAt": a.completed_at.isoformat(), "outputUri": a.output_uri} for a in new]
        body += [{**dict(r.record), "readmitted": f"{r.id}@{r.released_at}"} for r in released]
        store.put_if_absent(claim_uri, json.dumps(body).encode(), content_type="application/json")
        claim = json.loads(store.get_bytes(claim_uri))
    if not isinstance(claim, list):
        raise ContractError("a claim is a list of answers", path=claim_uri)
    readmitted = {str(c["name"]): str(c["readmitted"]) for c in claim if isinstance(c, dict) and c.get("readmitted")}
    fresh_answers = [_answer_of(c, claim_uri) for c in claim if not (isinstance(c, dict) and c.get("readmitted"))]
    new, next_wm = select_new(fresh_answers, wm)
    again = [_answer_of(c, claim_uri) for c in claim if isinstance(c, dict) and c.get("readmitted")]
    return new + again, next_wm, readmitted


def _intake(config: RetrainConfig, services: RetrainServices, answers: Sequence[CompletedAnswer],
            quarantine: Quarantine) -> Intake:
    """Convert and check every answer; quarantine the bad ones (see :mod:`gtflow.pipeline.intake`)."""
    by_name = {a.name: a for a in answers}
    conv = convert_answers(services.to_records, answers)
    out = Intake(read=len(answers))
    refused: dict[str, str] = dict(conv.refused)
    num_classes = None if config.allow_new_classes else len(config.class_map)
    checked: list[tuple[CompletedAnswer, dict[str, Any]]] = []
    for name, line in conv.records:
        if name in refused or name not in by_name:
            continue
        try:
            line, clipped, degenerate = check_reviewed_line(line, config.label_attribute, num_classes)
        except GtflowError as exc:
            refused[name] = str(exc.at(path=by_name[name].output_uri))
            continue
        out.clipped_boxes += clipped
        out.degenerate_boxes += degenerate
        checked.append((by_name[name], line))
    for a in answers:  # an answer the backend returned nothing for is not silently lost
        if a.name not in refused and not any(c[0].name == a.name for c in checked):
            refused[a.name] = "the backend produced no manifest line for this answer"
    # one line per image: the newest answer wins, the others are skipped (counted, not lost)
    newest: dict[str, tuple[CompletedAnswer, dict[str, Any]]] = {}
    for a, line in checked:
        ref = str(line.get("source-ref"))
        cur = newest.get(ref)
        if cur is None or (a.completed_at, a.name) > (cur[0].completed_at, cur[0].name):
            if cur is not None:
                out.skipped.append((cur[0], f"a newer answer for {ref} in this run: {a.name}"))
            newest[ref] = (a, line)
        else:
            out.skipped.append((a, f"a newer answer for {ref} in this run: {cur[0].name}"))
    out.used = [newest[ref] for ref in sorted(newest)]
    for a in answers:
        if a.name in refused:
            out.quarantined.append((a, refused[a.name]))
            quarantine.add(stage="retrain", source=a.output_uri, reason=refused[a.name],
                           record={"name": a.name, "completedAt": a.completed_at.isoformat(), "outputUri": a.output_uri})
    return out


def retrain(config: RetrainConfig, services: RetrainServices) -> RetrainResult:
    """Run one retraining round (see the module docstring). Safe to rerun after any failure,
    and safe to start twice: the second waits for the first (the lease) and finds its work done."""
    with Lease(services.store, str(S3Uri.parse(config.state_prefix).join("lease.json")),
               ttl=config.lease_seconds, wait=config.lease_wait_seconds):
        return _retrain(config, services)


def _retrain(config: RetrainConfig, services: RetrainServices) -> RetrainResult:
    store = services.store
    quarantine = Quarantine(store, config.state_prefix, clock=services.clock)
    wm_uri = str(S3Uri.parse(config.state_prefix).join("watermark.json"))
    wm, etag = load_watermark(store, wm_uri)
    new, next_wm, readmitted = _claim(store, config, wm, services.completed_answers, quarantine)
    if len(new) < config.min_answers:
        log.info("retrain %s: %d new answers (< %d); nothing to do", config.name, len(new), config.min_answers)
        # too few to run: not read, not lost; they wait for the next run (the watermark stays)
        return RetrainResult("nothing-new", answers_used=0,
                             counts={"read": 0, "used": 0, "quarantined": 0, "skipped": 0, "waiting": len(new)})

    run_id = run_id_for(config.name, wm, new, list(readmitted.values()))
    stages = StageRunner(store, config.state_prefix, run_id)
    previous_manifest = wm.training_manifest or config.training_manifest
    log.info("retrain run %s: %d answers since %s (%d re-admitted)", run_id, len(new), wm.value, len(readmitted))

    def convert() -> dict[str, Any]:
        intake = _intake(config, services, new, quarantine)
        uri = f"{stages.prefix}/reviewed.manifest"
        body = "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
                       for _, line in intake.used)
        store.put_text(uri, body, content_type="application/jsonlines")
        return {"uri": uri, "lines": len(intake.used), "answers": [a.name for a, _ in intake.used],
                "outputs": [a.output_uri for a, _ in intake.used],
                "quarantined": [{"name": a.name, "outputUri": a.output_uri, "reason": why} for a, why in intake.quarantined],
                "skipped": [{"name": a.name, "outputUri": a.output_uri, "reason": why} for a, why in intake.skipped],
                "counts": intake.counts()}

    reviewed = stages.run("convert", convert)
    counts = dict(reviewed.get("counts") or {"read": len(new), "used": reviewed["lines"], "quarantined": 0, "skipped": 0})
    if counts["quarantined"]:
        log.warning("retrain run %s: %d of %d answers quarantined (gtflow quarantine list)", run_id,
                    counts["quarantined"], counts["read"])
    lineage_uri = str(S3Uri.parse(config.state_prefix).join("lineage", f"{run_id}.json"))

    def record_lineage(decision: Mapping[str, Any], merged: Mapping[str, Any] | None,
                       trained: Mapping[str, Any] | None, metrics: Mapping[str, Any] | None) -> dict[str, Any]:
        record = {
            "runId": run_id,
            "pipeline": config.name,
            "watermark": {"from": wm.to_dict(), "to": next_wm.to_dict()},
            "answers": reviewed["answers"],
            "answerOutputs": reviewed["outputs"],
            "quarantined": reviewed.get("quarantined", []),
            "skipped": reviewed.get("skipped", []),
            "readmitted": sorted(readmitted),
            "counts": counts,
            "manifests": {"reviewed": reviewed["uri"], "previousTraining": previous_manifest,
                          "training": merged["uri"] if merged else None, "heldout": config.heldout_manifest},
            "mergeStats": merged["stats"] if merged else None,
            "model": {"jobName": trained["job_name"], "modelUri": trained["model_uri"],
                      "baseModel": trained.get("base_model")} if trained else None,
            "metrics": {"before": metrics["current"], "after": metrics["candidate"], "metric": config.metric,
                        "margin": config.promotion_margin, "comparison": metrics.get("comparison")} if metrics else None,
            "decision": decision["decision"],
            "reason": decision.get("reason"),
            "recordedAt": services.clock().isoformat(),
        }
        store.put_text(lineage_uri, dumps_strict(record, indent=1), content_type="application/json")
        return {"uri": lineage_uri}

    def finish(next_manifest: str) -> None:
        save_watermark(store, wm_uri, Watermark(next_wm.value, next_wm.seen, next_manifest), etag)
        for name, ref in readmitted.items():
            if name in reviewed["answers"] or any(s["name"] == name for s in reviewed.get("skipped", [])):
                quarantine.readmitted(ref.split("@", 1)[0], run_id)

    if not reviewed["answers"]:  # everything read was quarantined or skipped: nothing to train on
        stages.run("lineage", lambda: record_lineage({"decision": "nothing-usable"}, None, None, None))
        finish(previous_manifest)
        return RetrainResult("nothing-usable", run_id=run_id, counts=counts, lineage_uri=lineage_uri,
                             stages_reused=tuple(stages.reused), timings=dict(stages.timings))

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
        comparison = None
        if current and services.compare is not None and config.metric == "map50":
            found = services.compare(current["model_uri"], trained["model_uri"], config.heldout_manifest)
            comparison = finite(dict(found)) if found is not None else None
        return {"current": finite(before), "candidate": finite(after), "comparison": comparison}

    metrics = stages.run("evaluate", evaluate)

    def promote() -> dict[str, Any]:
        before, after = metrics["current"], metrics["candidate"]
        score = after.get(config.metric)
        if score is None:  # NaN (nothing to measure) is recorded as null and never promotes
            return {"decision": "rejected", "reason": "no-score", "kept": current["model_uri"] if current else None}
        if before is not None and before.get(config.metric) is None:
            before = None  # the current model has no score: nothing to compare with
        reason = promotion_reason(before, after, metrics.get("comparison"), config.metric, config.promotion_margin)
        if reason not in ("first-model", "better"):
            return {"decision": "rejected", "reason": reason, "kept": current["model_uri"] if current else None}
        entry = {"model_uri": trained["model_uri"], "job_name": trained["job_name"], "run_id": run_id,
                 "metrics": after, "training_manifest": merged["uri"]}
        services.registry.promote(entry)
        return {"decision": "promoted", "reason": reason, "model_uri": trained["model_uri"]}

    decision = stages.run("promote", promote)
    stages.run("lineage", lambda: record_lineage(decision, merged, trained, metrics))
    finish(merged["uri"])
    return RetrainResult(
        status=decision["decision"], reason=decision.get("reason"), run_id=run_id,
        answers_used=len(reviewed["answers"]), counts=counts, job_name=trained["job_name"],
        model_uri=trained["model_uri"], metrics_before=metrics["current"], metrics_after=metrics["candidate"],
        lineage_uri=lineage_uri, stages_reused=tuple(stages.reused), timings=dict(stages.timings),
        comparison=metrics.get("comparison"),
    )
