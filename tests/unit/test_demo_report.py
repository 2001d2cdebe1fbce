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
