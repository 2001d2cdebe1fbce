"""The end-to-end demo, small enough for CI: v1 beats v0 on the held-out set, and the report
opens in a real browser with its plots."""

import json

import pytest

from gtflow.demo import DemoConfig, run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.training, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    # Smaller than the default demo (192 px like it, a quarter of the previous CI test's CPU
    # time), but past the point where SSDlite starts to detect, so v1's reviewed data and extra
    # steps show beyond the evaluation's noise. The selection arm runs in .ci/run's --quick demo.
    cfg = DemoConfig(workdir=workdir, image_size=192, seed_images=96, pool_images=64, heldout_images=48,
                     v0_steps=150, v1_steps=80, max_loops=64, control=False, arms=())
    return workdir, run_demo(cfg)


def test_v1_beats_v0_and_summary_is_complete(demo):
    workdir, summary = demo
    on_disk = json.loads((workdir / "summary.json").read_text())
    assert on_disk["map50"] == summary["map50"]
    m = summary["map50"]
    assert m["v1"] > m["v0"], m
    assert m["delta"] == pytest.approx(m["v1"] - m["v0"], abs=1e-3)
    # promoted because the whole bootstrap interval of the gain lies above zero, not on noise
    assert summary["retrain"]["comparison"]["verdict"] == "better", summary["retrain"]["comparison"]
    assert summary["retrain"]["status"] == "promoted" and summary["retrain"]["reason"] == "better"
    assert summary["comparisons"]["v1_vs_v0"]["delta"] == pytest.approx(m["delta"], abs=1e-3)
    assert not summary["smoke_test"] and set(summary["arms"]) == {"v0", "v1"}
    assert summary["models"]["current"] == summary["models"]["v1"]
    r = summary["routing"]
    assert 0 < r["routed"] <= r["pool"] and r["routed"] <= 64
    assert summary["reviews"]["done"] == r["routed"]  # every routed image was reviewed, once
    assert set(summary["seconds"]) >= {"data", "train_v0", "predict", "route", "review", "retrain", "report", "total"}


def test_rerunning_the_retrain_finds_nothing_new(demo):
    from gtflow.pipeline import RetrainConfig, retrain
    from gtflow.pipeline.local import local_services
    from gtflow.store import LocalStore

    workdir, summary = demo
    store = LocalStore(summary["store_root"])
    lineage = json.loads(store.get_text(summary["retrain"]["lineage_uri"]))
    assert len(lineage["answers"]) == summary["reviews"]["done"]
    cfg = RetrainConfig(name="demo", state_prefix="s3://demo/retrain", models_prefix="s3://demo/models",
                        output_prefix="s3://demo/training", label_attribute="bounding-box",
                        class_map={"0": "circle", "1": "ellipse", "2": "square", "3": "triangle"},
                        training_manifest="s3://demo/data/seed.manifest", heldout_manifest="s3://demo/data/heldout.manifest",
                        answers={"flow_definition": "demo-od-review"})
    assert retrain(cfg, local_services(store, cfg)).status == "nothing-new"


def test_report_opens_with_its_plots(demo, browser_page):
    workdir, summary = demo
    page = browser_page
    page.goto((workdir / "report.html").as_uri())
    assert page.title() == "gtflow demo report"
    assert page.inner_text("#map-v1") == f"{summary['map50']['v1']:.3f}"
    widths = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) >= 3 and all(w > 100 for w in widths[:3])
