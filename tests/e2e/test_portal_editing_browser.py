"""Editing in real headless Chromium: undo/redo, polygons that cross themselves, unsaved work,
images that fail to load, labels at the top edge, and the layout on a phone and a laptop.

``GTFLOW_UPDATE_SCREENSHOTS=1`` also writes the screenshots docs/portal.md shows
(``docs/portal-*.png``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from gtflow.portal import run_in_thread
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.ui import load_bundled
from gtflow.wire.crowd import validate_element_output
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, task_frame

pytestmark = pytest.mark.e2e

W, H = 640, 400
DOCS = Path(__file__).parent.parent.parent / "docs"
POLY = ('<script src="https://assets.crowd.aws/crowd-html-elements.js"></script><crowd-form>'
        '<crowd-polygon name="poly" src="{{ task.input.taskObject | grant_read_access }}" header="Outline"'
        ' labels="[\'lake\']"></crowd-polygon></crowd-form>')
POINTS = ('<script src="https://assets.crowd.aws/crowd-html-elements.js"></script><crowd-form>'
          '<crowd-keypoint name="kp" src="{{ task.input.taskObject | grant_read_access }}" header="Points"'
          ' labels="[\'a\', \'b\']"></crowd-keypoint></crowd-form>')


def _png() -> bytes:
    img = Image.new("RGB", (W, H), (206, 224, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 180, 120), fill=(90, 150, 90))
    d.ellipse((300, 150, 480, 330), fill=(220, 110, 90))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    store = LocalStore(tmp_path_factory.mktemp("editing") / "root")
    store.put_bytes("s3://bucket/img/scene.png", _png())
    tq = TaskQueue.for_store(store)
    token = tq.add_worker("alice")
    server, thread, base = run_in_thread(store, tq)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield {"tq": tq, "store": store, "base": base, "token": token, "browser": browser}
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)


def _page(portal: dict[str, Any], width: int = 1280, height: int = 800) -> Any:
    ctx = portal["browser"].new_context(viewport={"width": width, "height": height})
    pg = ctx.new_page()
    pg.goto(portal["base"] + "/signin#token=" + portal["token"])
    pg.wait_for_url(portal["base"] + "/")
    return pg


@pytest.fixture
def page(portal: dict[str, Any]) -> Iterator[Any]:
    pg = _page(portal)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.context.close()
    assert not errors, errors


def _queue(portal: dict[str, Any], name: str, template: str, task_input: dict[str, Any]) -> None:
    tq: TaskQueue = portal["tq"]
    tq.register_queue(name, owner="test", template=template, title=name)
    tq.add_task(name, "t1", task_input)


def _tool(page: Any, portal: dict[str, Any], queue: str, tag: str) -> tuple[Any, Any]:
    page.goto(portal["base"] + f"/queues/{queue}/next")
    tf = task_frame(page)
    tf.wait_for_function(f"() => {{ const e = document.querySelector('{tag}'); return e && e.W > 0; }}")
    return tf, tf.locator(f"{tag} .cw-stage")

def _at(stage: Any, x: float, y: float) -> tuple[float, float]:
    b = stage.bounding_box()
    return b["x"] + x * b["width"] / W, b["y"] + y * b["height"] / H


def _count(tf: Any, tag: str) -> int:
    return int(tf.evaluate(f"document.querySelector('{tag}').shapes.length"))


def test_undo_redo_boxes(portal: dict[str, Any], page: Any) -> None:
    _queue(portal, "boxes", load_bundled("object-detection-review"),
           {"taskObject": "s3://bucket/img/scene.png", "labels": ["field", "sun"], "initialValue": []})
    tf, stage = _tool(page, portal, "boxes", "crowd-bounding-box")
    for x0, y0, x1, y1 in ((300, 150, 480, 330), (20, 200, 120, 300)):
        page.mouse.move(*_at(stage, x0, y0))
        page.mouse.down()
        page.mouse.move(*_at(stage, (x0 + x1) / 2, (y0 + y1) / 2), steps=3)
        page.mouse.move(*_at(stage, x1, y1), steps=3)
        page.mouse.up()
    assert _count(tf, "crowd-bounding-box") == 2
    page.keyboard.press("Control+z")
    assert _count(tf, "crowd-bounding-box") == 1
    page.keyboard.press("Control+z")
    assert _count(tf, "crowd-bounding-box") == 0
    page.keyboard.press("Control+Shift+z")
    assert _count(tf, "crowd-bounding-box") == 1
    tf.locator("crowd-bounding-box .cw-btn", has_text="Redo").click()
    tf.locator("crowd-bounding-box .cw-btn", has_text="Undo").click()
    assert _count(tf, "crowd-bounding-box") == 1
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [answer] = portal["tq"].answers("boxes", "t1")
    out = answer.answer["annotatedResult"]
    validate_element_output("crowd-bounding-box", out, strict=True)
    [box] = out["boundingBoxes"]
    assert box["label"] == "field" and abs(box["left"] - 300) <= 2 and abs(box["width"] - 180) <= 2


def test_undo_keypoints_and_a_crossing_polygon_is_refused(portal: dict[str, Any], page: Any) -> None:
    _queue(portal, "kp", POINTS, {"taskObject": "s3://bucket/img/scene.png"})
    tf, stage = _tool(page, portal, "kp", "crowd-keypoint")
    page.mouse.click(*_at(stage, 50, 50))
    page.mouse.click(*_at(stage, 90, 60))
    page.locator("#gtp-progress").click()  # the focus leaves the task for the portal's bar
    page.keyboard.press("Control+z")  # still undoes in the task
    tf.wait_for_function("() => document.querySelector('crowd-keypoint').shapes.length === 1")
    assert _count(tf, "crowd-keypoint") == 1
    page.keyboard.press("Control+Shift+z")
    assert _count(tf, "crowd-keypoint") == 2

    _queue(portal, "poly", POLY, {"taskObject": "s3://bucket/img/scene.png"})
    tf, stage = _tool(page, portal, "poly", "crowd-polygon")
    for x, y in ((100, 100), (300, 300), (300, 100), (100, 300)):  # a bow tie
        page.mouse.click(*_at(stage, x, y))
    page.keyboard.press("Enter")
    assert _count(tf, "crowd-polygon") == 0
    assert "cannot cross itself" in tf.locator("crowd-polygon .cw-field-error").inner_text()
    page.keyboard.press("Escape")
    for x, y in ((100, 100), (300, 100), (300, 300), (100, 300)):  # a square
        page.mouse.click(*_at(stage, x, y))
    page.keyboard.press("Enter")
    assert _count(tf, "crowd-polygon") == 1
    page.keyboard.press("Control+z")
    assert _count(tf, "crowd-polygon") == 0
    page.keyboard.press("Control+Shift+z")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    [answer] = portal["tq"].answers("poly", "t1")
    validate_element_output("crowd-polygon", answer.answer["poly"], strict=True)
    assert [len(p["vertices"]) for p in answer.answer["poly"]["polygons"]] == [4]


def test_skipping_changed_work_asks_first(portal: dict[str, Any], page: Any) -> None:
    _queue(portal, "ask", POINTS, {"taskObject": "s3://bucket/img/scene.png"})
    tf, stage = _tool(page, portal, "ask", "crowd-keypoint")
    url = page.url
    page.mouse.click(*_at(stage, 50, 50))
    asked: list[str] = []

    def dismiss(d: Any) -> None:
        asked.append(d.message)
        d.dismiss()

    page.once("dialog", dismiss)
    page.locator("#gtp-skip").click()
    page.wait_for_timeout(300)
    assert asked and "not saved" in asked[0] and page.url == url  # stayed
    # a reload asks too (the browser's own "leave site?" prompt)
    kinds: list[str] = []

    def stay(d: Any) -> None:
        kinds.append(d.type)
        d.dismiss()

    page.once("dialog", stay)
    page.evaluate("setTimeout(() => location.reload(), 0)")
    page.wait_for_timeout(500)
    assert kinds == ["beforeunload"] and page.url == url
    assert _count(tf, "crowd-keypoint") == 1  # the point is still there
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("#gtp-skip").click()


def test_an_image_that_failed_to_load_blocks_submission(portal: dict[str, Any], page: Any) -> None:
    _queue(portal, "broken-img", load_bundled("image-classification"),
           {"taskObject": "s3://bucket/img/missing.png", "labels": ["a", "b"]})
    page.goto(portal["base"] + "/queues/broken-img/next")
    tf = task_frame(page)
    tf.locator("crowd-image-classifier .cw-category").first.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#gtp-status.gtp-bad")
    assert "failed to load" in page.locator("#gtp-status").inner_text()
    page.wait_for_timeout(300)
    assert portal["tq"].answers("broken-img", "t1") == []


def test_labels_of_boxes_at_the_top_edge_are_visible(portal: dict[str, Any], page: Any) -> None:
    _queue(portal, "top", load_bundled("object-detection-review"), {
        "taskObject": "s3://bucket/img/scene.png", "labels": ["field", "sun"],
        "initialValue": [{"label": "field", "left": 0, "top": 0, "width": 180, "height": 120}]})
    tf, stage = _tool(page, portal, "top", "crowd-bounding-box")
    label = tf.locator("crowd-bounding-box .cw-box-label").bounding_box()
    wrap = tf.locator("crowd-bounding-box .cw-stage-wrap").bounding_box()
    assert label["y"] >= wrap["y"] and label["height"] > 10  # inside the visible stage, not cut off


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_layout_on_a_phone_and_a_laptop(portal: dict[str, Any], width: int, height: int) -> None:
    tq: TaskQueue = portal["tq"]
    if "layout" not in [q.name for q in tq.queues()]:
        tq.register_queue("layout", owner="labeling-job", template=load_bundled("object-detection-review"),
                          title="Review the detector's boxes", description="Fix, add or delete boxes")
        for i in range(2):
            tq.add_task("layout", f"t{i}", {
                "taskObject": "s3://bucket/img/scene.png", "labels": ["field", "sun"],
                "initialValue": [{"label": "field", "left": 0, "top": 0, "width": 180, "height": 120},
                                 {"label": "sun", "left": 300, "top": 150, "width": 180, "height": 180}]})
    page = _page(portal, width, height)
    try:
        page.goto(portal["base"] + "/")
        start = page.locator("tr", has_text="Review the detector").locator("a", has_text="Start").bounding_box()
        assert start is not None and start["x"] >= 0 and start["x"] + start["width"] <= width
        shot(page, f"portal-home-{width}x{height}.png")
        page.goto(portal["base"] + "/queues/layout/next")
        tf = task_frame(page)
        tf.wait_for_function("() => { const e = document.querySelector('crowd-bounding-box'); return e && e.W > 0; }")
        for sel in ("#gtp-help-toggle", "#gtp-submit", "#gtp-skip"):
            b = page.locator(sel).bounding_box()
            assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= width and b["y"] >= 0, sel
        frame = page.locator("#gtp-frame").bounding_box()
        assert frame["width"] <= width and frame["height"] >= height * 0.5
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        tf.locator("crowd-bounding-box .cw-box").nth(1).click()
        shot(page, f"portal-bounding-box-{width}x{height}.png")
    finally:
        page.context.close()


def shot(page: Any, name: str) -> None:
    """Write a docs screenshot when asked to (GTFLOW_UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("GTFLOW_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / name))


def test_remaining_bundled_templates_store_their_documented_output(portal: dict[str, Any], page: Any) -> None:
    """bounding-box (from scratch), image-classification-multilabel and label-verification,
    driven end to end; each stored answer is the element's documented output."""
    from gtflow.ui import load_bundled_sample

    tq: TaskQueue = portal["tq"]
    for name in ("bounding-box", "image-classification-multilabel", "label-verification"):
        sample = dict(load_bundled_sample(name))
        sample["taskObject"] = "s3://bucket/img/scene.png"
        _queue(portal, f"bundled-{name}", load_bundled(name), sample)

    tf, stage = _tool(page, portal, "bundled-bounding-box", "crowd-bounding-box")
    tf.locator("crowd-bounding-box .cw-label", has_text="person").click()
    page.mouse.move(*_at(stage, 300, 150))
    page.mouse.down()
    page.mouse.move(*_at(stage, 400, 250), steps=3)
    page.mouse.move(*_at(stage, 480, 330), steps=3)
    page.mouse.up()
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [a] = tq.answers("bundled-bounding-box", "t1")
    out = a.answer["annotatedResult"]
    validate_element_output("crowd-bounding-box", out, strict=True)
    assert list(out) == ["boundingBoxes", "inputImageProperties"]  # no initialValueModified from scratch
    [box] = out["boundingBoxes"]
    assert box["label"] == "person" and abs(box["left"] - 300) <= 2 and abs(box["height"] - 180) <= 2

    page.goto(portal["base"] + "/queues/bundled-image-classification-multilabel/next")
    tf = task_frame(page)
    for c in ("car", "person"):
        tf.locator("crowd-image-classifier-multi-select .cw-category", has_text=c).click()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    [a] = tq.answers("bundled-image-classification-multilabel", "t1")
    assert a.answer == {"category": {"labels": ["person", "car"]}}  # in category order
    validate_element_output("crowd-image-classifier-multi-select", a.answer["category"], strict=True)

    page.goto(portal["base"] + "/queues/bundled-label-verification/next")
    tf = task_frame(page)
    tf.locator("crowd-image-classifier .cw-category", has_text="Incorrect").click()
    tf.locator("crowd-image-classifier summary", has_text="Add a comment").click()
    tf.locator("crowd-image-classifier textarea.cw-comment").fill("it is a fox")
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [a] = tq.answers("bundled-label-verification", "t1")
    assert a.answer == {"verification": {"label": "Incorrect", "workerComment": "it is a fox"}}
    validate_element_output("crowd-image-classifier", a.answer["verification"], strict=True)
