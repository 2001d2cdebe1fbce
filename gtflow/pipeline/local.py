"""Retraining services on the local backend: local human loops, local SSD training, local evaluation.

    services = local_services(store, config)   # then gtflow.pipeline.retrain(config, services)

The answers come from A2I ``output.json`` files of a flow definition (local human loops write
them at A2I's key layout); training is :func:`gtflow.training.local_trainer.train_local`
starting from the current model; evaluation predicts the held-out manifest with each model.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.errors import ConfigError, ContractError, GtflowError
from gtflow.logs import get_logger
from gtflow.pipeline.intake import Conversion
from gtflow.pipeline.registry import ModelRegistry
from gtflow.pipeline.retrain import RetrainConfig, RetrainServices
from gtflow.pipeline.watermark import CompletedAnswer
from gtflow.quarantine import Quarantine
from gtflow.store.base import ObjectStore

__all__ = ["local_services", "completed_from_outputs", "evaluate_model", "to_records_from_outputs", "merge_into"]

log = get_logger(__name__)


def completed_from_outputs(outputs: Sequence[Any], *, errors: list[GtflowError] | None = None) -> list[CompletedAnswer]:
    """A completed answer per ``output.json``: completed when its last worker submitted.

    An output whose ``submissionTime`` is not an ISO 8601 time is a :class:`ContractError`
    (appended to ``errors`` and left out when a list is given, else raised).
    """
    out = []
    for item in outputs:
        try:
            times = [_submitted(a.submission_time) for a in item.output.human_answers]
        except ContractError as bad:
            bad.at(path=item.uri)
            if errors is None:
                raise
            errors.append(bad)
            continue
        if not times:
            continue
        out.append(CompletedAnswer(item.output.human_loop_name, max(times), item.uri))
    return out


def _submitted(value: Any) -> _dt.datetime:
    try:
        t = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ContractError(f"not an ISO 8601 time: {str(value)!r:.60}", field="humanAnswers[].submissionTime") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def to_records_from_outputs(
    store: ObjectStore, answers: Sequence[CompletedAnswer], class_map: Mapping[int, str], label_attribute: str,
) -> Conversion:
    """Augmented-manifest lines (GT bounding-box label + metadata) for these loops' answers, per
    answer; answers that cannot be read or converted are refused with the typed error's message."""
    from gtflow.a2i.collect import read_outputs
    from gtflow.a2i.convert import to_manifest_line

    by_uri = {a.output_uri: a.name for a in answers}
    errors: list[GtflowError] = []
    conv = Conversion()
    for item in read_outputs(store, [a.output_uri for a in answers], errors=errors):
        try:
            line = to_manifest_line(item.output, class_map, label_attribute, path=item.uri)
        except GtflowError as exc:
            conv.refused.append((by_uri.get(item.uri, item.output.human_loop_name), str(exc)))
            continue
        conv.records.append((by_uri.get(item.uri, item.output.human_loop_name), line))
    for err in errors:
        conv.refused.append((by_uri.get(str(err.path), str(err.path)), str(err)))
    return conv


def merge_into(
    store: ObjectStore, config: RetrainConfig, previous_uri: str, reviewed: list[dict[str, Any]], out_uri: str,
) -> dict[str, Any]:
    """Merge reviewed lines into the previous training manifest; validate and write it."""
    from gtflow.training.manifests import (
        merge_reviewed,
        read_manifest,
        replay_subset,
        write_manifest,
    )

    class_map = {int(k): v for k, v in config.class_map.items()}
    merged = merge_reviewed(read_manifest(store, previous_uri), reviewed, label_attribute=config.label_attribute,
                            class_map=class_map, allow_new_classes=config.allow_new_classes,
                            previous_path=previous_uri)
    records = list(merged.records)
    if config.replay_ratio is not None:
        records = replay_subset(records, merged.changed, config.replay_ratio)
    write_manifest(store, out_uri, records, label_attribute=config.label_attribute, num_classes=len(class_map))
    return {"lines": len(records), "added": len(merged.added), "replaced": len(merged.replaced),
            "ignored_reviews": len(merged.ignored_reviews), "num_classes": len(class_map),
            "clipped_boxes": merged.clipped_boxes, "dropped_boxes": merged.dropped_boxes,
            "emptied_reviews": len(merged.emptied_reviews)}


