"""Gold items and worker quality on local human loops with three workers per loop."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops, collect_outputs, from_a2i
from gtflow.cli import cli
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.worker_quality import GoldBox, below, gold_inputs, report_html, score_workers

CLASSES = {0: "circle", 1: "square"}
T0 = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)

# Two gold images with known boxes, two ordinary images.
GOLD = {"s3://bucket/img/g1.png": [GoldBox("circle", 10, 10, 30, 30)],
        "s3://bucket/img/g2.png": [GoldBox("square", 50, 40, 20, 20), GoldBox("circle", 5, 5, 10, 10)]}
REAL = {"s3://bucket/img/r1.png": [GoldBox("square", 20, 20, 30, 30)],
        "s3://bucket/img/r2.png": [GoldBox("circle", 60, 10, 25, 25)]}


def _answer(boxes: list[GoldBox]) -> dict:
    return {"annotatedResult": {"boundingBoxes": [
        {"label": b.label, "left": int(b.left), "top": int(b.top), "width": int(b.width), "height": int(b.height)}
        for b in boxes], "inputImageProperties": {"width": 100, "height": 80}}}


def _wrong(boxes: list[GoldBox]) -> list[GoldBox]:
    """A careless worker: every class swapped (boxes in the right place)."""
    swap = {"circle": "square", "square": "circle"}
    return [GoldBox(swap[b.label], b.left, b.top, b.width, b.height) for b in boxes]


def _run_loops(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "data")
    t = [T0]
    queue = TaskQueue.for_store(store, clock=lambda: t[0])
    loops = LocalHumanLoops(queue, store)
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
    loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i", ui, "Check", "Fix", task_count=3))
    from gtflow.a2i.input_content import review_input
    from gtflow.routing import Prediction

    real = [review_input(Prediction(s, ()), CLASSES, (100, 80)) for s in REAL]
    gold = gold_inputs(GOLD, CLASSES, n_tasks=len(real), fraction=0.5, sizes={s: (100, 80) for s in GOLD})
    assert {g["taskObject"] for g in gold} == set(GOLD)  # half of all tasks are gold
    assert gold[0].keys() == real[0].keys()  # shown like any other task
    results = loops.start_many("od-review", real + gold)
    truth = {**GOLD, **REAL}
    for r in results:
        src = queue.task("od-review", r.name).task_input["taskObject"]
        for w, seconds in (("alice", 10), ("bob", 20), ("carol", 4)):
            boxes = _wrong(truth[src]) if w == "carol" else truth[src]
            t[0] = T0 + dt.timedelta(seconds=seconds)
            queue.accept("od-review", r.name, w)
            t[0] = T0 + dt.timedelta(seconds=2 * seconds)
            queue.submit("od-review", r.name, w, _answer(boxes))
    return store


def test_a_worker_who_answers_gold_wrongly_is_scored_and_excluded(tmp_path: Path) -> None:
    store = _run_loops(tmp_path)
    outputs = [c.output for c in collect_outputs(store, "s3://bucket/a2i/od-review/")]
    assert len(outputs) == 4 and all(len(o.human_answers) == 3 for o in outputs)
    q = {x.worker_id: x for x in score_workers(outputs, GOLD, CLASSES)}
    assert q["alice"].gold_items == 2 and q["alice"].gold_accuracy == 1.0 and q["alice"].class_accuracy == 1.0
    assert q["carol"].gold_accuracy == 0.0 and q["carol"].class_accuracy == 0.0 and q["carol"].gold_iou is None
    # on the two ordinary images the consolidation (2 of 3 agree) is alice's and bob's answer
    assert q["bob"].agreement == 1.0 and q["carol"].agreement == 0.0 and q["carol"].agreement_items == 2
    assert (q["alice"].median_seconds, q["bob"].median_seconds, q["carol"].median_seconds) == (10.0, 20.0, 4.0)
    assert all(x.answers == 4 for x in q.values())
    assert below(q.values(), 0.5) == ["carol"]
    assert "<img" in report_html(list(q.values()))

    # excluded from consolidation: carol's swapped classes no longer lower the agreement
    with_all = from_a2i("s3://bucket/a2i/od-review/", str(tmp_path / "all.manifest"), label_attribute="r",
                        class_map=CLASSES, store=store)
    without = from_a2i("s3://bucket/a2i/od-review/", str(tmp_path / "ok.manifest"), label_attribute="r",
                       class_map=CLASSES, store=store, exclude_workers=["carol"])
    assert len(with_all.disagreements) == 4 and without.disagreements == []
    conf = [o["confidence"] for line in (tmp_path / "ok.manifest").read_text().splitlines()
            for o in json.loads(line)["r-metadata"]["objects"]]
    assert conf and all(c == 1.0 for c in conf)


def test_workers_report_cli(tmp_path: Path) -> None:
    store = _run_loops(tmp_path)
    gold_manifest = tmp_path / "gold.manifest"
    names = {v: k for k, v in CLASSES.items()}
    gold_manifest.write_text("".join(json.dumps({
        "source-ref": s, "bounding-box": {"annotations": [
            {"class_id": names[b.label], "left": b.left, "top": b.top, "width": b.width, "height": b.height} for b in boxes],
            "image_size": [{"width": 100, "height": 80, "depth": 3}]},
        "bounding-box-metadata": {"class-map": {"0": "circle", "1": "square"}}}) + "\n" for s, boxes in GOLD.items()))
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    out = str(store.path_for("s3://bucket/a2i/od-review/"))
    r = CliRunner().invoke(cli, ["--root", str(tmp_path / "data"), "workers", "report", out, "--class-map",
                                 str(tmp_path / "classes.json"), "--gold", str(gold_manifest), "--json",
                                 "--exclude-below", "0.5", "--exclude-out", str(tmp_path / "bad.json"),
                                 "--html", str(tmp_path / "workers.html")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["excluded"] == ["carol"] and json.loads((tmp_path / "bad.json").read_text()) == ["carol"]
    assert [w["goldAccuracy"] for w in doc["workers"]] == [1.0, 1.0, 0.0]
    assert "data:image/png;base64" in (tmp_path / "workers.html").read_text()
    r = CliRunner().invoke(cli, ["--root", str(tmp_path / "data"), "manifest", "from-a2i", out, "-o",
                                 str(tmp_path / "m.manifest"), "--label-attribute", "r", "--class-map",
                                 str(tmp_path / "classes.json"), "--exclude-workers", str(tmp_path / "bad.json"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["disagreements"] == []
    r = CliRunner().invoke(cli, ["--root", str(tmp_path / "data"), "workers", "report", out, "--class-map",
                                 str(tmp_path / "classes.json")])
    assert r.exit_code == 0 and "carol" in r.output


def test_loops_collect_adjudicates_disagreeing_loops(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data")
    queue = TaskQueue.for_store(store, clock=lambda: T0)
    loops = LocalHumanLoops(queue, store)
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
    loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i", ui, "Check", "Fix", task_count=2))
    loops.create_flow_definition(FlowDefinition("od-adjudicate", "s3://bucket/a2i", ui, "Decide", "Fix", task_count=1))
    from gtflow.a2i.input_content import review_input
    from gtflow.routing import Prediction

    [split, agreed] = loops.start_many("od-review", [review_input(Prediction(s, ()), CLASSES, (100, 80)) for s in REAL])
    truth = REAL["s3://bucket/img/r1.png"]
    queue.submit("od-review", split.name, "alice", _answer(truth))
    queue.submit("od-review", split.name, "carol", _answer(_wrong(truth)))
    for w in ("alice", "bob"):
        queue.submit("od-review", agreed.name, w, _answer(REAL["s3://bucket/img/r2.png"]))
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    args = ["--root", str(tmp_path / "data"), "loops", "collect", "--flow", "od-review", "--manifest",
            str(tmp_path / "m.manifest"), "--label-attribute", "r", "--class-map", str(tmp_path / "classes.json"),
            "--adjudicate-in", "od-adjudicate", "--json"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["adjudication"] == {"flow": "od-adjudicate", "disagreements": 1, "started": 1}
    [task] = list(queue.tasks("od-adjudicate"))
    assert task.task_input["adjudicationOf"] == split.name and task.task_input["taskObject"] == "s3://bucket/img/r1.png"
    queue.submit("od-adjudicate", task.task_id, "bob", _answer(truth))  # bob sides with alice
    r = CliRunner().invoke(cli, args)
    # 2 of 3 is still below full agreement, but the loop has had its extra worker: none started again
    assert json.loads(r.output)["adjudication"] == {"flow": "od-adjudicate", "disagreements": 1, "started": 0}
    lines = {json.loads(x)["source-ref"]: json.loads(x) for x in (tmp_path / "m.manifest").read_text().splitlines()}
    assert len(lines) == 2
    decided = lines["s3://bucket/img/r1.png"]
    assert [a["class_id"] for a in decided["r"]["annotations"]] == [1]  # square, 2 of 3
    assert decided["r-metadata"]["objects"][0]["confidence"] < 1.0  # carol's vote still counts against it
