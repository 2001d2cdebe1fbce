"""The HTML bulk QA report opens in a real browser and its plots render (no network)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gtflow.qa import Verdict, analyse, recommend
from gtflow.qa.report import to_html

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"


def open_report(path: Path) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            imgs = page.eval_on_selector_all(
                "img.plot", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight, e.alt])")
            return {
                "title": page.title(),
                "imgs": imgs,
                "rows": page.eval_on_selector_all("#table tr", "els => els.length"),
                "threshold_cells": page.inner_text("#thresholds"),
                "requests": [u for u in requests if not u.startswith(("file:", "data:"))],
                "errors": errors,
            }
        finally:
            browser.close()


def write_report(path: Path, vs: list[Verdict], **kwargs: object) -> Path:
    a = analyse(vs)
    ths = {m: recommend(a, cost_ratio=10, method=m) for m in ("lower-bound", "bucket-walk")}
    path.write_text(to_html(a, thresholds=ths, cost_ratio=10, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path


def test_report_opens_and_plots_render(tmp_path: Path) -> None:
    rnd = random.Random(7)
    vs = [Verdict(f"s3://b/{c}/{i}.jpg", c, rnd.uniform(80, 100), int(rnd.random() < 0.9), int(rnd.random() < 0.1))
          for c in ("cat", "dog", "<img src=x onerror=alert(1)>") for i in range(60)]
    got = open_report(write_report(tmp_path / "report.html", vs, title="QA <report>"))
    assert got["title"] == "QA <report>"
    imgs = got["imgs"]
    assert isinstance(imgs, list) and len(imgs) == 4  # overview + one per class
    for complete, width, height, _alt in imgs:
        assert complete and width > 100 and height > 100
    assert got["rows"] == 1 + 3 * 5 + 5  # header, 3 classes x (4 buckets + all), overall
    assert "cat" in str(got["threshold_cells"]) and "bucket-walk" in str(got["threshold_cells"])
    assert got["requests"] == []  # self-contained: nothing fetched
    assert got["errors"] == []  # the hostile class name did not run
