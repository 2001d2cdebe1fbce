"""AWS's own sample templates, scripts and all, driven end to end in headless Chromium.

The templates (``tests/e2e/aws_task_uis/``, copies from aws-samples/amazon-sagemaker-ground-
truth-task-uis) run in the portal's sandboxed task frame as in GT's worker UI: the keypoint
template's validation script refuses an incomplete answer in the page; the two-tier classifier
shows its follow-up questions; the unwrapped crowd-entity-annotation submits itself. Each
stored answer is compared with the element's documented output.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gtflow.portal import run_in_thread
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.wire.crowd import validate_element_output
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, task_frame

pytestmark = pytest.mark.e2e

UIS = Path(__file__).parent / "aws_task_uis"
W, H = 400, 300
TEXT = "Alice met Bob in Paris."
XSS = """"'><img src=x onerror="document.body.setAttribute('data-xss','1')"></script><script>document.body.setAttribute('data-xss','2')</script>"""
NER_LABELS = [{"label": "person", "shortDisplayName": "per", "fullDisplayName": "Person"},
              {"label": "place", "shortDisplayName": "loc", "fullDisplayName": "Place"}]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (W, H), (120, 160, 200)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    store = LocalStore(tmp_path_factory.mktemp("aws-uis") / "root")
    store.put_bytes("s3://bucket/img/scene.png", _png())
    tq = TaskQueue.for_store(store)

    def queue(name: str, file: str, task_input: dict[str, Any]) -> None:
        tq.register_queue(name, owner="test", template=(UIS / file).read_text(), title=name)
        tq.add_task(name, "t1", task_input)

    queue("kp", "keypoint-additional-answer-validation.liquid.html", {"taskObject": "s3://bucket/img/scene.png"})
    queue("tier", "dynamic-two-tier-image-classification.liquid.html", {"taskObject": "s3://bucket/img/scene.png"})
    queue("ner", "named-entity-recognition.liquid.html", {"taskObject": TEXT, "labels": NER_LABELS})
    queue("inst", "instance-segmentation.liquid.html", {"taskObject": "s3://bucket/img/scene.png"})
    queue("ner2", "named-entity-recognition-with-additional-classification.liquid.html", {})
    tq.register_queue("probe", owner="test", title="probe", template=(
        '<crowd-form><crowd-input name="note"></crowd-input></crowd-form>'
        '<p id="evil" title="{{ task.input.evil }}">{{ task.input.evil }}</p>'
        "<script>document.body.setAttribute('data-inline-ran', 'yes');</script>"))
    tq.add_task("probe", "t1", {"evil": XSS})
    token = tq.add_worker("alice")
    server, thread, base = run_in_thread(store, tq)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield {"tq": tq, "base": base, "token": token, "browser": browser}
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)


@pytest.fixture
def page(portal: dict[str, Any]) -> Iterator[Any]:
    ctx = portal["browser"].new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(portal["base"] + "/signin#token=" + portal["token"])
    pg.wait_for_url(portal["base"] + "/")
    yield pg
    ctx.close()
    assert not errors, errors


def _open(page: Any, portal: dict[str, Any], queue: str) -> Any:
    page.goto(portal["base"] + f"/queues/{queue}/next")
    return task_frame(page)


def test_keypoint_template_validation_script_refuses_an_incomplete_answer(portal: dict[str, Any], page: Any) -> None:
    tq: TaskQueue = portal["tq"]
    tf = _open(page, portal, "kp")
    tf.wait_for_function("() => { const e = document.querySelector('crowd-keypoint'); return e && e.W > 0; }")
    # the template reads the labels attribute back as JSON, as GT's element reflects it
    assert tf.get_attribute("crowd-keypoint", "labels") == '["Item A","Item B","Item C"]'

    def click(x: int, y: int) -> None:
        stage = tf.locator("crowd-keypoint .cw-stage").bounding_box()  # the error box moves it
        scale = stage["width"] / W
        page.mouse.click(stage["x"] + x * scale, stage["y"] + y * scale)

    click(100, 80)  # one of three keypoints
    page.locator("#gtp-submit").click()
    alert = tf.locator("#errorBox crowd-alert")
    alert.wait_for()
    assert "You must add all keypoint annotations" in alert.inner_text()
    page.wait_for_timeout(300)
    assert tq.answers("kp", "t1") == []  # refused in the page: nothing was sent
    for label, (x, y) in (("Item B", (200, 150)), ("Item C", (300, 220))):
        tf.locator("crowd-keypoint .cw-label", has_text=label).click()
        click(x, y)
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [answer] = tq.answers("kp", "t1")
    out = answer.answer["annotatedResult"]
    validate_element_output("crowd-keypoint", out, strict=True)
    assert out["inputImageProperties"] == {"height": H, "width": W}
    got = [(k["label"], k["x"], k["y"]) for k in out["keypoints"]]
    want = [("Item A", 100, 80), ("Item B", 200, 150), ("Item C", 300, 220)]
    assert all(g[0] == w[0] and abs(g[1] - w[1]) <= 1 and abs(g[2] - w[2]) <= 1 for g, w in zip(got, want, strict=True)), got


