"""``gtflow evaluate``: mAP of a model (local or endpoint) on a held-out manifest.

    gtflow evaluate --manifest URI --label-attribute A (--model URI | --endpoint NAME)
                    [--iou 0.5] [--json] [--report URI]

Prints VOC mAP@0.5 (all-point; SageMaker-comparable), COCO mAP@[.5:.95] and AP@0.5
(faster-coco-eval), per-class AP, and the score distributions of true and false positives.
"""

from __future__ import annotations

import click

from gtflow.cli import console, pass_config
from gtflow.config import GtflowConfig

__all__ = ["command"]


@click.command(name="evaluate")
@click.option("--manifest", "manifest_uri", required=True, help="Held-out augmented manifest URI.")
@click.option("--label-attribute", required=True)
@click.option("--model", default=None, help="A gtflow model.tar.gz.")
@click.option("--endpoint", default=None, help="A SageMaker endpoint.")
@click.option("--iou", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True)
@click.option("--score-threshold", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Detections below this score are not counted.")
@click.option("--report", "report_uri", default=None, help="Also write the JSON report to this URI.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def command(config: GtflowConfig, manifest_uri: str, label_attribute: str, model: str | None,
            endpoint: str | None, iou: float, score_threshold: float, report_uri: str | None, as_json: bool) -> None:
    """Evaluate a detector on a labeled manifest."""
    from gtflow.backends import open_backend
    from gtflow.cli.predict import open_predictor
    from gtflow.training.evaluation import evaluate
    from gtflow.training.manifests import read_manifest

    store = open_backend(config).store
    predictor = open_predictor(config, model, endpoint, score_threshold)
    records = read_manifest(store, manifest_uri)
    cmap = getattr(predictor, "class_map", None)
    report = evaluate(predictor, store, records, label_attribute=label_attribute, class_map=cmap,
                      iou_threshold=iou, progress=not as_json)
    from gtflow.strict_json import dumps_strict

    data = report.to_dict()
    if report_uri:  # strict JSON: an AP with nothing to measure (NaN) is null
        store.put_text(report_uri, dumps_strict(data, indent=2), content_type="application/json")
    if as_json:
        click.echo(dumps_strict(data, indent=2))
        return
    from rich.table import Table

    out = console()
    out.print(f"{report.num_images} images, {report.num_ground_truth} boxes, {report.num_detections} detections "
              f"(IoU {iou})", highlight=False)
    out.print(f"mAP@0.5 VOC all-point: [bold]{report.map_voc50:.4f}[/bold]   COCO mAP: {report.map_coco:.4f}   "
              f"COCO AP@0.5: {report.map_coco50:.4f}", highlight=False)
    table = Table("class", "boxes", "detections", "AP@0.5 (VOC)", "AP@0.5 (COCO)", "AP (COCO)")
    for c in report.per_class:
        table.add_row(f"{c.class_id} {c.name}", str(c.num_ground_truth), str(c.num_detections),
                      f"{c.ap_voc50:.4f}", f"{c.ap_coco50:.4f}", f"{c.ap_coco:.4f}")
    out.print(table)
    s = data["scores"]
    out.print(f"true positives: {s['tp_count']} (mean score {s['tp_mean']}), false positives: {s['fp_count']} "
              f"(mean score {s['fp_mean']})", highlight=False)
    hist = s["histogram"]
    for lo, hi, tp, fp in zip(hist["edges"], hist["edges"][1:], hist["tp"], hist["fp"], strict=False):
        out.print(f"  score {lo:.1f}-{hi:.1f}: TP {tp:5d}  FP {fp:5d}", highlight=False)
