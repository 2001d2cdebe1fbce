"""A local human loop end to end, in headless Chromium: start loops for low-confidence
predictions, a reviewer signs in to the portal, draws a box and submits, the answer is
collected as A2I output.json and converted into a manifest that passes the OD validation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops, from_a2i
from gtflow.a2i.workflow import PredictionItem, start_for_predictions
from gtflow.manifest import validate_manifest
from gtflow.routing import Prediction, RoutingPolicy
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from tests.e2e.conftest import task_frame

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CLASSES = {0: "circle", 1: "square"}


def png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (240, 240, 240)).save(buf, format="PNG")
    return buf.getvalue()


def test_review_in_the_browser_to_training_manifest(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from gtflow.portal import run_in_thread

    store = LocalStore(tmp_path / "root")
    for i in range(3):
        store.put_bytes(f"s3://bucket/img/{i}.png", png(400, 300))
    loops = LocalHumanLoops(TaskQueue.for_store(store), store)
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
    loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i", ui, "Check boxes", "Fix the boxes"))
    items = [PredictionItem(Prediction.from_response(f"s3://bucket/img/{i}.png", {"prediction": [[0, s, 0.1, 0.1, 0.4, 0.5]]}))
             for i, s in enumerate([0.31, 0.97, 0.12])]
    routed = start_for_predictions(loops, "od-review", items, RoutingPolicy(threshold=0.5), CLASSES, store=store)
    assert [r.decision.routed for r in routed] == [True, False, True]
    token = loops.queue.add_worker("alice")

    server, thread, base = run_in_thread(store, loops.queue)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                outside: list[str] = []
                page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
                page.goto(f"{base}/signin")
                page.fill("#token", token)
                page.click("#signin-form button[type=submit]")
                page.wait_for_url(f"{base}/")
                page.goto(f"{base}/queues/od-review/next")
                tf = task_frame(page)
                tf.wait_for_function(
                    "() => { const e = document.querySelector('crowd-bounding-box'); return e && e.W > 0; }", timeout=15000)
                task_id = page.get_attribute("body", "data-task-id")
                assert tf.eval_on_selector("crowd-bounding-box", "e => e.shapes.length") == 1  # the model's box
                # draw a second box with the mouse: 50..150 x 180..280 in image pixels
                box = tf.eval_on_selector("crowd-bounding-box img.cw-img", "i => { const r = i.getBoundingClientRect(); return [r.x, r.y, r.width / i.naturalWidth]; }")
                x0, y0, scale = box
                at = page.locator("#gtp-frame").bounding_box()  # frame coordinates -> page coordinates
                x0, y0 = x0 + at["x"], y0 + at["y"]
                page.mouse.move(x0 + 50 * scale, y0 + 180 * scale)
                page.mouse.down()
                page.mouse.move(x0 + 100 * scale, y0 + 230 * scale, steps=5)
                page.mouse.move(x0 + 150 * scale, y0 + 280 * scale, steps=5)
                page.mouse.up()
                assert tf.eval_on_selector("crowd-bounding-box", "e => e.shapes.length") == 2
                with page.expect_navigation(timeout=15000):
                    page.click("#gtp-submit")
                # the portal opens the next task: the other routed loop
                assert page.get_attribute("body", "data-task-id") not in (None, task_id)
                assert errors == [] and outside == []
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    loop = loops.describe(task_id)
    assert loop.status == "Completed"
    outputs = loops.collect("od-review")
    assert [c.output.human_loop_name for c in outputs] == [task_id]
    answer = outputs[0].output.human_answers[0]
    assert answer.worker_id == "alice"
    result = answer.answer_content["annotatedResult"]
    assert result["inputImageProperties"] == {"height": 300, "width": 400}
    assert result["initialValueModified"] is True
    drawn = result["boundingBoxes"][1]
    assert abs(drawn["left"] - 50) <= 3 and abs(drawn["top"] - 180) <= 3 and abs(drawn["width"] - 100) <= 3
    manifest = tmp_path / "train.manifest"
    report = from_a2i("s3://bucket/a2i/", str(manifest), label_attribute="a2i-retraining", class_map=CLASSES, store=store)
    assert report.lines == 1
    line = json.loads(manifest.read_text())
    assert len(line["a2i-retraining"]["annotations"]) == 2
    v = validate_manifest(str(manifest), task="object-detection", label_attribute="a2i-retraining", num_classes=2)
    assert v.valid, v.format_lines()
