"""``gtflow workers``: per-worker quality of human-loop reviews (gold items, agreement, speed).

    gtflow workers report SRC --class-map FILE [--gold MANIFEST --label-attribute NAME]
                          [--input-manifest MANIFEST]
                          [--json] [--html OUT.html]
                          [--exclude-below F [--metric gold_accuracy|agreement|...] --exclude-out IDS.json]

SRC is a folder, file or ``s3://`` prefix of A2I ``output.json`` (either backend), or, with
``--input-manifest`` (the job's input manifest: ``dataObjectId`` = its 0-based line), a
labeling job's output whose ``annotations/worker-response/`` files are scored the same way. GOLD is an
object-detection manifest of the known answers (see docs/human-loops.md, "Gold items"). The
ids written by ``--exclude-out`` go to ``gtflow manifest from-a2i --exclude-workers``; the
``--json`` report itself to ``--worker-weights`` (weights = gold accuracy, else agreement).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gtflow.cli import console, err_console, pass_config
from gtflow.config import GtflowConfig

__all__ = ["command"]


@click.group("workers")
def command() -> None:
    """Worker quality: gold items, agreement with consolidated answers, speed and volume."""


@command.command("report")
@click.argument("src")
@click.option("--class-map", "class_map_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help='{"0": "name", ...} or ["name", ...].')
@click.option("--gold", "gold_path", default=None, metavar="MANIFEST", help="Known answers (object-detection manifest).")
@click.option("--label-attribute", default="bounding-box", show_default=True, help="Label attribute of --gold.")
@click.option("--input-manifest", "input_manifest", default=None, metavar="MANIFEST",
              help="SRC is a labeling job's output: score its worker responses (dataObjectId = line of MANIFEST).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--html", "html_out", default=None, metavar="OUT", help="Also write an HTML report with a plot.")
@click.option("--exclude-below", type=click.FloatRange(0, 1), default=None, help="Name workers below this score.")
@click.option("--metric", type=click.Choice(["gold_accuracy", "gold_iou", "class_accuracy", "agreement"]),
              default="gold_accuracy", show_default=True)
@click.option("--exclude-out", default=None, metavar="FILE", help="Write the excluded ids (JSON list).")
@pass_config
def report(config: GtflowConfig, src: str, class_map_path: str, gold_path: str | None, label_attribute: str,
           input_manifest: str | None, as_json: bool, html_out: str | None, exclude_below: float | None, metric: str,
           exclude_out: str | None) -> None:
    """Score every worker who answered the loops under SRC."""
    from gtflow.a2i.convert import read_a2i_source
    from gtflow.errors import GtflowError
    from gtflow.manifest import read_manifest
    from gtflow.routing import load_class_map
    from gtflow.worker_quality import (
        below,
        labeling_job_outputs,
        read_gold,
        report_html,
        score_workers,
    )

    store: Any = None
    if any(p.startswith("s3://") for p in (src, gold_path or "", input_manifest or "")):
        from gtflow.backends import open_backend

        store = open_backend(config).store
    class_map = load_class_map(class_map_path)
    gold = {}
    if gold_path:
        gold = read_gold((ml.record for ml in read_manifest(gold_path, store=store if gold_path.startswith("s3://") else None)),
                         label_attribute)
    errors: list[GtflowError] = []
    outputs: Any
    if input_manifest:
        refs = [str(ml.record.get("source-ref", ml.record.get("source", "")))
                for ml in read_manifest(input_manifest, store=store if input_manifest.startswith("s3://") else None)]
        outputs = labeling_job_outputs(src, refs, store=store, problems=errors)
    else:
        outputs = (c.output for c in read_a2i_source(src, store=store, errors=errors))
    qualities = score_workers(outputs, gold, class_map, problems=errors)
    excluded = below(qualities, exclude_below, metric=metric) if exclude_below is not None else []
    if exclude_out:
        Path(exclude_out).write_text(json.dumps(excluded) + "\n", encoding="utf-8")
    if html_out:
        Path(html_out).write_text(report_html(qualities), encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"workers": [q.to_dict() for q in qualities], "excluded": excluded,
                               "problems": [str(e) for e in errors]}))
        return

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    console().print(f"{'worker':20s} {'answers':>7s} {'gold':>4s} {'gold acc':>8s} {'IoU':>6s} {'class':>6s} "
                    f"{'agree':>6s} {'median s':>8s}", highlight=False)
    for q in qualities:
        mark = "  excluded" if q.worker_id in excluded else ""
        console().print(f"{q.worker_id:20s} {q.answers:7d} {q.gold_items:4d} {f(q.gold_accuracy):>8s} "
                        f"{f(q.gold_iou):>6s} {f(q.class_accuracy):>6s} {f(q.agreement):>6s} "
                        f"{f(q.median_seconds):>8s}{mark}", highlight=False)
    for e in errors[:20]:
        err_console().print(f"[yellow]skipped:[/] {e}", highlight=False)
