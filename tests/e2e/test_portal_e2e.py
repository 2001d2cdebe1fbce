"""The portal end to end in real headless Chromium: sign in, work tasks, check stored answers."""

from __future__ import annotations

import io
import shutil
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
from tests.e2e.conftest import task_frame

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
W, H = 800, 533


def _png(w: int, h: int, color: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (w, h), color)
    d = ImageDraw.Draw(img)
    d.ellipse((100, 100, 250, 250), fill=(230, 80, 80))
    d.rectangle((400, 200, 600, 400), fill=(80, 160, 80))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    store = LocalStore(tmp_path_factory.mktemp("portal") / "root")
    store.put_bytes("s3://bucket/img/scene.png", _png(W, H, (200, 220, 240)))
    for i in range(6):
        store.put_bytes(f"s3://bucket/qa/img-{i}.png", _png(120, 90, (40 * i, 100, 200)))
    tq = TaskQueue.for_store(store)
    tq.register_queue("odr", owner="test", template=load_bundled("object-detection-review"), title="Review boxes")
    tq.add_task("odr", "scene-1", {
        "taskObject": "s3://bucket/img/scene.png", "labels": ["circle", "square"],
        "initialValue": [{"label": "circle", "left": 100, "top": 100, "width": 150, "height": 150},
                         {"label": "square", "left": 380, "top": 180, "width": 240, "height": 240}],
    })
    tq.register_queue("qa", owner="test", template=load_bundled("bulk-qa"), title="Bulk QA")
    tq.add_task("qa", "cat-0001", {
        "source-ref": "s3://bucket/qa/batches/cat-0001.json", "label": "cat", "batchId": "cat-0001",
        "items": [{"image": f"s3://bucket/qa/img-{i}.png", "confidence": 90 - i} for i in range(6)],
    })
    tq.register_queue("cls", owner="test", template=load_bundled("image-classification"), title="Classify")
    tq.add_task("cls", "c1", {"taskObject": "s3://bucket/img/scene.png", "labels": ["indoor", "outdoor", "abstract"]})
    token = tq.add_worker("alice")
    server, thread, base = run_in_thread(store, tq)
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield {"store": store, "tq": tq, "base": base, "token": token, "browser": browser}
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)


@pytest.fixture
def page(portal: dict[str, Any]) -> Iterator[Any]:
    ctx = portal["browser"].new_context(viewport={"width": 1280, "height": 860})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(portal["base"] + "/signin#token=" + portal["token"])  # the sign-in link form
    pg.wait_for_url(portal["base"] + "/")
    yield pg
    ctx.close()
    assert not errors, errors


def _submit_and_wait(page: Any) -> None:
    with page.expect_navigation():  # to /next: the next task, or the "nothing left" page
        page.keyboard.press("Control+Enter")


def test_bounding_box_move_one_draw_one(portal: dict[str, Any], page: Any) -> None:
    page.goto(portal["base"] + "/queues/odr/next")
    tf = task_frame(page)
    tf.wait_for_selector("crowd-bounding-box .cw-box")
    assert tf.locator("crowd-bounding-box .cw-box").count() == 2
    stage = tf.locator("crowd-bounding-box .cw-stage").bounding_box()
    scale = stage["width"] / W

    def screen(x: float, y: float) -> tuple[float, float]:
        return stage["x"] + x * scale, stage["y"] + y * scale

    # move the circle's box by (+30, +20) image pixels
    page.mouse.move(*screen(175, 175))
    page.mouse.down()
    page.mouse.move(*screen(190, 185), steps=3)
    page.mouse.move(*screen(205, 195), steps=3)
    page.mouse.up()
    # pick "square" with its shortcut and draw a new box
    page.keyboard.press("2")
    page.mouse.move(*screen(640, 40))
    page.mouse.down()
    page.mouse.move(*screen(700, 90), steps=4)
    page.mouse.move(*screen(760, 140), steps=4)
    page.mouse.up()
    assert tf.locator("crowd-bounding-box .cw-box").count() == 3
    _submit_and_wait(page)

    [answer] = portal["tq"].answers("odr", "scene-1")
    assert answer.worker_id == "alice"
    assert answer.answer == {"annotatedResult": {
        "boundingBoxes": [
            {"height": 150, "label": "circle", "left": 130, "top": 120, "width": 150},
            {"height": 240, "label": "square", "left": 380, "top": 180, "width": 240},
            {"height": 100, "label": "square", "left": 640, "top": 40, "width": 120},
        ],
        "inputImageProperties": {"height": H, "width": W},
        "initialValueModified": True,
    }}
    box = answer.answer["annotatedResult"]
    assert list(box) == ["boundingBoxes", "inputImageProperties", "initialValueModified"]
    assert list(box["boundingBoxes"][0]) == ["height", "label", "left", "top", "width"]  # as the docs sample
    validate_element_output("crowd-bounding-box", box, strict=True)
    assert answer.time_spent_seconds > 0


def test_bulk_qa_uncheck_two(portal: dict[str, Any], page: Any) -> None:
    page.goto(portal["base"] + "/queues/qa/next")
    tf = task_frame(page)
    tf.wait_for_selector("crowd-checkbox input")
    boxes = tf.locator("crowd-checkbox input")
    assert boxes.count() == 6
    boxes.nth(1).click()
    boxes.nth(4).click()
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [answer] = portal["tq"].answers("qa", "cat-0001")
    assert answer.answer == {"confirmed": {"0": True, "1": False, "2": True, "3": True, "4": False, "5": True}}
    assert sorted(k for k, v in answer.answer["confirmed"].items() if not v) == ["1", "4"]