def test_two_tier_classification_shows_follow_up_questions(portal: dict[str, Any], page: Any) -> None:
    tq: TaskQueue = portal["tq"]
    tf = _open(page, portal, "tier")
    tf.locator("crowd-classifier .cw-category", has_text="Portrait").click()
    follow_up = tf.locator("crowd-card input[type=checkbox][value='Headshot']")  # inside the shadow root
    follow_up.wait_for()
    assert tf.locator("crowd-card input[type=checkbox]").count() == 7  # Portrait's seven questions
    follow_up.check()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    [answer] = tq.answers("tier", "t1")
    assert answer.answer == {"image_category": {"label": "Portrait"}, "classification-reasoning": "Headshot"}
    validate_element_output("crowd-classifier", answer.answer["image_category"], strict=True)


def test_unwrapped_entity_annotation_submits_itself(portal: dict[str, Any], page: Any) -> None:
    tq: TaskQueue = portal["tq"]
    tf = _open(page, portal, "ner")
    tf.locator("crowd-entity-annotation .cw-entity-text").wait_for()
    assert tf.evaluate("document.querySelectorAll('crowd-form').length") == 0  # as AWS ships it: no crowd-form

    _tag(tf, 0, 5)  # Alice, with the first label
    page.keyboard.press("2")
    _tag(tf, 17, 22)  # Paris, as a place
    with page.expect_navigation():
        tf.locator("crowd-entity-annotation .cw-self-submit").click()
    [answer] = tq.answers("ner", "t1")
    assert answer.answer == {"entities": {"entities": [
        {"endOffset": 5, "label": "person", "startOffset": 0},
        {"endOffset": 22, "label": "place", "startOffset": 17},
    ]}}
    validate_element_output("crowd-entity-annotation", answer.answer["entities"], strict=True)


def _tag(tf: Any, start: int, end: int) -> None:
    """Select code points start..end of the entity text and let the element tag them."""
    tf.evaluate("""([a, b]) => {
        const box = document.querySelector('crowd-entity-annotation .cw-entity-text');
        const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
        let pos = 0, r = document.createRange(), node;
        while ((node = walker.nextNode())) {
          const n = node.data.length;
          if (pos <= a && a <= pos + n) r.setStart(node, a - pos);
          if (pos <= b && b <= pos + n) { r.setEnd(node, b - pos); break; }
          pos += n;
        }
        const s = getSelection(); s.removeAllRanges(); s.addRange(r);
        box.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
    }""", [start, end])


def test_entity_annotation_with_additional_questions_in_its_shadow_form(portal: dict[str, Any], page: Any) -> None:
    """AWS's NER template that moves radio buttons into the element's own (shadow) crowd-form:
    the questions show, and their answers are submitted with the entities."""
    tq: TaskQueue = portal["tq"]
    tf = _open(page, portal, "ner2")
    tf.locator("crowd-entity-annotation .cw-entity-text").wait_for()
    radio = tf.locator("crowd-radio-button .cw-check-text", has_text="Technology")  # moved by the template
    radio.wait_for()
    assert tf.evaluate("document.querySelector('crowd-entity-annotation').shadowRoot.contains("
                       "document.querySelector('crowd-entity-annotation').shadowRoot.getElementById('additionalQuestions'))")
    tf.locator("crowd-entity-annotation .cw-label", has_text="Company").click()
    _tag(tf, 0, 6)  # "Amazon"
    radio.click()
    with page.expect_navigation():
        tf.locator("crowd-entity-annotation .cw-self-submit").click()
    [answer] = tq.answers("ner2", "t1")
    assert answer.answer == {
        "tech": {"tech": True}, "politics": {"politics": False},
        "crowd-entity-annotation": {"entities": [{"endOffset": 6, "label": "company", "startOffset": 0}]},
    }
    validate_element_output("crowd-entity-annotation", answer.answer["crowd-entity-annotation"], strict=True)
    validate_element_output("crowd-radio-button", answer.answer["tech"], strict=True)


