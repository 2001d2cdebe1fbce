"""``gtflow retrain``: one crash-safe retraining round, its status, and rollback.

    gtflow [--root DIR] retrain --config FILE [--dry-run] [--json]
    gtflow retrain status --config FILE [--json]
    gtflow retrain rollback --config FILE [--json]

The config file (YAML or JSON, see docs/retraining.md) names the backend: ``local`` uses the
``--root`` folder, ``aws`` the ``--region``. Exit codes: 0 promoted, rejected or nothing new;
3 the SageMaker training job is still running (run again later: the next run attaches to it);
1 the run failed (rerun it: finished stages are reused); 2 an invalid config or option.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any

import click

from gtflow.cli import console, err_console
from gtflow.config import GtflowConfig
from gtflow.errors import ObjectNotFoundError

__all__ = ["command", "EXIT_IN_PROGRESS"]

EXIT_IN_PROGRESS = 3
STAGES = ("convert", "merge", "train", "evaluate", "promote", "lineage")


def _load(config_file: str) -> Any:
    from gtflow.pipeline.retrain import RetrainConfig

    return RetrainConfig.from_file(config_file)


def _gtflow_config(ctx: click.Context) -> GtflowConfig:
    obj = ctx.find_object(GtflowConfig)
    return obj if obj is not None else GtflowConfig.from_env()


def _services(rcfg: Any, gcfg: GtflowConfig, *, progress: bool) -> Any:
    from gtflow.pipeline.entry import build_services

    return build_services(rcfg, gcfg, progress=progress)


def _echo_json(data: Any) -> None:
    from gtflow.strict_json import finite

    # strict JSON: NaN/Infinity (a metric with nothing to measure) are written as null
    click.echo(json.dumps(finite(data), indent=2, default=str, allow_nan=False))


def _metric(metrics: Any, name: str) -> str:
    if not metrics or metrics.get(name) is None:
        return "-"
    return f"{float(metrics[name]):.4f}"


def _summary(result: dict[str, Any], metric: str) -> None:
    from rich.table import Table

    colors = {"promoted": "green", "rejected": "yellow", "nothing-new": "dim", "in-progress": "cyan",
              "nothing-usable": "yellow"}
    status = result["status"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("status", f"[{colors.get(status, 'white')}]{status}[/]")
    rows = [("run id", result.get("run_id")), ("answers used", result.get("answers_used")),
            ("training job", result.get("job_name")), ("training status", result.get("training_status")),
            ("model", result.get("model_uri"))]
    for label, value in rows:
        if value is not None:
            table.add_row(label, str(value))
    counts = result.get("counts") or {}
    if counts.get("read"):
        table.add_row("answers read", f"{counts['read']}: {counts.get('used', 0)} used, "
                      f"{counts.get('quarantined', 0)} quarantined, {counts.get('skipped', 0)} skipped")
        if counts.get("clippedBoxes") or counts.get("degenerateBoxes"):
            table.add_row("reviewer boxes", f"{counts.get('clippedBoxes', 0)} clipped to the image, "
                          f"{counts.get('degenerateBoxes', 0)} degenerate dropped")
    if result.get("metrics_after") is not None:
        table.add_row(f"{metric} before", _metric(result.get("metrics_before"), metric))
        table.add_row(f"{metric} after", _metric(result.get("metrics_after"), metric))
        decision = {"promoted": "promoted: the new model is current",
                    "rejected": "rejected: the current model stays"}.get(status, status)
        if result.get("reason"):
            decision += f" ({str(result['reason']).replace('-', ' ')})"
        table.add_row("decision", decision)
        comp = result.get("comparison")
        if comp:
            table.add_row("change", f"{comp['delta']:+.4f}, 95% interval [{comp['low']:+.4f}, {comp['high']:+.4f}] "
                                    f"over {comp['num_images']} held-out images: {comp['verdict']}")
    if result.get("lineage_uri"):
        table.add_row("lineage", str(result["lineage_uri"]))
    if result.get("stages_reused"):
        table.add_row("reused stages", ", ".join(result["stages_reused"]))
    if result.get("timings"):
        table.add_row("seconds", ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items()))
    console().print(table)
    if counts.get("quarantined"):
        err_console().print(f"warning: {counts['quarantined']} answers quarantined; see `gtflow quarantine list "
                            "--config ...`", highlight=False)
    if status == "in-progress":
        err_console().print("the training job is still running; run `gtflow retrain` again later "
                            f"(exit code {EXIT_IN_PROGRESS})", highlight=False)


@click.group("retrain", invoke_without_command=True)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Retrain config (YAML or JSON).")
@click.option("--dry-run", is_flag=True, help="Show the answers this run would use; train nothing, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def command(ctx: click.Context, config_file: str | None, dry_run: bool, as_json: bool) -> None:
    """Collect new human answers, retrain, evaluate, promote if better, record lineage.

    Safe to rerun after any failure: finished stages are reused and job names stay the same.
    Exit 0 promoted/rejected/nothing new, 3 training still running, 1 failed, 2 bad config.
    """
    if ctx.invoked_subcommand is not None:
        return
    if config_file is None:
        raise click.UsageError("--config FILE is required")
    rcfg = _load(config_file)
    gcfg = _gtflow_config(ctx)
    if dry_run:
        _dry_run(rcfg, gcfg, as_json)
        return
    from gtflow.pipeline.entry import run_round

    result = run_round(rcfg, _services(rcfg, gcfg, progress=not as_json))
    if as_json:
        _echo_json(result)
    else:
        _summary(result, rcfg.metric)
    if result["status"] == "in-progress":
        ctx.exit(EXIT_IN_PROGRESS)


def _watermark(rcfg: Any, store: Any) -> tuple[Any, str]:
    from gtflow.pipeline.watermark import load_watermark
    from gtflow.uris import S3Uri

    uri = str(S3Uri.parse(rcfg.state_prefix).join("watermark.json"))
    return load_watermark(store, uri)[0], uri


def _claimed(rcfg: Any, store: Any, wm: Any) -> list[Any] | None:
    """The answers an earlier, unfinished attempt at this watermark claimed (read-only)."""
    from gtflow.pipeline.watermark import CompletedAnswer
    from gtflow.uris import S3Uri

    key = hashlib.sha256(json.dumps(wm.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    try:
        claim = json.loads(store.get_bytes(str(S3Uri.parse(rcfg.state_prefix).join("claims", f"{key}.json"))))
    except ObjectNotFoundError:
        return None
    return [CompletedAnswer(c["name"], _dt.datetime.fromisoformat(c["completedAt"]), c["outputUri"]) for c in claim]


def _dry_run(rcfg: Any, gcfg: GtflowConfig, as_json: bool) -> None:
    from gtflow.pipeline.retrain import run_id_for
    from gtflow.pipeline.stages import StageRunner
    from gtflow.pipeline.watermark import select_new

    services = _services(rcfg, gcfg, progress=False)
    store = services.store
    wm, _ = _watermark(rcfg, store)
    claimed = _claimed(rcfg, store, wm)
    new, next_wm = select_new(claimed if claimed is not None else services.completed_answers(), wm)
    enough = len(new) >= rcfg.min_answers
    run_id = run_id_for(rcfg.name, wm, new) if enough else None
    done = []
    if run_id is not None:
        stages = StageRunner(store, rcfg.state_prefix, run_id)
        done = [s for s in STAGES if stages.done(s) is not None]
    current = services.registry.current()
    out = {
        "status": "would-run" if enough else "nothing-new",
        "run_id": run_id,
        "answers": [{"name": a.name, "completedAt": a.completed_at.isoformat(), "outputUri": a.output_uri} for a in new],
        "claimed_by_earlier_attempt": claimed is not None,
        "min_answers": rcfg.min_answers,
        "watermark": wm.to_dict(),
        "next_watermark": next_wm.to_dict() if enough else wm.to_dict(),
        "training_manifest": wm.training_manifest or rcfg.training_manifest,
        "current_model": current["model_uri"] if current else None,
        "stages_done": done,
    }
    if as_json:
        _echo_json(out)
        return
    c = console()
    c.print(f"[bold]{out['status']}[/]: {len(new)} new answers (at least {rcfg.min_answers} needed)"
            + (" [dim](claimed by an earlier attempt)[/]" if claimed is not None else ""), highlight=False)
    c.print(f"watermark {wm.value.isoformat() if wm.value else 'none'} -> "
            f"{out['next_watermark']['watermark'] or 'none'}", highlight=False)
    if run_id:
        c.print(f"run id {run_id}; would merge into {out['training_manifest']}", highlight=False)
        if done:
            c.print(f"stages already done: {', '.join(done)}", highlight=False)
    for a in new[:20]:
        c.print(f"  {a.completed_at.isoformat()}  {a.name}", highlight=False)
    if len(new) > 20:
        c.print(f"  ... and {len(new) - 20} more", highlight=False)


@command.command("status")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, config_file: str, as_json: bool) -> None:
    """The watermark, the current model and the last lineage record."""
    from gtflow.pipeline.entry import store_for
    from gtflow.pipeline.registry import ModelRegistry
    from gtflow.uris import S3Uri

    rcfg = _load(config_file)
    store = store_for(rcfg, _gtflow_config(ctx))
    wm, _ = _watermark(rcfg, store)
    registry = ModelRegistry(store, rcfg.models_prefix)
    lineage = sorted(store.list(str(S3Uri.parse(rcfg.state_prefix).join("lineage")) + "/"),
                     key=lambda o: (o.last_modified, o.uri))
    last = json.loads(store.get_bytes(lineage[-1].uri)) if lineage else None
    rollbacks = sorted(o.uri for o in store.list(str(S3Uri.parse(rcfg.state_prefix).join("rollbacks")) + "/"))
    from gtflow.quarantine import Quarantine

    quarantine = Quarantine(store, rcfg.state_prefix).counts()
    out = {"watermark": wm.to_dict(), "current_model": registry.current(), "history": len(registry.history()),
           "quarantine": quarantine,
           "runs_recorded": len(lineage), "last_lineage": last, "last_lineage_uri": lineage[-1].uri if lineage else None,
           "last_rollback": json.loads(store.get_bytes(rollbacks[-1])) if rollbacks else None}
    if as_json:
        _echo_json(out)
        return
    c = console()
    cur = out["current_model"]
    c.print(f"watermark: {wm.value.isoformat() if wm.value else 'none'} ({len(wm.seen)} answers at it)", highlight=False)
    c.print(f"training manifest: {wm.training_manifest or rcfg.training_manifest}", highlight=False)
    if cur:
        c.print(f"current model: {cur['model_uri']} ({rcfg.metric} "
                f"{_metric(cur.get('metrics'), rcfg.metric)}; {out['history']} earlier)", highlight=False)
        if cur.get("deployment"):
            d = cur["deployment"]
            c.print(f"endpoint: {d.get('endpoint_name')} -> {d.get('endpoint_config_name')}", highlight=False)
    else:
        c.print("current model: none yet", highlight=False)
    if last:
        m = last.get("metrics", {})
        m = m or {}
        lc = last.get("counts") or {}
        used = f"{len(last.get('answers', []))} answers used" + (
            f" of {lc['read']} read, {lc.get('quarantined', 0)} quarantined, {lc.get('skipped', 0)} skipped"
            if lc.get("read") else "")
        c.print(f"last run: {last['runId']} {last['decision']} at {last.get('recordedAt')} "
                f"({used}; {rcfg.metric} {_metric(m.get('before'), rcfg.metric)} -> "
                f"{_metric(m.get('after'), rcfg.metric)})", highlight=False)
        c.print(f"lineage: {out['last_lineage_uri']}", highlight=False)
    c.print(f"quarantine: {quarantine['quarantined']} quarantined, {quarantine['released']} released "
            f"(waiting for the next run), {quarantine['readmitted']} re-admitted"
            + (" — see `gtflow quarantine list`" if quarantine["quarantined"] else ""), highlight=False)
    if out["last_rollback"]:
        rb = out["last_rollback"]
        c.print(f"last rollback: {rb['rolledBackAt']} {(rb.get('from') or {}).get('model_uri')} -> "
                f"{(rb.get('to') or {}).get('model_uri')}", highlight=False)


@command.command("rollback")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rollback(ctx: click.Context, config_file: str, as_json: bool) -> None:
    """Make the previous model current again (and, on AWS, point the endpoint back at it)."""
    from gtflow.uris import S3Uri

    rcfg = _load(config_file)
    services = _services(rcfg, _gtflow_config(ctx), progress=False)
    before = services.registry.current()
    entry = services.registry.rollback()
    at = services.clock()
    record = {"rolledBackAt": at.isoformat(), "from": before, "to": entry}
    uri = str(S3Uri.parse(rcfg.state_prefix).join("rollbacks", f"{at.strftime('%Y%m%dT%H%M%S.%fZ')}.json"))
    from gtflow.strict_json import dumps_strict

    services.store.put_text(uri, dumps_strict(record, indent=1, default=str), content_type="application/json")
    if as_json:
        _echo_json(entry)
        return
    console().print(f"current model is now {entry.get('model_uri')} (run {entry.get('run_id', '-')})", highlight=False)
