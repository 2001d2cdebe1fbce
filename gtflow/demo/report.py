"""The demo's ``report.html``: mAP before/after, per-class AP, score histograms with the routing
threshold, and examples of boxes people corrected. Plots are inline PNGs (matplotlib, Agg), so
the page is one self-contained file that opens offline.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_report", "corrected_example_png"]

MIN_PLOTTED_SCORE = 0.05

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gtflow demo report</title>
<style>
 body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; color: #16191f; }
 h1 { margin-bottom: .2rem } .sub { color: #5f6b7a; margin-top: 0 }
 .kpis { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0 }
 .kpi { border: 1px solid #d1d5db; border-radius: 8px; padding: .6rem .9rem; min-width: 150px }
 .kpi b { display: block; font-size: 1.5rem }
 figure { margin: 1rem 0 } figure img { max-width: 100%; border: 1px solid #e5e7eb; border-radius: 6px }
 figcaption { color: #5f6b7a; font-size: .9rem }
 table { border-collapse: collapse; margin: .5rem 0 } td, th { border: 1px solid #d1d5db; padding: .25rem .6rem; text-align: right }
 th:first-child, td:first-child { text-align: left }
 .warn { background: #fff3cd; border: 1px solid #e9c46a; border-radius: 6px; padding: .5rem .8rem }
 .examples { display: flex; flex-wrap: wrap; gap: .75rem } .examples figure { width: 240px; margin: 0 }
</style></head><body>
<h1>gtflow end-to-end demo</h1>
<p class="sub">Synthetic shapes, local backend, reviewer: {{ summary.reviewer }}. Generated {{ summary.finished_at }}.</p>
{% if summary.smoke_test %}<p class="warn" id="smoke-test"><b>Smoke test (--quick):</b> every stage ran, but the models
were trained far too briefly for these numbers to mean anything.</p>{% endif %}
<div class="kpis">
 <div class="kpi">mAP@0.5 v0<b id="map-v0">{{ '%.3f' % summary.map50.v0 }}</b></div>
 <div class="kpi">mAP@0.5 v1<b id="map-v1">{{ '%.3f' % summary.map50.v1 }}</b></div>
 <div class="kpi">change<b>{{ '%+.3f' % summary.map50.delta }}</b></div>
 <div class="kpi">images routed<b>{{ summary.routing.routed }} / {{ summary.routing.pool }}</b></div>
 <div class="kpi">reviews done<b>{{ summary.reviews.done }}</b></div>
 <div class="kpi">promoted<b>{{ 'yes' if summary.retrain.status == 'promoted' else 'no' }}</b></div>
</div>
{% if summary.arms %}
<h2>What a review is worth</h2>
<table id="arms"><tr><th>arm</th><th>reviewed images</th><th>mAP@0.5</th><th>gain over the control</th><th>gain per reviewed image</th></tr>
{% for name, arm in summary.arms.items() %}
<tr><td>{{ arm_names.get(name, name + ' selection') }}</td><td>{{ arm.reviews }}</td><td>{{ '%.3f' % arm.map50 }}</td>
<td>{{ '%+.3f' % arm.gain_vs_control if arm.gain_vs_control is defined else '' }}</td>
<td>{{ '%+.4f' % arm.gain_per_reviewed_image if arm.gain_per_reviewed_image is defined else '' }}</td></tr>
{% endfor %}</table>
{% endif %}
{% if summary.comparisons %}
<table id="comparisons"><tr><th>comparison</th><th>difference</th><th>95% interval</th><th>verdict</th></tr>
{% for key, c in summary.comparisons.items() %}
<tr><td>{{ key.replace('_vs_', ' vs ') }}</td><td>{{ '%+.3f' % c.delta }}</td><td>[{{ '%+.3f' % c.low }}, {{ '%+.3f' % c.high }}]</td><td>{{ c.verdict }}</td></tr>
{% endfor %}</table>
<p class="sub">Intervals: paired bootstrap over the {{ summary.comparisons.values()|map(attribute='num_images')|first }} held-out images.
A difference whose interval includes 0 is within the evaluation's noise.</p>
{% endif %}
{% for line in summary.verdict or [] %}<p class="verdict">{{ line }}</p>{% endfor %}
{% for fig in figures %}
<figure><img alt="{{ fig.alt }}" src="data:image/png;base64,{{ fig.png }}"><figcaption>{{ fig.caption }}</figcaption></figure>
{% endfor %}
<h2>Per-class AP@0.5</h2>
<table><tr><th>class</th><th>v0</th><th>v1</th>{% if summary.per_class_ap.control %}<th>control</th>{% endif %}</tr>
{% for name, v0 in summary.per_class_ap.v0.items() %}
<tr><td>{{ name }}</td><td>{{ '%.3f' % v0 }}</td><td>{{ '%.3f' % summary.per_class_ap.v1[name] }}</td>
{% if summary.per_class_ap.control %}<td>{{ '%.3f' % summary.per_class_ap.control[name] }}</td>{% endif %}</tr>
{% endfor %}</table>
<h2>Time per stage</h2>
<table><tr><th>stage</th><th>seconds</th></tr>
{% for name, s in summary.seconds.items() %}<tr><td>{{ name }}</td><td>{{ '%.1f' % s }}</td></tr>{% endfor %}
</table>
{% if examples %}
<h2>Corrected by reviewers</h2>
<p>Red dashed: the model's boxes sent for review. Green: the reviewer's answer.</p>
<div class="examples">{% for ex in examples %}
<figure><img alt="corrected example {{ loop.index }}" src="data:image/png;base64,{{ ex.png }}"><figcaption>{{ ex.caption }}</figcaption></figure>
{% endfor %}</div>
{% endif %}
</body></html>
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _map_figure(summary: Mapping[str, Any]) -> str:
    plt = _plt()
    arms = summary.get("arms") or {}
    if arms:
        names, vals = list(arms), [a["map50"] for a in arms.values()]
    else:
        names = ["v0", "v1"] + (["control"] if summary["map50"].get("control") is not None else [])
        vals = [summary["map50"][n] for n in names]
    colors = {"v0": "#8d99ae", "v1": "#2b9348", "control": "#e9c46a"}
    fig, ax = plt.subplots(figsize=(5, 3))
    bars = ax.bar(names, vals, color=[colors.get(n, "#457b9d") for n in names])
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylabel("mAP@0.5 (held-out)")
    ax.set_ylim(0, 1)
    ax.set_title("Before and after human review")
    return _png(fig)


def _reviews_figure(summary: Mapping[str, Any]) -> str:
    """mAP@0.5 against the number of reviewed images, one point per arm (random marked)."""
    plt = _plt()
    arms = summary.get("arms") or {}
    fig, ax = plt.subplots(figsize=(5, 3))
    for name, arm in arms.items():
        style = {"marker": "s", "color": "#e63946"} if name == "random" else {"marker": "o"}
        ax.scatter([arm["reviews"]], [arm["map50"]], s=40, label=name, **style)
    ax.set_xlabel("reviewed images")
    ax.set_ylabel("mAP@0.5 (held-out)")
    ax.set_title("mAP per review: each strategy beside random selection")
    ax.legend(fontsize=7)
    return _png(fig)


def _per_class_figure(summary: Mapping[str, Any]) -> str:
    plt = _plt()
    import numpy as np

    per = summary["per_class_ap"]
    classes = list(per["v0"])
    x = np.arange(len(classes))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(x - 0.2, [per["v0"][c] for c in classes], 0.4, label="v0", color="#8d99ae")
    ax.bar(x + 0.2, [per["v1"][c] for c in classes], 0.4, label="v1", color="#2b9348")
    ax.set_xticks(x, classes)
    ax.set_ylim(0, 1)
    ax.set_ylabel("AP@0.5")
    ax.legend()
    ax.set_title("Per-class AP")
    return _png(fig)


def _histogram_figure(scores: Mapping[str, Sequence[float]], threshold: float) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    bins = [i / 20 for i in range(1, 21)]
    # The predictor keeps detections down to a score of 0.01, thousands of them near zero;
    # plot from 0.05 up, on a log scale, so the correct ones and the threshold stay visible.
    shown = {k: [x for x in scores.get(k, ()) if x >= MIN_PLOTTED_SCORE] for k in ("tp", "fp", "top")}
    if shown["tp"]:
        ax.hist(shown["tp"], bins=bins, alpha=0.6, label="correct detections", color="#2b9348")
    if shown["fp"]:
        ax.hist(shown["fp"], bins=bins, alpha=0.6, label="false positives", color="#d62828")
    if shown["top"]:
        ax.hist(shown["top"], bins=bins, histtype="step", linewidth=2, label="top score per pool image", color="#023e8a")
    ax.set_yscale("log")
    ax.axvline(threshold, color="black", linestyle="--", label=f"routing threshold {threshold:g}")
    ax.set_xlabel("model score (v0)")
    ax.set_ylabel("count (log)")
    ax.legend(fontsize=8)
    ax.set_title("Scores and the routing threshold")
    return _png(fig)


def corrected_example_png(image: bytes, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> str:
    """One image with the model's boxes (red, dashed) and the reviewer's (green)."""
    from PIL import Image

    plt = _plt()
    from matplotlib.patches import Rectangle

    img = Image.open(io.BytesIO(image)).convert("RGB")
    fig, ax = plt.subplots(figsize=(2.5, 2.5))
    ax.imshow(img)
    for b in before:
        ax.add_patch(Rectangle((b["left"], b["top"]), b["width"], b["height"], fill=False, edgecolor="#d62828",
                               linestyle="--", linewidth=1.5))
    for b in after:
        ax.add_patch(Rectangle((b["left"], b["top"]), b["width"], b["height"], fill=False, edgecolor="#2b9348", linewidth=1.5))
        ax.text(b["left"], max(b["top"] - 2, 0), b.get("label", ""), color="#2b9348", fontsize=6)
    ax.axis("off")
    return _png(fig)


def render_report(summary: Mapping[str, Any], *, scores: Mapping[str, Sequence[float]],
                  examples: Sequence[Mapping[str, str]] = ()) -> str:
    """The report page for ``summary`` (the demo's summary.json content)."""
    import jinja2

    figures = [
        {"png": _map_figure(summary), "alt": "mAP before and after", "caption": "mAP@0.5 on the held-out set."},
        {"png": _per_class_figure(summary), "alt": "per-class AP", "caption": "AP@0.5 per class, v0 and v1."},
        {"png": _histogram_figure(scores, summary["routing"]["threshold"]), "alt": "score histogram",
         "caption": f"v0 scores on the held-out set (correct vs false detections, scores >= {MIN_PLOTTED_SCORE}) and the "
                    "top score per pool image; pool images whose top score is below the threshold went to people."},
    ]
    if len(summary.get("arms") or {}) > 3:  # an arm beside v0, v1 and the control
        figures.insert(1, {"png": _reviews_figure(summary), "alt": "mAP per review",
                           "caption": "mAP@0.5 against reviewed images: confidence routing (v1) and every "
                                      "selection strategy beside random selection, at the same budget."})
    env = jinja2.Environment(autoescape=True)
    arm_names = {"v0": "v0 (seed set)", "v1": "v1: confidence routing", "control": "control: no reviews"}
    return env.from_string(_PAGE).render(summary=summary, figures=figures, examples=list(examples),
                                         arm_names=arm_names)
