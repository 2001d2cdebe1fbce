"""Answers refused at the door: the portal stores only what the task's template can produce."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from gtflow.errors import ContractError
from gtflow.portal import create_app
from gtflow.portal.elements import IMPLEMENTED_ELEMENTS, NOT_IMPLEMENTED, check_answer
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.wire.crowd import unwrap_docs_sample
from gtflow.wire.crowd_rules import check_element_answer, self_intersects

EVENTS = Path(__file__).parent.parent / "events"
JS = Path(__file__).parent.parent.parent / "gtflow" / "portal" / "static" / "crowd-html-elements.js"
BASE = "http://127.0.0.1"
W, H = 80, 60

TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-bounding-box name="boxes" src="{{ task.input.img | grant_read_access }}" header="Boxes"
    labels="['cat', 'dog']"></crowd-bounding-box>
  <crowd-keypoint name="points" src="{{ task.input.img | grant_read_access }}" header="Points"
    labels='["eye", "nose"]'></crowd-keypoint>
  <crowd-polygon name="poly" src="{{ task.input.img | grant_read_access }}" header="Poly"
    labels='["lake"]'></crowd-polygon>
  <crowd-checkbox name="flags" value="blurry">Blurry</crowd-checkbox>
  <crowd-checkbox name="flags" value="dark">Dark</crowd-checkbox>
  <crowd-slider name="confidence" min="1" max="5"></crowd-slider>
  <crowd-input name="note"></crowd-input>
  <select name="size"><option value="s">S</option><option value="l">L</option></select>
  <crowd-entity-annotation name="ner" text="{{ task.input.text }}"
    labels='[{"label": "person", "shortDisplayName": "per", "fullDisplayName": "Person"}]'></crowd-entity-annotation>
</crowd-form>"""

GOOD: dict[str, Any] = {
    "boxes": {"boundingBoxes": [{"height": 20, "label": "cat", "left": 10, "top": 5, "width": 30}],
              "inputImageProperties": {"height": H, "width": W}},
    "points": {"inputImageProperties": {"height": H, "width": W}, "keypoints": [{"label": "eye", "x": 3, "y": 4}]},
    "poly": {"inputImageProperties": {"height": H, "width": W},
             "polygons": [{"label": "lake", "vertices": [{"x": 1, "y": 1}, {"x": 20, "y": 1}, {"x": 20, "y": 20}]}]},
    "flags": {"blurry": True, "dark": False},
    "confidence": 3,
    "note": "fine",
    "size": "l",
    "ner": {"entities": [{"endOffset": 5, "label": "person", "startOffset": 0}]},
}


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (9, 9, 9)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://bkt/img.png", _png(W, H))
    tq = TaskQueue.for_store(store)
    tq.register_queue("q", owner="test", template=TEMPLATE, title="All elements")
    tq.add_task("q", "t", {"img": "s3://bkt/img.png", "text": "Alice met Bob"})
    token = tq.add_worker("alice")
    c = TestClient(create_app(store, tq), base_url=BASE)
    assert c.post("/signin", data={"token": token}, follow_redirects=False).status_code == 303
    url = c.get("/queues/q/next", follow_redirects=False).headers["location"]
    page = c.get(url).text
    csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"tq": tq, "c": c, "url": url + "/submit", "csrf": csrf}


def _post(env: dict[str, Any], answer: Any, raw: str | None = None) -> Any:
    body = raw if raw is not None else json.dumps(answer)
    return env["c"].post(env["url"], content=body, headers={
        "X-CSRF-Token": env["csrf"], "Content-Type": "application/json"})


def _with(path: str, value: Any) -> dict[str, Any]:
    answer = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = answer
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return answer


_DELETE = object()


@pytest.mark.parametrize(("path", "value", "field"), [
    ("elsewhere", "x", "elsewhere"),  # an element the template does not contain
    ("boxes.boundingBoxes.0.left", "64px", "boxes.boundingBoxes[0].left"),
    ("boxes.boundingBoxes.0.label", "cow", "boxes.boundingBoxes[0].label"),  # not offered
    ("boxes.boundingBoxes.0.left", 70, "boxes.boundingBoxes[0]"),  # runs past the right edge
    ("boxes.boundingBoxes.0.top", -1, "boxes.boundingBoxes[0]"),
    ("boxes.boundingBoxes.0.width", 0, "boxes.boundingBoxes[0]"),
    ("boxes.inputImageProperties.width", 8000, "boxes.inputImageProperties"),  # not the real image
    ("boxes.boundingBoxes.0.extra", 1, "boxes.boundingBoxes[0].extra"),
    ("points.keypoints.0.x", 81, "points.keypoints[0]"),
    ("points.keypoints.0.label", "ear", "points.keypoints[0].label"),
    ("poly.polygons.0.vertices", [{"x": 0, "y": 0}, {"x": 10, "y": 10}, {"x": 10, "y": 0}, {"x": 0, "y": 10}],
     "poly.polygons[0].vertices"),  # a bow tie crosses itself
    ("poly.polygons.0.vertices", [{"x": 0, "y": 0}, {"x": 10, "y": 10}], "poly.polygons[0].vertices"),
    ("flags.sharp", True, "flags.sharp"),
    ("flags.blurry", "yes", "flags.blurry"),
    ("confidence", 9, "confidence"),
    ("confidence", "3", "confidence"),
    ("note", 5, "note"),
    ("size", "xl", "size"),
    ("ner.entities.0.label", "place", "ner.entities[0].label"),
    ("ner.entities.0.endOffset", 99, "ner.entities[0]"),
])
def test_invalid_answers_are_refused_and_nothing_is_stored(env: dict[str, Any], path: str, value: Any,
                                                           field: str) -> None:
    r = _post(env, _with(path, value))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["error"].startswith("answer refused")
    assert env["tq"].answers("q", "t") == []