def _job_of(model_uri: str) -> str:
    """``demo-v0`` for ``s3://b/training/demo-v0/output/model.tar.gz`` (else the last part)."""
    parts = model_uri.rstrip("/").split("/")
    return parts[-3] if len(parts) >= 3 and parts[-2:] == ["output", "model.tar.gz"] else parts[-1]


def evaluate_model(store: ObjectStore, model_uri: str, manifest_uri: str, label_attribute: str,
                   class_map: Mapping[int, str] | None = None, *, progress: Any = False) -> Any:
    """The :class:`~gtflow.training.evaluation.EvaluationReport` of a model on a manifest."""
    from gtflow.training.evaluation import evaluate
    from gtflow.training.manifests import read_manifest
    from gtflow.training.predictor import LocalPredictor

    predictor = LocalPredictor.from_store(store, model_uri)
    return evaluate(predictor, store, read_manifest(store, manifest_uri), label_attribute=label_attribute,
                    class_map=class_map or predictor.class_map, progress=progress,
                    description=f"evaluate {_job_of(model_uri)}")


def metrics_of(report: Any) -> dict[str, Any]:
    return {"map50": report.map_voc50, "coco_map": report.map_coco, "coco_map50": report.map_coco50,
            "per_class_ap50": {c.name: c.ap_voc50 for c in report.per_class}}


def local_services(store: ObjectStore, config: RetrainConfig, *, progress: Any = False,
                   num_threads: int | None = None, reports: dict[tuple[str, str], Any] | None = None) -> RetrainServices:
    """The local backend's :class:`RetrainServices` for ``config``.

    ``config.answers`` names the flow definition whose loops feed training:
    ``{"flow_definition": "od-review"}`` (or ``{"output_prefix": "s3://..."}`` for A2I outputs
    gathered elsewhere). ``reports`` caches evaluation reports by ``(model uri, manifest uri)``
    (pass one dict to several rounds to evaluate each model once).
    """
    from gtflow.a2i.collect import collect_outputs

    class_map = {int(k): v for k, v in config.class_map.items()}
    prefix = config.answers.get("output_prefix")
    flow = config.answers.get("flow_definition")
    if not prefix and not flow:
        raise ConfigError("answers needs flow_definition or output_prefix", field="answers")

    def completed() -> list[CompletedAnswer]:
        errors: list[GtflowError] = []
        if flow:
            from gtflow.a2i.local import LocalHumanLoops

            outputs = LocalHumanLoops.for_store(store).collect(flow, errors=errors)
        else:
            outputs = collect_outputs(store, str(prefix), errors=errors)
        answers = completed_from_outputs(outputs, errors=errors)
        quarantine = Quarantine(store, config.state_prefix)
        for e in errors:  # an unreadable output.json is never an answer: quarantined, read again next run
            quarantine.add(stage="collect", source=str(e.path or "?"), reason=str(e))
        return answers

    def train(job: str, train_uri: str, heldout: str, base: str | None) -> dict[str, Any]:
        from gtflow.training.local_trainer import LocalTrainingConfig, train_local

        cfg = LocalTrainingConfig(**dict(config.training))
        result = train_local(store, train=train_uri, validation=heldout, label_attribute=config.label_attribute,
                             output_path=config.output_prefix, config=cfg, previous_model=base,
                             class_map=class_map, job_name=job, progress=progress, num_threads=num_threads)
        return {"model_uri": result.model_uri, "metrics": dict(result.metrics), "attached": result.attached}

    reports = {} if reports is None else reports  # one evaluation per (model, manifest)

    def report(model: str, manifest: str) -> Any:
        if (model, manifest) not in reports:
            reports[model, manifest] = evaluate_model(store, model, manifest, config.label_attribute, class_map,
                                                      progress=progress)
        return reports[model, manifest]

    def compare(current: str, candidate: str, manifest: str) -> dict[str, Any]:
        from gtflow.training.comparison import compare_map50

        return compare_map50(report(current, manifest), report(candidate, manifest)).to_dict()

    return RetrainServices(
        store=store,
        completed_answers=completed,
        to_records=lambda answers: to_records_from_outputs(store, answers, class_map, config.label_attribute),
        merge=lambda prev, reviewed, out: merge_into(store, config, prev, reviewed, out),
        train=train,
        evaluate=lambda model, manifest: metrics_of(report(model, manifest)),
        registry=ModelRegistry(store, config.models_prefix),
        compare=compare,
    )