def test_instance_segmentation_paints_instances(portal: dict[str, Any], page: Any) -> None:
    """Two cats and a dog: each instance its own exact color in the PNG, listed once."""
    import base64

    tq: TaskQueue = portal["tq"]
    tf = _open(page, portal, "inst")
    tf.wait_for_function("() => { const e = document.querySelector('crowd-instance-segmentation'); return e && e.W > 0; }")

    def stroke(x0: int, y0: int, x1: int) -> None:
        stage = tf.locator("crowd-instance-segmentation .cw-stage").bounding_box()
        s = stage["width"] / W
        page.mouse.move(stage["x"] + x0 * s, stage["y"] + y0 * s)
        page.mouse.down()
        page.mouse.move(stage["x"] + x1 * s, stage["y"] + y0 * s, steps=6)
        page.mouse.up()

    stroke(40, 40, 120)  # Cat #1 (the first label)
    tf.locator("crowd-instance-segmentation .cw-btn", has_text="New instance").click()
    stroke(40, 150, 120)  # Cat #2
    tf.locator("crowd-instance-segmentation .cw-label", has_text="Dog").click()
    stroke(250, 100, 350)  # Dog #1
    with page.expect_navigation():
        page.locator("#gtp-submit").click()
    [answer] = tq.answers("inst", "t1")
    out = answer.answer["annotatedResult"]
    validate_element_output("crowd-instance-segmentation", out, strict=True)
    assert list(out) == ["inputImageProperties", "instances", "labeledImage"]
    assert [i["label"] for i in out["instances"]] == ["Cat", "Cat", "Dog"]
    colors = [i["color"] for i in out["instances"]]
    assert len(set(colors)) == 3
    png = Image.open(io.BytesIO(base64.b64decode(out["labeledImage"]["pngImageData"]))).convert("RGBA")
    assert png.size == (W, H)
    raw = png.tobytes()
    painted = {"#" + raw[o:o + 3].hex() for o in range(0, len(raw), 4) if raw[o + 3]}
    assert painted == set(colors)  # exact colors, no blending
    assert png.getpixel((80, 40))[:3] == tuple(int(colors[0][i:i + 2], 16) for i in (1, 3, 5))


def test_the_task_frame_is_sandboxed(portal: dict[str, Any], page: Any) -> None:
    """Template scripts run, but cannot read the portal's cookies or storage, reach the
    network, or script the portal page."""
    tf = _open(page, portal, "probe")
    tf.wait_for_selector("body[data-inline-ran='yes']")  # inline template scripts run
    probe = tf.evaluate("""async () => {
        const out = {};
        try { out.cookie = document.cookie; } catch (e) { out.cookie = 'blocked'; }
        try { localStorage.setItem('x', '1'); out.storage = 'open'; } catch (e) { out.storage = 'blocked'; }
        try { out.parent = window.parent.document.title; } catch (e) { out.parent = 'blocked'; }
        try { await fetch('/'); out.fetch = 'open'; } catch (e) { out.fetch = 'blocked'; }
        out.origin = window.origin;
        return out;
    }""")
    assert probe == {"cookie": "blocked", "storage": "blocked", "parent": "blocked", "fetch": "blocked",
                     "origin": "null"}
    # the portal page around it still runs no inline script
    assert page.get_attribute("body", "data-inline-ran") is None
    # task input is text, in the body and in attributes: the XSS payload does not run
    assert tf.inner_text("#evil") == XSS and tf.get_attribute("#evil", "title") == XSS
    page.wait_for_timeout(200)
    assert tf.get_attribute("body", "data-xss") is None