@pytest.mark.parametrize("raw", [
    json.dumps(GOOD).replace('"x": 3', '"x": NaN'),
    json.dumps(GOOD).replace('"x": 3', '"x": Infinity'),
    json.dumps(GOOD).replace('"x": 3', '"x": 1e999'),
])
def test_non_finite_numbers_are_refused(env: dict[str, Any], raw: str) -> None:
    r = _post(env, None, raw=raw)
    assert r.status_code in (400, 422), r.text
    assert env["tq"].answers("q", "t") == []


def test_a_valid_answer_is_stored_as_sent(env: dict[str, Any]) -> None:
    r = _post(env, GOOD)
    assert r.status_code == 200, r.text
    [answer] = env["tq"].answers("q", "t")
    assert answer.answer == GOOD
    # leaving optional widgets out is fine (an empty crowd-input is not submitted)
    assert "note" in GOOD


def test_documented_outputs_pass_the_rules() -> None:
    """Each AWS docs sample is accepted with the labels its own page offered."""
    cases = {
        "crowd_bounding_box_output_single.json": ("crowd-bounding-box", {"labels": ["Dog"]}),
        "crowd_bounding_box_output_multi_label_multi_box.json": ("crowd-bounding-box", {}),
        "crowd_keypoint_output.json": ("crowd-keypoint", {}),
        "crowd_polygon_output_multi.json": ("crowd-polygon", {}),
        "crowd_line_output.json": ("crowd-line", {}),
        "crowd_entity_annotation_output.json": ("crowd-entity-annotation", {}),
        "crowd_semantic_segmentation_output.json": ("crowd-semantic-segmentation", {}),
    }
    for name, (tag, attrs) in cases.items():
        sample = unwrap_docs_sample(json.loads((EVENTS / name).read_text()))
        [(key, value)] = sample.items()
        check_element_answer(tag, value, attrs, key)


def test_polygon_self_intersection() -> None:
    class V:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    square = [V(0, 0), V(10, 0), V(10, 10), V(0, 10)]
    bow = [V(0, 0), V(10, 10), V(10, 0), V(0, 10)]
    assert not self_intersects(square) and self_intersects(bow)


def test_scripted_templates_may_add_plain_inputs() -> None:
    html = '<crowd-form><script>var x=1;</script><crowd-input name="a"></crowd-input></crowd-form>'
    check_answer({"a": "x", "added": "y"}, html)
    with pytest.raises(ContractError):
        check_answer({"a": "x", "added": {"label": "y"}}, html)
    with pytest.raises(ContractError):
        check_answer({"added": "y"}, '<crowd-form><crowd-input name="a"></crowd-input></crowd-form>')


def test_registry_matches_the_javascript() -> None:
    """IMPLEMENTED_ELEMENTS (what template checks read) is what the JS defines."""
    js = JS.read_text()
    block = js.split("var ELEMENTS = {", 1)[1].split("};", 1)[0]
    defined = set(re.findall(r'"(crowd-[a-z-]+)"\s*:', block))
    assert defined == IMPLEMENTED_ELEMENTS
    unsupported = set(re.findall(r'"(crowd-[a-z-]+)"', js.split("var UNSUPPORTED = [", 1)[1].split("];", 1)[0]))
    assert unsupported == NOT_IMPLEMENTED


def test_the_demo_reviewer_passes_the_door(tmp_path: Path) -> None:
    """The demo's simulated reviewer (mistakes included) answers the demo's review UI through
    the portal: every answer it gives is one the template can produce, so none is refused."""
    from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops
    from gtflow.a2i.workflow import PredictionItem, start_for_predictions
    from gtflow.demo.reviewer import SimulatedReviewer, truth_by_image
    from gtflow.portal import PortalClient
    from gtflow.routing import Prediction, RoutingPolicy
    from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

    store = LocalStore(tmp_path / "root")
    pool = generate_dataset(store, "s3://demo/data/pool", 12, seed=5, image_size=96, label_attribute="bounding-box",
                            manifest_uri="s3://demo/data/pool.manifest")
    loops = LocalHumanLoops.for_store(store)
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("demo-od-ui"))
    loops.create_flow_definition(FlowDefinition("demo-review", "s3://demo/a2i", ui, "Check", "Fix the boxes"))
    items = [PredictionItem(Prediction.from_response(r["source-ref"], {"prediction": []}), (96, 96)) for r in pool]
    start_for_predictions(loops, "demo-review", items, RoutingPolicy(threshold=0.5, route_empty=True),
                          dict(enumerate(DEFAULT_CLASSES)))
    reviewer = SimulatedReviewer(truth_by_image(pool, "bounding-box"), miss_rate=0.2, swap_rate=0.5, seed=1)
    queue_name = loops.flow("demo-review").name
    with PortalClient(create_app(store, loops.queue), loops.queue.add_worker("sim")) as client:
        assert reviewer.review_all(client, loops.queue, queue_name) == 12  # none refused (422 would raise)
    assert loops.queue.counts(queue_name).complete == 12
