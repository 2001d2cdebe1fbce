"""Each local crowd element, driven in headless Chromium, submits what the AWS docs show.

The samples are tests/events/crowd_*_output*.json (copied from the contracts; the docs wrap a
submission in a list). Every output is also checked with gtflow.wire's strict element parser.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gtflow.wire.crowd import unwrap_docs_sample, validate_element_output

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).parent
STATIC = Path(__file__).parents[2] / "gtflow" / "portal" / "static"
JS = (STATIC / "crowd-html-elements.js").read_text()
CSS = (STATIC / "crowd-elements.css").read_text()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = unwrap_docs_sample(json.loads((EVENTS / name).read_text()))
    return data


def data_png(w: int, h: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 160, 200)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def load(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []

    def _load(body: str) -> Any:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<!doctype html><html><head></head><body>{body}</body></html>")
        page.add_style_tag(content=CSS)
        page.add_script_tag(content=JS)
        return page

    yield _load
    ctx.close()
    assert not errors, errors


def answer(page: Any) -> dict[str, Any]:
    out: dict[str, Any] = page.evaluate("document.querySelector('crowd-form').crowdAnswer()")
    return out


def draw(page: Any, selector: str, x1: float, y1: float, x2: float, y2: float) -> None:
    page.wait_for_function(f"document.querySelector('{selector}').ready === true")
    page.evaluate(f"document.querySelector('{selector}').setZoom(1)")
    r = page.locator(f"{selector} .cw-stage").bounding_box()
    page.mouse.move(r["x"] + x1, r["y"] + y1)
    page.mouse.down()
    page.mouse.move(r["x"] + (x1 + x2) / 2, r["y"] + (y1 + y2) / 2, steps=2)
    page.mouse.move(r["x"] + x2, r["y"] + y2, steps=2)
    page.mouse.up()


# -- image tools -------------------------------------------------------------------------------
def test_bounding_box_single(load: Any) -> None:
    page = load(f'<crowd-form><crowd-bounding-box name="annotatedResult" src="{data_png(800, 533)}" '
                f'labels=\'["Dog", "Cat"]\'></crowd-bounding-box></crowd-form>')
    draw(page, "crowd-bounding-box", 243, 117, 243 + 187, 117 + 401)
    expected = sample("crowd_bounding_box_output_single.json")
    assert answer(page) == expected
    assert "initialValueModified" not in answer(page)["annotatedResult"]  # no initial-value given
    validate_element_output("crowd-bounding-box", answer(page)["annotatedResult"], strict=True)


def test_bounding_box_multi_label_multi_box(load: Any) -> None:
    page = load(f'<crowd-form><crowd-bounding-box name="annotatedResult" src="{data_png(800, 533)}" '
                f"labels=\"['Dog', 'Cat']\"></crowd-bounding-box></crowd-form>")  # JS-like labels
    draw(page, "crowd-bounding-box", 241, 125, 241 + 158, 125 + 395)
    page.keyboard.press("2")
    draw(page, "crowd-bounding-box", 699, 116, 699 + 101, 116 + 298)
    assert answer(page) == sample("crowd_bounding_box_output_multi_label_multi_box.json")


def test_bounding_box_initial_value_resize_and_delete(load: Any) -> None:
    init = json.dumps([{"label": "Dog", "left": 10, "top": 20, "width": 100, "height": 50},
                       {"label": "Cat", "left": 300, "top": 200, "width": 60, "height": 60}])
    page = load(f'<crowd-form><crowd-bounding-box name="b" src="{data_png(800, 533)}" labels=\'["Dog","Cat"]\' '
                f"initial-value='{init}'></crowd-bounding-box></crowd-form>")
    page.wait_for_function("document.querySelector('crowd-bounding-box').ready === true")
    assert answer(page)["b"]["initialValueModified"] is False
    page.evaluate("document.querySelector('crowd-bounding-box').setZoom(1)")
    r = page.locator("crowd-bounding-box .cw-stage").bounding_box()
    page.mouse.click(r["x"] + 330, r["y"] + 230)  # select the cat box
    page.keyboard.press("1")  # relabel the clicked box
    handle = page.locator("crowd-bounding-box .cw-h-se").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(r["x"] + 380, r["y"] + 290, steps=3)
    page.mouse.up()
    page.mouse.click(r["x"] + 50, r["y"] + 40)  # select the first box ...
    page.keyboard.press("Delete")  # ... and delete it
    page.keyboard.press("+")
    assert page.evaluate("document.querySelector('crowd-bounding-box').zoom") == pytest.approx(1.25)
    out = answer(page)["b"]
    assert out == {"boundingBoxes": [{"height": 90, "label": "Dog", "left": 300, "top": 200, "width": 80}],
                   "inputImageProperties": {"height": 533, "width": 800}, "initialValueModified": True}


def test_keypoint(load: Any) -> None:
    expected = sample("crowd_keypoint_output.json")
    props = expected["crowdKeypoint"]["inputImageProperties"]
    page = load(f'<crowd-form><crowd-keypoint name="crowdKeypoint" src="{data_png(props["width"], props["height"])}" '
                f'labels=\'["dog","cat"]\'></crowd-keypoint></crowd-form>')
    page.wait_for_function("document.querySelector('crowd-keypoint').ready === true")
    # one point by mouse, removed again; the sample's points through the element's API
    r = page.locator("crowd-keypoint .cw-stage").bounding_box()
    page.mouse.click(r["x"] + 20, r["y"] + 20)
    assert len(answer(page)["crowdKeypoint"]["keypoints"]) == 1
    page.keyboard.press("Delete")
    for kp in expected["crowdKeypoint"]["keypoints"]:
        page.evaluate("kp => document.querySelector('crowd-keypoint').addPoint(kp)", kp)
    assert answer(page) == expected
    validate_element_output("crowd-keypoint", answer(page)["crowdKeypoint"], strict=True)


def test_polygon(load: Any) -> None:
    expected = sample("crowd_polygon_output_multi.json")
    props = expected["annotatedResult"]["inputImageProperties"]
    page = load(f'<crowd-form><crowd-polygon name="annotatedResult" src="{data_png(props["width"], props["height"])}" '
                f'labels=\'["dog","cat"]\'></crowd-polygon></crowd-form>')
    page.wait_for_function("document.querySelector('crowd-polygon').ready === true")
    page.evaluate("document.querySelector('crowd-polygon').setZoom(0.5)")
    r = page.locator("crowd-polygon .cw-stage").bounding_box()
    for x, y in [(10, 10), (100, 10), (100, 80)]:  # a triangle by mouse, closed with Enter
        page.mouse.click(r["x"] + x, r["y"] + y)
    page.keyboard.press("Enter")
    assert len(answer(page)["annotatedResult"]["polygons"]) == 1
    page.keyboard.press("Delete")
    for poly in expected["annotatedResult"]["polygons"]:
        page.evaluate("p => document.querySelector('crowd-polygon').addPolygon(p)", poly)
    assert answer(page) == expected
    validate_element_output("crowd-polygon", answer(page)["annotatedResult"], strict=True)


def test_line(load: Any) -> None:
    expected = sample("crowd_line_output.json")
    props = expected["crowdLine"]["inputImageProperties"]
    page = load(f'<crowd-form><crowd-line name="crowdLine" src="{data_png(props["width"], props["height"])}" '
                f'labels=\'["yardline","sideline"]\'></crowd-line></crowd-form>')
    page.wait_for_function("document.querySelector('crowd-line').ready === true")
    page.evaluate("document.querySelector('crowd-line').setZoom(0.5)")
    r = page.locator("crowd-line .cw-stage").bounding_box()
    page.mouse.click(r["x"] + 10, r["y"] + 10)
    page.mouse.click(r["x"] + 110, r["y"] + 60)  # the second end finishes the line
    drawn = answer(page)["crowdLine"]["lines"]
    assert len(drawn) == 1 and len(drawn[0]["vertices"]) == 2
    page.keyboard.press("Delete")
    for line in expected["crowdLine"]["lines"]:
        page.evaluate("p => document.querySelector('crowd-line').addShape(p)", line)
    assert answer(page) == expected
    validate_element_output("crowd-line", answer(page)["crowdLine"], strict=True)


def test_polyline(load: Any) -> None:
    page = load(f'<crowd-form><crowd-polyline name="p" src="{data_png(400, 300)}" labels=\'["lane"]\'></crowd-polyline></crowd-form>')
    page.wait_for_function("document.querySelector('crowd-polyline').ready === true")
    page.evaluate("document.querySelector('crowd-polyline').setZoom(1)")
    r = page.locator("crowd-polyline .cw-stage").bounding_box()
    for x, y in [(10, 10), (100, 20), (200, 150)]:
        page.mouse.click(r["x"] + x, r["y"] + y)
    page.keyboard.press("Enter")
    out = answer(page)["p"]
    assert out == {"inputImageProperties": {"height": 300, "width": 400},
                   "polylines": [{"label": "lane", "vertices": [{"x": 10, "y": 10}, {"x": 100, "y": 20}, {"x": 200, "y": 150}]}]}
    validate_element_output("crowd-polyline", out, strict=True)


# -- form controls -----------------------------------------------------------------------------
def test_checkbox_same_name_merges(load: Any) -> None:
    page = load('<crowd-form><crowd-checkbox name="image_attributes" value="blurry">Blurry</crowd-checkbox>'
                '<crowd-checkbox name="image_attributes" value="dim" checked>Dim</crowd-checkbox>'
                '<crowd-checkbox name="image_attributes" value="exposed" checked>Exposed</crowd-checkbox></crowd-form>')
    page.get_by_text("Blurry").click()
    page.get_by_text("Exposed").click()
    assert answer(page) == sample("crowd_checkbox_output_same_name.json")


def test_checkbox_distinct_names(load: Any) -> None:
    page = load('<crowd-form><crowd-checkbox name="Stop" value="Red">Red</crowd-checkbox>'
                '<crowd-checkbox name="Slow" value="Yellow">Yellow</crowd-checkbox>'
                '<crowd-checkbox name="Go" value="Green" checked>Green</crowd-checkbox></crowd-form>')
    page.get_by_text("Red").click()
    page.get_by_text("Green").click()
    assert answer(page) == sample("crowd_checkbox_output_distinct_names.json")
    validate_element_output("crowd-checkbox", answer(page)["Stop"], strict=True)


def test_radio_group(load: Any) -> None:
    page = load('<crowd-form><crowd-radio-group>'
                '<crowd-radio-button name="btn1" value="yes">Yes</crowd-radio-button>'
                '<crowd-radio-button name="btn2" value="no" checked>No</crowd-radio-button>'
                '</crowd-radio-group></crowd-form>')
    page.get_by_text("Yes").click()  # exclusive within the group
    assert answer(page) == sample("crowd_radio_group_output.json")


def test_input_typed_and_empty_omitted(load: Any) -> None:
    page = load('<crowd-form><crowd-input name="tag1" label="First"></crowd-input>'
                '<crowd-input name="tag2" label="Second"></crowd-input>'
                '<crowd-input name="tag3" label="Unused"></crowd-input></crowd-form>')
    page.locator("crowd-input[name=tag1] input").fill("blue")
    page.locator("crowd-input[name=tag2] input").type("red")
    assert answer(page) == sample("crowd_input_output.json")


def test_text_area(load: Any) -> None:
    page = load('<crowd-form><crowd-text-area name="textInput1" rows="3" char-counter max-length="200"></crowd-text-area></crowd-form>')
    box = page.locator("crowd-text-area textarea")
    box.type("This is the text; the text that")
    box.press("Enter")
    box.type("makes the crowd go wild.")
    assert answer(page) == sample("crowd_text_area_output.json")


def test_toggle_button(load: Any) -> None:
    page = load('<crowd-form><crowd-toggle-button name="theToggler">Toggle me</crowd-toggle-button></crowd-form>')
    assert answer(page) == {"theToggler": {"on": False}}
    page.get_by_text("Toggle me").click()
    assert answer(page) == sample("crowd_toggle_button_output.json")


def test_classifiers_multi_select_and_slider(load: Any) -> None:
    png = data_png(64, 48)
    page = load(
        '<crowd-form>'
        "<crowd-classifier name=\"sentiment\" categories=\"['Positive', 'Negative', 'Neutral']\" header=\"Tone?\">"
        "<classification-target>I love it</classification-target></crowd-classifier>"
        "<crowd-classifier-multi-select name=\"topics\" categories='[\"sports\",\"news\",\"art\"]' "
        "exclusion-category=\"{ text: 'None of these' }\"></crowd-classifier-multi-select>"
        f'<crowd-image-classifier-multi-select name="objects" src="{png}" categories=\'["a","b","c"]\'>'
        "</crowd-image-classifier-multi-select>"
        f'<crowd-image-classifier name="verify" src="{png}" categories=\'["Correct","Incorrect"]\'>'
        '<worker-comment header="Why?" link-text="Comment" placeholder="..."></worker-comment></crowd-image-classifier>'
        '<crowd-slider name="howMuch" min="0" max="10" step="1" value="3"></crowd-slider>'
        "</crowd-form>")
    page.locator("crowd-classifier .cw-category", has_text="Negative").click()
    page.locator("crowd-classifier-multi-select .cw-category", has_text="art").click()
    page.locator("crowd-classifier-multi-select .cw-category", has_text="sports").click()
    page.locator("crowd-image-classifier-multi-select .cw-category", has_text="c").click()
    page.locator("crowd-image-classifier .cw-category", has_text="Incorrect").click()
    page.locator("crowd-image-classifier summary").click()
    page.locator("crowd-image-classifier textarea").fill("blurry")
    out = answer(page)
    assert out == {"sentiment": {"label": "Negative"}, "topics": {"labels": ["sports", "art"]},
                   "objects": {"labels": ["c"]}, "verify": {"label": "Incorrect", "workerComment": "blurry"},
                   "howMuch": 3}
    page.locator("crowd-classifier-multi-select .cw-category", has_text="None of these").click()
    assert answer(page)["topics"] == {"labels": ["None of these"]}
    for name, tag in [("sentiment", "crowd-classifier"), ("topics", "crowd-classifier-multi-select"),
                      ("objects", "crowd-image-classifier-multi-select"), ("verify", "crowd-image-classifier")]:
        validate_element_output(tag, answer(page)[name], strict=True)


def test_plain_inputs_submit_strings(load: Any) -> None:
    page = load('<crowd-form><input name="note" value="hello"><input type="checkbox" name="flag">'
                '<input type="checkbox" name="ok" checked><select name="pick"><option>a</option><option selected>b</option></select>'
                '<textarea name="long">x\ny</textarea><input type="number" name="n" value="7"></crowd-form>')
    assert answer(page) == {"note": "hello", "ok": "on", "pick": "b", "long": "x\ny", "n": "7"}


# -- behaviour of the form -----------------------------------------------------------------------
def test_form_adds_submit_button_and_onsubmit_can_cancel(load: Any) -> None:
    page = load('<crowd-form><crowd-input name="a" value="1"></crowd-input></crowd-form>')
    assert page.locator("crowd-form crowd-button[form-action=submit]").count() == 1
    page.evaluate("""() => {
        window.got = [];
        document.addEventListener('crowd-form-submit', e => { e.preventDefault(); window.got.push(e.detail.answer); });
        document.querySelector('crowd-form').onsubmit = e => { if (window.block) e.preventDefault(); };
    }""")
    page.evaluate("window.block = true")
    page.locator("crowd-form crowd-button").click()
    assert page.evaluate("window.got") == []
    page.evaluate("window.block = false")
    page.locator("crowd-form crowd-button").click()
    assert page.evaluate("window.got") == [{"a": "1"}]


def test_required_input_blocks_submission(load: Any) -> None:
    page = load('<crowd-form><crowd-input name="a" required></crowd-input><crowd-classifier name="c" categories=\'["x"]\'></crowd-classifier></crowd-form>')
    assert page.evaluate("document.querySelector('crowd-form').submitTask()") is False
    assert len(page.evaluate("document.querySelector('crowd-form').validateAll()")) == 2


def test_entity_annotation(load: Any) -> None:
    expected = sample("crowd_entity_annotation_output.json")
    text = "Hello \U0001F600 Alice went to Paris. " + "Lorem ipsum dolor sit amet. " * 10
    labels = json.dumps([{"label": "person", "fullDisplayName": "Person"}, {"label": "event"},
                         {"label": "date"}, {"label": "location"}]).replace("'", "&#39;")
    page = load(f"<crowd-form><crowd-entity-annotation name=\"myAnnotatedResult\" labels='{labels}' "
                f"text=\"{text}\"></crowd-entity-annotation></crowd-form>")
    # select "Alice" (after an emoji: 9 UTF-16 units, 8 code points) and release the mouse
    page.evaluate("""() => {
        const box = document.querySelector('crowd-entity-annotation .cw-entity-text');
        const node = box.firstChild, r = document.createRange();
        r.setStart(node, 9); r.setEnd(node, 15);  // "Alice " (the trailing space is trimmed)
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""")
    assert answer(page) == {"myAnnotatedResult": {"entities": [{"endOffset": 13, "label": "person", "startOffset": 8}]}}
    page.locator("crowd-entity-annotation mark.cw-entity").click()
    page.keyboard.press("Delete")
    for e in expected["myAnnotatedResult"]["entities"]:
        page.evaluate("e => document.querySelector('crowd-entity-annotation').addEntity(e)", e)
    assert answer(page) == expected
    validate_element_output("crowd-entity-annotation", answer(page)["myAnnotatedResult"], strict=True)


def test_semantic_segmentation(load: Any) -> None:
    expected = sample("crowd_semantic_segmentation_output.json")
    page = load(f'<crowd-form><crowd-semantic-segmentation name="annotatedResult" src="{data_png(200, 100)}" '
                f'labels=\'["sky", "road", "car"]\'></crowd-semantic-segmentation></crowd-form>')
    page.wait_for_function("document.querySelector('crowd-semantic-segmentation').ready === true")
    page.evaluate("document.querySelector('crowd-semantic-segmentation').setZoom(1)")
    r = page.locator("crowd-semantic-segmentation .cw-stage").bounding_box()
    page.keyboard.press("2")  # road
    page.mouse.move(r["x"] + 20, r["y"] + 50)
    page.mouse.down()
    page.mouse.move(r["x"] + 120, r["y"] + 50, steps=5)
    page.mouse.up()
    out = answer(page)
    inner, doc = out["annotatedResult"], expected["annotatedResult"]
    assert set(out) == set(expected) and set(inner) == set(doc)  # same keys as the docs sample
    assert set(inner["labeledImage"]) == set(doc["labeledImage"])
    assert inner["inputImageProperties"] == {"height": 100, "width": 200}
    assert inner["labelMappings"] == {"road": {"color": "#ff7f0e"}}  # category10, as in the docs sample
    assert [m["color"] for m in doc["labelMappings"].values()] == ["#ff7f0e", "#2ca02c", "#1f77b4"]
    png = Image.open(io.BytesIO(base64.b64decode(inner["labeledImage"]["pngImageData"]))).convert("RGBA")
    assert png.size == (200, 100)
    colors = {c for _, c in png.getcolors(200 * 100)}
    assert colors == {(0, 0, 0, 0), (255, 127, 14, 255)}  # label color only, no anti-aliasing
    assert png.getpixel((70, 50)) == (255, 127, 14, 255) and png.getpixel((70, 5)) == (0, 0, 0, 0)
    validate_element_output("crowd-semantic-segmentation", inner, strict=True)


@pytest.mark.parametrize("tag", ["crowd-rekognition-detect-moderation-labels", "crowd-textract-analyze-document"])
def test_elements_not_implemented_say_so_and_block(load: Any, tag: str) -> None:
    page = load(f'<crowd-form><{tag} name="x" src="{data_png(10, 10)}"></{tag}></crowd-form>')
    assert "not implemented by the local portal" in page.locator(tag).inner_text()
    assert page.evaluate("document.querySelector('crowd-form').submitTask()") is False


def test_unknown_element_shows_a_notice(load: Any) -> None:
    page = load('<crowd-form><crowd-frobnicator>content</crowd-frobnicator></crowd-form>')
    assert "not a Crowd HTML Element" in page.locator("crowd-frobnicator").inner_text()


def test_display_elements_render(load: Any) -> None:
    page = load('<crowd-form><crowd-card heading="Title" image="' + data_png(4, 4) + '">body</crowd-card>'
                '<crowd-alert type="warning" dismissible>Careful</crowd-alert>'
                '<crowd-instructions link-text="Help!" link-type="button"><short-summary>S</short-summary>'
                '<detailed-instructions>D</detailed-instructions><positive-example>P</positive-example>'
                '<negative-example>N</negative-example></crowd-instructions>'
                '<short-instructions>short</short-instructions><full-instructions header="Full">full</full-instructions></crowd-form>')
    assert page.locator("crowd-card .cw-card-heading").inner_text() == "Title"
    assert page.locator("crowd-alert").get_attribute("role") == "alert"
    dialog = page.locator("crowd-instructions .cw-instructions-dialog")
    assert dialog.is_hidden()
    page.get_by_text("Help!").click()
    assert dialog.is_visible() and "Good example" in dialog.inner_text()
    assert answer(page) == {}


def test_lenient_attribute_json(load: Any) -> None:
    page = load("<crowd-form></crowd-form>")
    parse = "s => window.crowdElements.parseLoose(s)"
    assert page.evaluate(parse, "{ text: 'None of these', n: 2, ok: true, l: ['a', \"b\",], }") == {
        "text": "None of these", "n": 2, "ok": True, "l": ["a", "b"]}
    assert page.evaluate(parse, '["x", "y"]') == ["x", "y"]