def test_image_classifier_by_keyboard(portal: dict[str, Any], page: Any) -> None:
    page.goto(portal["base"] + "/queues/cls/next")
    tf = task_frame(page)
    tf.wait_for_selector("crowd-image-classifier .cw-category")
    page.keyboard.press("Control+Enter")  # nothing chosen yet: the form refuses
    tf.wait_for_selector("crowd-form .cw-form-errors:not([hidden])")
    assert portal["tq"].answers("cls", "c1") == []
    tf.locator("crowd-image-classifier .cw-category", has_text="outdoor").click()
    _submit_and_wait(page)
    [answer] = portal["tq"].answers("cls", "c1")
    assert answer.answer == {"category": {"label": "outdoor"}}
    validate_element_output("crowd-image-classifier", answer.answer["category"], strict=True)


def test_bounding_box_page_screenshot(portal: dict[str, Any], page: Any, tmp_path: Path) -> None:
    """A look at the bounding-box page (the PNG stays in tmp; not a visual diff)."""
    tq: TaskQueue = portal["tq"]
    tq.add_task("odr", "scene-2", {"taskObject": "s3://bucket/img/scene.png", "labels": ["circle", "square"],
                                   "initialValue": [{"label": "circle", "left": 100, "top": 100, "width": 150, "height": 150}]})
    page.goto(portal["base"] + "/queues/odr/next")
    tf = task_frame(page)
    tf.wait_for_selector("crowd-bounding-box .cw-box")
    tf.locator("crowd-bounding-box .cw-box").first.click()
    shot = tmp_path / "bbox.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert tf.locator("crowd-bounding-box .cw-handle").count() == 8  # the selected box has handles


def _s3_uris(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("s3://") and value.lower().endswith((".jpg", ".png", ".jpeg")) else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in _s3_uris(v)]
    if isinstance(value, list):
        return [u for v in value for u in _s3_uris(v)]
    return []


def test_every_bundled_template_works_in_the_portal(portal: dict[str, Any], page: Any) -> None:
    """Each bundled template with its sample input: local elements only, no notice, no JS error."""
    from gtflow.ui import bundled_templates, load_bundled_sample

    tq: TaskQueue = portal["tq"]
    png = _png(64, 48, (90, 90, 90))
    for name in bundled_templates():
        sample = load_bundled_sample(name)
        for uri in _s3_uris(sample):
            portal["store"].put_bytes(uri, png)
        tq.register_queue(f"b-{name}", owner="test", template=load_bundled(name), title=name)
        tq.add_task(f"b-{name}", "s1", sample)
        page.goto(portal["base"] + f"/queues/b-{name}/next")
        tf = task_frame(page)
        tf.wait_for_selector("crowd-form crowd-button")
        assert tf.locator(".cw-notice").count() == 0, name
        answer = tf.evaluate("document.querySelector('crowd-form').crowdAnswer()")
        assert isinstance(answer, dict), name


def test_moderation_review_radio_pairs(portal: dict[str, Any], page: Any) -> None:
    """Same-name radio buttons merge: {"label-0": {"confirm": true, "reject": false}, ...}."""
    from gtflow.ui import load_bundled_sample

    tq: TaskQueue = portal["tq"]
    sample = load_bundled_sample("moderation-review")
    sample["taskObject"] = "s3://bucket/img/scene.png"
    tq.register_queue("mod", owner="test", template=load_bundled("moderation-review"), title="Moderation")
    tq.add_task("mod", "m1", sample)
    page.goto(portal["base"] + "/queues/mod/next")
    tf = task_frame(page)
    tf.locator("crowd-radio-button .cw-check-text", has_text="Confirm").first.click()
    tf.locator("crowd-radio-button .cw-check-text", has_text="Reject").nth(1).click()
    tf.locator("crowd-radio-button .cw-check-text", has_text="Confirm").nth(1).click()  # change of mind
    tf.locator("crowd-text-area textarea").fill("looks fine")
    # a category the model missed (i19: the reviewer can add labels the model did not propose)
    tf.locator('crowd-checkbox[name="missed"][value="Drugs & Tobacco"] input').check()
    _submit_and_wait(page)
    [answer] = tq.answers("mod", "m1")
    missed = {c: c == "Drugs & Tobacco" for c in sample["otherCategories"]}
    assert answer.answer == {"label-0": {"confirm": True, "reject": False},
                             "label-1": {"confirm": True, "reject": False}, "note": "looks fine",
                             "missed": missed, "clean": {"clean": False}}


def test_prefetch_and_skip_shortcut(portal: dict[str, Any], page: Any) -> None:
    """The page warms the cache with the next task's images; Alt+N skips to it."""
    tq: TaskQueue = portal["tq"]
    tq.register_queue("cls2", owner="test", template=load_bundled("image-classification"), title="Classify 2")
    for i in range(2):
        tq.add_task("cls2", f"k{i}", {"taskObject": f"s3://bucket/qa/img-{i}.png", "labels": ["a", "b"]})
    page.goto(portal["base"] + "/queues/cls2/next")
    task_frame(page)
    k1 = tq.task("cls2", "k1").ref  # URLs and hints carry the task's ref, not its id
    page.wait_for_selector(f"body[data-prefetched='{k1}']")
    assert "1</strong> pending" not in page.locator("#gtp-progress").inner_html()  # 2 pending
    with page.expect_navigation(url=f"**/tasks/{k1}"):
        page.keyboard.press("Alt+n")
    page.keyboard.press("2")  # the second category
    _submit_and_wait(page)
    assert [a.answer for a in tq.answers("cls2", "k1")] == [{"category": {"label": "b"}}]
    assert tq.answers("cls2", "k0") == []
