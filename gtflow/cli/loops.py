"""``gtflow loops``: A2I human loops on the configured backend (local by default).

    gtflow loops create-flow NAME --output s3://bucket/a2i-results [--template object-detection-review]
                             [--title T --description D --task-count N]
                             [--role-arn ARN --workteam-arn ARN]          (aws)
    gtflow loops start PREDICTIONS --flow NAME --class-map FILE [--policy FILE]
                       [--threshold F] [--max-loops N] [--audit-fraction F --audit-seed S]
                       [--strategy NAME --budget N [--strategy-seed S] [--flipped PREDICTIONS]]
                       [--gold MANIFEST [--gold-fraction 0.1]]
                       [--box-min-score 0.4] [--max-boxes N] [--decisions OUT.jsonl] [--dry-run] [--json]
    gtflow loops status --flow NAME [--status Completed] [--list] [--json]
    gtflow loops collect --flow NAME [--since ISO-TIME] [-o OUT.jsonl]
                         [--manifest OUT --label-attribute NAME --class-map FILE]

PREDICTIONS is JSON Lines: ``{"source-ref": "s3://...", "prediction": [[class_id, score, xmin,
ymin, xmax, ymax], ...], "image_size"?: [{"width": W, "height": H}]}`` (the built-in Object
Detection algorithm's answer plus the image). Without ``image_size`` the image is read from the
store to measure it. ``gtflow manifest from-a2i`` (defined here, registered in the manifest
group) converts A2I outputs to an object-detection augmented manifest.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from typing import Any

import click

from gtflow.cli import err_console, pass_config
from gtflow.config import GtflowConfig

__all__ = ["command", "from_a2i_command"]

_WEIGHTS_HELP = ("Weight workers in consolidation by a `gtflow workers report --json` file (weight = gold "
                 "accuracy, else agreement; others weigh 1): a box is kept when its workers hold half the weight.")


def _backend(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    return open_backend(config)


def _since(value: str | None) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--since") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


@click.group("loops")
def command() -> None:
    """A2I human loops: create flows, route predictions to people, collect their answers."""


# -- create-flow -----------------------------------------------------------------------------
@command.command("create-flow")
@click.argument("name")
@click.option("--output", "output_path", required=True, metavar="S3URI", help="S3OutputPath for output.json files.")
@click.option("--template", default="object-detection-review", show_default=True, help="Bundled template name.")
@click.option("--template-file", type=click.Path(exists=True, dir_okay=False), default=None, help="Your own Liquid template instead.")
@click.option("--ui-name", default=None, help="Human task UI name [default: NAME-ui].")
@click.option("--title", default=None, help="TaskTitle [default: fits the template's answer element].")
@click.option("--description", default=None, help="TaskDescription [default: fits the template's answer element].")
@click.option("--task-count", type=click.IntRange(1, 3), default=1, show_default=True, help="Workers per loop.")
@click.option("--time-limit", type=click.IntRange(min=30), default=None, help="TaskTimeLimitInSeconds.")
@click.option("--role-arn", default=None, help="Flow definition role (aws).")
@click.option("--workteam-arn", default=None, help="Work team (aws).")
@pass_config
def create_flow(
    config: GtflowConfig, name: str, output_path: str, template: str, template_file: str | None,
    ui_name: str | None, title: str | None, description: str | None, task_count: int, time_limit: int | None,
    role_arn: str | None, workteam_arn: str | None,
) -> None:
    """Create (or find, unchanged) a human task UI and a flow definition NAME.

    On the local backend a template with a Crowd element the local portal cannot run is
    refused here (exit 1), before anything is created.
    """
    from pathlib import Path

    from gtflow.a2i import FlowDefinition, HumanTaskUi, validate_resource_name
    from gtflow.errors import TemplateError
    from gtflow.ui.task_text import task_text

    validate_resource_name(name)  # before anything is created
    loops = _backend(config).human_loops
    ui_name = ui_name or f"{name}-ui"
    ui = (
        HumanTaskUi(ui_name, Path(template_file).read_text(encoding="utf-8"))
        if template_file else HumanTaskUi.bundled(ui_name, template)
    )
    default_title, default_description = task_text(ui.content)
    title, description = title or default_title, description or default_description
    try:
        ui_arn = loops.create_human_task_ui(ui)
    except TemplateError as exc:
        raise exc.at(path=template_file or f"bundled:{template}") from None
    fd = FlowDefinition(
        name=name, output_path=output_path, human_task_ui_arn=ui_arn, task_title=title,
        task_description=description, role_arn=role_arn, workteam_arn=workteam_arn,
        task_count=task_count, task_time_limit_seconds=time_limit,
    )
    arn = loops.create_flow_definition(fd)
    click.echo(arn)


# -- start -----------------------------------------------------------------------------------
@command.command("start")
@click.argument("predictions", metavar="PREDICTIONS")
@click.option("--flow", required=True, help="Flow definition name.")
@click.option("--class-map", "class_map_path", required=True, type=click.Path(exists=True, dir_okay=False), help='{"0": "name", ...} or ["name", ...].')
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False), default=None, help="Routing policy or per-class threshold file (JSON/YAML).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Global threshold on the top score [policy or 0.5].")
@click.option("--max-loops", type=click.IntRange(min=0), default=None, help="Cap on loops started in this run.")
@click.option("--audit-fraction", type=click.FloatRange(0, 1), default=None, help="Also route this fraction of confident predictions.")
@click.option("--audit-seed", default=None, help="Seed of the audit sample.")
@click.option("--strategy", "strategy_name", default=None, metavar="NAME",
              help="Selection strategy (gtflow.selection: top-score, uncertainty, localization, class-balanced, "
                   "diversity, random) [routing policy].")
@click.option("--budget", type=click.IntRange(min=0), default=None, help="With --strategy: review N images.")
@click.option("--strategy-seed", default="gtflow", show_default=True, help="Seed of --strategy random (and tie-breaks).")
@click.option("--flipped", "flipped_path", default=None, metavar="PREDICTIONS",
              help="Predictions of the horizontally flipped images (JSON Lines), for --strategy localization.")
@click.option("--gold", "gold_path", default=None, metavar="MANIFEST",
              help="Known-answer images (object-detection manifest): a --gold-fraction of the loops started are "
                   "these, shown like any other (score workers with gtflow workers report).")
@click.option("--gold-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True)
@click.option("--gold-label-attribute", default="bounding-box", show_default=True, help="Label attribute of --gold.")
@click.option("--box-min-score", type=click.FloatRange(0, 1), default=0.4, show_default=True,
              help="Draw only boxes at or above this score for the reviewer (the blog post's 0.4).")
@click.option("--max-boxes", type=click.IntRange(min=0), default=None, help="Draw at most this many boxes (best first).")
@click.option("--header", default=None, help="Header text shown to reviewers.")
@click.option("--decisions", "decisions_out", default=None, metavar="OUT", help="Write every decision as JSON Lines.")
@click.option("--dry-run", is_flag=True, help="Decide and print the StartHumanLoop requests; start nothing.")
@click.option("--score-scale", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Divide every score by this first (100 for a model that scores 0-100). Scores outside "
                   "[0, 1] are an error without it.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_config
def start(
    config: GtflowConfig, predictions: str, flow: str, class_map_path: str, policy_path: str | None,
    threshold: float | None, max_loops: int | None, audit_fraction: float | None, audit_seed: str | None,
    strategy_name: str | None, budget: int | None, strategy_seed: str, flipped_path: str | None,
    gold_path: str | None, gold_fraction: float, gold_label_attribute: str,
    box_min_score: float, max_boxes: int | None, header: str | None, decisions_out: str | None, dry_run: bool,
    score_scale: float | None, as_json: bool,
) -> None:
    """Route PREDICTIONS (JSON Lines) and start a human loop for each routed one.

    Reruns are safe: loop names derive from the flow and a hash of the input, and loops the
    flow already has are not started again.
    """
    from gtflow.a2i.workflow import read_predictions, start_for_predictions
    from gtflow.manifest import read_manifest, write_manifest
    from gtflow.routing import RoutingPolicy, load_class_map, load_policy

    backend = _backend(config)
    class_map = load_class_map(class_map_path)
    policy = load_policy(policy_path) if policy_path else RoutingPolicy()
    policy = policy.with_(threshold=threshold, max_loops=max_loops, audit_fraction=audit_fraction, audit_seed=audit_seed)
    store = backend.store
    records = _scores_in_range(
        ((ml.line, ml.record) for ml in read_manifest(predictions, store=store if predictions.startswith("s3://") else None)),
        predictions, score_scale)
    planned: list[Any] = []
    strategy = sel_budget = flipped = None
    if strategy_name is not None or budget is not None:
        from gtflow.selection import Budget, Strategy

        strategy = Strategy.named(strategy_name or "top-score", seed=strategy_seed)
        sel_budget = Budget(reviews=budget if budget is not None else policy.max_loops,
                            threshold=threshold if budget is None else None,
                            audit_fraction=policy.audit_fraction, audit_seed=policy.audit_seed)
        if flipped_path:
            frecs = _scores_in_range(
                ((ml.line, ml.record) for ml in read_manifest(flipped_path, store=store if flipped_path.startswith("s3://") else None)),
                flipped_path, score_scale)
            flipped = {i.prediction.source_ref: i.prediction for i in read_predictions(frecs)}
    routed = start_for_predictions(
        backend.human_loops, flow, read_predictions(records), policy, class_map,
        store=store, box_min_score=box_min_score, max_boxes=max_boxes, header=header, dry_run=dry_run,
        planned=planned, strategy=strategy, budget=sel_budget, flipped=flipped,
    )
    if decisions_out:
        write_manifest(decisions_out, [r.to_dict() for r in routed], store=store if decisions_out.startswith("s3://") else None)
    reasons = Counter(r.decision.reason for r in routed)
    # counts of loops, not of predictions: identical predictions share one loop (its name is a
    # hash of the input), and that loop is counted once
    started_names = {r.start.name for r in routed if r.start is not None and r.start.started}
    existing_names = {r.start.name for r in routed if r.start is not None and not r.start.started}
    with_loop = sum(1 for r in routed if r.start is not None)
    started, existing = len(started_names), len(existing_names)
    summary = {
        "predictions": len(routed), "routed": sum(r.decision.routed for r in routed),
        "started": started, "alreadyStarted": existing,
        "sameInputAsAnother": with_loop - started - existing,
        "dryRun": dry_run, "reasons": dict(sorted(reasons.items())),
    }
    gold: dict[str, int] = {}
    if gold_path:
        gold = _start_gold(backend, store, flow, gold_path, gold_label_attribute, gold_fraction, class_map,
                           n_tasks=with_loop, dry_run=dry_run)
        summary["gold"] = gold
    if dry_run:
        summary["calls"] = _planned_calls(config, flow, planned)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if dry_run:
            click.echo(json.dumps(summary["calls"], indent=2))
        same = summary["sameInputAsAnother"]
        click.echo(
            f"{summary['predictions']} predictions, {summary['routed']} routed, {started} loops started, "
            f"{existing} already started" + (f", {same} routed predictions were the same input as another "
                                             "(one loop each)" if same else "") + (" (dry run)" if dry_run else "")
        )
        for reason, n in sorted(reasons.items()):
            click.echo(f"  {reason}: {n}")
        if gold_path:
            click.echo(f"  gold: {gold['loops']} loops ({gold['started']} started)")


def _scores_in_range(records: Any, path: str, scale: float | None) -> Any:
    """``(line, record)`` pairs with every prediction score divided by ``scale``; a score outside
    [0, 1] (or not finite) is an error naming the line, so a 0-100 model is never taken as sure."""
    import math

    from gtflow.errors import ContractError

    for line, rec in records:
        rows = rec.get("prediction") if isinstance(rec, dict) else None
        if isinstance(rows, list):
            new_rows = []
            for i, row in enumerate(rows):
                if isinstance(row, list) and len(row) > 1 and isinstance(row[1], (int, float)) and not isinstance(row[1], bool):
                    score = row[1] / scale if scale else row[1]
                    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
                        hint = "" if scale else "; pass --score-scale 100 if the model scores 0-100"
                        raise ContractError(f"score {row[1]!r} is outside [0, 1]{' after --score-scale' if scale else ''}{hint}",
                                            path=path, line=line, field=f"prediction[{i}][1]")
                    row = [row[0], score, *row[2:]]
                new_rows.append(row)
            rec = {**rec, "prediction": new_rows}
        yield line, rec


def _planned_calls(config: GtflowConfig, flow: str, planned: list[Any]) -> list[dict[str, Any]]:
    """The StartHumanLoop requests a dry run would send, checked against botocore's model.

    The FlowDefinitionArn is exact when --flow is an ARN or on the local backend; on AWS a bare
    name would need DescribeFlowDefinition, which a dry run does not send."""
    from gtflow.dry_run import validate_request

    if flow.startswith("arn:"):
        arn = flow
    elif _backend(config).supports("task_queue"):  # local flows have local ARNs
        arn = f"arn:aws:sagemaker:local:000000000000:flow-definition/{flow}"
    else:
        arn = None
    calls = []
    for loop in planned:
        req: dict[str, Any] = {"HumanLoopName": loop.name, "FlowDefinitionArn": arn or f"<ARN of {flow}>",
                               "HumanLoopInput": {"InputContent": loop.content}}
        if arn is not None:
            validate_request("sagemaker-a2i-runtime", "StartHumanLoop", req)
        calls.append({"service": "sagemaker-a2i-runtime", "operation": "StartHumanLoop", "request": req})
    return calls


# -- status ----------------------------------------------------------------------------------
@command.command("status")
@click.option("--flow", required=True, help="Flow definition name.")
@click.option("--status", "status_filter", type=click.Choice(["InProgress", "Completed", "Stopped", "Stopping", "Failed"]), default=None)
@click.option("--list", "show_list", is_flag=True, help="List the loops, not only the counts.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def status(config: GtflowConfig, flow: str, status_filter: str | None, show_list: bool, as_json: bool) -> None:
    """Count (and list) the human loops of a flow by status."""
    loops = list(_backend(config).human_loops.list(flow, status=status_filter))
    counts = Counter(loop.status for loop in loops)
    if as_json:
        doc: dict[str, Any] = {"flow": flow, "counts": dict(sorted(counts.items())), "total": len(loops)}
        if show_list:
            doc["loops"] = [loop.to_dict() for loop in loops]
        click.echo(json.dumps(doc))
        return
    click.echo(f"{flow}: {len(loops)} loops" + "".join(f", {n} {s}" for s, n in sorted(counts.items())))
    if show_list:
        for loop in loops:
            click.echo(f"{loop.name}\t{loop.status}\t{loop.creation_time.isoformat()}")


# -- collect ---------------------------------------------------------------------------------
@command.command("collect")
@click.option("--flow", required=True, help="Flow definition name.")
@click.option("--since", default=None, metavar="TIME", help="Only answers written at or after this ISO 8601 time.")
@click.option("--output", "-o", default=None, metavar="OUT", help="Write each output.json as one JSON line.")
@click.option("--manifest", "manifest_out", default=None, metavar="OUT", help="Also write an object-detection augmented manifest.")
@click.option("--label-attribute", default=None, help="Label attribute of --manifest.")
@click.option("--class-map", "class_map_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--workers", type=click.IntRange(1, 256), default=32, show_default=True, help="Concurrent reads.")
@click.option("--quarantine", "quarantine_prefix", default=None, metavar="S3PREFIX",
              help="Also quarantine unreadable outputs and loops left out of --manifest, under this prefix.")
@click.option("--adjudicate-in", "adjudicate_flow", default=None, metavar="FLOW",
              help="With --manifest: loops whose workers disagree go to one more worker in FLOW (a one-worker "
                   "flow); FLOW's answers join the loops they decide.")
@click.option("--worker-weights", "worker_weights", default=None, metavar="FILE", help="With --manifest: " + _WEIGHTS_HELP)
@click.option("--json", "as_json", is_flag=True)
@pass_config
def collect(
    config: GtflowConfig, flow: str, since: str | None, output: str | None, manifest_out: str | None,
    label_attribute: str | None, class_map_path: str | None, workers: int, quarantine_prefix: str | None,
    adjudicate_flow: str | None, worker_weights: str | None, as_json: bool,
) -> None:
    """Read the answers of a flow's completed loops (all workers' answers kept)."""
    from gtflow.a2i.convert import ConversionReport, write_converted
    from gtflow.errors import GtflowError
    from gtflow.manifest import write_manifest
    from gtflow.routing import load_class_map

    if manifest_out and not (label_attribute and class_map_path):
        raise click.UsageError("--manifest needs --label-attribute and --class-map")
    if adjudicate_flow and not manifest_out:
        raise click.UsageError("--adjudicate-in needs --manifest (disagreement is found while consolidating)")
    backend = _backend(config)
    errors: list[GtflowError] = []
    outputs = backend.human_loops.collect(flow, since=_since(since), max_workers=workers, errors=errors)
    if adjudicate_flow:
        outputs += backend.human_loops.collect(adjudicate_flow, max_workers=workers, errors=errors)
    outputs.sort(key=lambda c: c.uri)

    def store_if(dest: str) -> Any:
        return backend.store if dest.startswith("s3://") else None

    if output:
        write_manifest(output, [c.output.to_dict() for c in outputs], store=store_if(output))
    report = ConversionReport()
    if manifest_out and label_attribute and class_map_path:
        write_converted(outputs, manifest_out, class_map=load_class_map(class_map_path),
                        label_attribute=label_attribute, store=store_if(manifest_out), report=report,
                        worker_weights=_worker_weights(worker_weights))
    if quarantine_prefix:
        _quarantine(backend.store, quarantine_prefix, "collect", errors, flow)
        _quarantine(backend.store, quarantine_prefix, "from-a2i", report.skipped, flow)
    answers = sum(len(c.output.human_answers) for c in outputs)
    summary: dict[str, Any] = {"loops": len(outputs), "answers": answers, "unreadable": len(errors),
                               "manifest": report.to_dict() if manifest_out else None}
    if adjudicate_flow:
        from gtflow.a2i.adjudication import adjudication_inputs

        inputs = adjudication_inputs([c.output for c in outputs], report.disagreements)
        started = backend.human_loops.start_many(adjudicate_flow, inputs) if inputs else []
        summary["adjudication"] = {"flow": adjudicate_flow, "disagreements": len(report.disagreements),
                                   "started": sum(1 for r in started if r.started)}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{len(outputs)} loops with {answers} answers collected" + (f", {len(errors)} unreadable" if errors else ""))
        if manifest_out:
            click.echo(f"manifest: {report.lines} lines ({report.empty} without boxes), {len(report.skipped)} loops skipped")
        if adjudicate_flow:
            adj = summary["adjudication"]
            click.echo(f"adjudication: {adj['disagreements']} loops with disagreeing workers, {adj['started']} "
                       f"sent to one more worker in {adjudicate_flow}")
    for e in (errors + report.skipped)[:20]:
        err_console().print(f"[yellow]skipped:[/] {e}", highlight=False)


def _quarantine(store: Any, prefix: str, stage: str, errors: list[Any], default_source: str) -> None:
    """Put the records a command left out into the quarantine under ``prefix`` (gtflow quarantine)."""
    from gtflow.quarantine import Quarantine

    q = Quarantine(store, prefix)
    for e in errors:
        q.add(stage=stage, source=str(getattr(e, "path", None) or default_source), reason=str(e))


def _start_gold(backend: Any, store: Any, flow: str, path: str, attr: str, fraction: float,
                class_map: dict[int, str], *, n_tasks: int, dry_run: bool) -> dict[str, int]:
    """Start the gold loops beside ``n_tasks`` ordinary ones (gtflow.worker_quality.gold_inputs)."""
    from gtflow.manifest import read_manifest
    from gtflow.worker_quality import gold_inputs, read_gold

    lines = [ml.record for ml in read_manifest(path, store=store if path.startswith("s3://") else None)]
    sizes = {}
    for line in lines:
        size = ((line.get(attr) or {}).get("image_size") or [{}])[0]
        if isinstance(size.get("width"), int) and isinstance(size.get("height"), int):
            sizes[line["source-ref"]] = (size["width"], size["height"])
    inputs = gold_inputs(read_gold(lines, attr), class_map, n_tasks=n_tasks, fraction=fraction, sizes=sizes)
    started = [] if dry_run or not inputs else backend.human_loops.start_many(flow, inputs)
    return {"loops": len(inputs), "started": sum(1 for r in started if r.started)}


def _worker_ids(path: str | None) -> tuple[str, ...]:
    if not path:
        return ()
    from pathlib import Path

    from gtflow.errors import UsageError

    try:
        ids = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read a JSON list of worker ids: {exc}", field="--exclude-workers") from exc
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise UsageError("must be a JSON list of worker ids", field="--exclude-workers")
    return tuple(ids)


def _worker_weights(path: str | None) -> dict[str, float] | None:
    """``--worker-weights``: a ``gtflow workers report --json`` file (gtflow.worker_quality.read_weights)."""
    if not path:
        return None
    from pathlib import Path

    from gtflow.errors import ContractError, UsageError
    from gtflow.worker_quality import read_weights

    try:
        return read_weights(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read a workers report: {exc}", field="--worker-weights") from exc
    except ContractError as exc:
        raise exc.at(path=path) from None


# -- manifest from-a2i (registered in gtflow/cli/manifest.py) --------------------------------
@click.command("from-a2i")
@click.argument("src")
@click.option("--output", "-o", required=True, metavar="OUT", help="Manifest path or s3:// URI.")
@click.option("--label-attribute", required=True, help="Label attribute name (no '_' or '.').")
@click.option("--class-map", "class_map_path", required=True, type=click.Path(exists=True, dir_okay=False), help='{"0": "name", ...} or ["name", ...].')
@click.option("--worker", type=click.Choice(["consolidate", "first", "last"]), default="consolidate", show_default=True,
              help="Several workers' answers: consolidated as a labeling job does, or the first/last one.")
@click.option("--exclude-workers", "exclude_workers", default=None, metavar="FILE",
              help="Leave out these workers' answers: `gtflow workers report --exclude-out` (JSON list of ids).")
@click.option("--worker-weights", "worker_weights", default=None, metavar="FILE", help=_WEIGHTS_HELP)
@click.option("--skip-empty", is_flag=True, help="Leave out images answered with no box.")
@click.option("--strict", is_flag=True, help="Fail on the first output that cannot be converted.")
@click.option("--quarantine", "quarantine_prefix", default=None, metavar="S3PREFIX",
              help="Also quarantine the outputs left out, under this prefix (see gtflow quarantine).")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def from_a2i_command(
    config: GtflowConfig, src: str, output: str, label_attribute: str, class_map_path: str,
    worker: str, exclude_workers: str | None, worker_weights: str | None, skip_empty: bool, strict: bool, quarantine_prefix: str | None,
    as_json: bool,
) -> None:
    """Turn a prefix or folder of A2I output.json files into an object-detection augmented manifest."""
    from gtflow.a2i.convert import from_a2i

    store = _backend(config).store if (src.startswith("s3://") or output.startswith("s3://")) else None
    report = from_a2i(
        src, output, label_attribute=label_attribute, class_map=class_map_path, store=store,
        worker=worker, skip_empty=skip_empty, strict=strict, exclude_workers=_worker_ids(exclude_workers),
        worker_weights=_worker_weights(worker_weights),
    )
    if quarantine_prefix:
        _quarantine(_backend(config).store, quarantine_prefix, "from-a2i", report.skipped, src)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        err_console().print(
            f"wrote {report.lines:,} lines to {output} ({report.empty:,} without boxes, "
            f"{len(report.skipped):,} outputs skipped)", highlight=False,
        )
        for e in report.skipped[:20]:
            err_console().print(f"[yellow]skipped:[/] {e}", highlight=False)
