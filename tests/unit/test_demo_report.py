"""The demo report renders every figure and escapes what it prints."""

import base64
import io

from PIL import Image

from gtflow.demo.report import corrected_example_png, render_report

SUMMARY = {
    "reviewer": "simulated<script>", "finished_at": "now",
    "map50": {"v0": 0.4, "v1": 0.5, "delta": 0.1, "control": 0.45},
    "per_class_ap": {"v0": {"circle": 0.3, "square": 0.5}, "v1": {"circle": 0.4, "square": 0.6},
                     "control": {"circle": 0.35, "square": 0.55}},
    "routing": {"routed": 3, "pool": 10, "threshold": 0.5}, "reviews": {"done": 3},
    "retrain": {"status": "promoted"}, "seconds": {"train_v0": 1.0, "total": 2.0},
}


def test_report_has_three_figures_and_is_escaped():
    html = render_report(SUMMARY, scores={"tp": [0.9, 0.8, 0.02], "fp": [0.01] * 1000 + [0.3], "top": [0.2, 0.7]})
    pngs = html.count('src="data:image/png;base64,')
    assert pngs == 3
    assert "simulated<script>" not in html and "simulated&lt;script&gt;" in html
    assert 'id="map-v1">0.500<' in html and "control" in html


def test_corrected_example_draws_on_the_image():
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, format="PNG")
    png = corrected_example_png(buf.getvalue(), [{"left": 5, "top": 5, "width": 20, "height": 20}],
                                [{"left": 30, "top": 30, "width": 20, "height": 20, "label": "circle"}])
    img = Image.open(io.BytesIO(base64.b64decode(png)))
    assert img.size[0] > 50 and len(img.convert("RGB").getcolors(maxcolors=1 << 20) or ()) > 2  # more than the white background


def test_report_plots_map_per_review_for_a_strategy_beside_random():
    arms = {"v0": {"map50": 0.4, "reviews": 0}, "v1": {"map50": 0.5, "reviews": 8},
            "control": {"map50": 0.45, "reviews": 0}, "random": {"map50": 0.47, "reviews": 8},
            "uncertainty": {"map50": 0.52, "reviews": 8}}
    html = render_report({**SUMMARY, "arms": arms}, scores={"tp": [0.9], "fp": [0.3], "top": [0.2]})
    assert html.count('src="data:image/png;base64,') == 4 and 'alt="mAP per review"' in html
    assert "uncertainty selection" in html and "random selection" in html


def test_demo_strategy_selectors_are_gtflow_selection():
    from gtflow.demo.selection import SELECTORS
    from gtflow.routing import Prediction

    preds = [Prediction.from_response(f"s3://bucket/{i}.png", {"prediction": [[0, s, .1, .1, .5, .5]]})
             for i, s in enumerate([0.5, 0.95, 0.2, 0.9, 0.55, 0.99])]
    assert SELECTORS["uncertainty"](preds, 2, 7) == [0, 4]  # nearest 0.5
    assert SELECTORS["top-score"](preds, 2, 7) == [0, 2]  # lowest top scores
    assert SELECTORS["random"](preds, 2, 7) == SELECTORS["random"](preds, 2, 7)


def test_demo_cli_strategy_adds_an_arm_beside_random(monkeypatch):
    from click.testing import CliRunner

    import gtflow.demo
    from gtflow.cli import cli

    seen = {}

    def fake(cfg, console=None):
        seen["arms"] = cfg.arms
        raise SystemExit(0)

    monkeypatch.setattr(gtflow.demo, "run_demo", fake)
    CliRunner().invoke(cli, ["demo", "--quick", "--strategy", "class-balanced", "--arms", "none"])
    assert seen["arms"] == ("random", "class-balanced")
