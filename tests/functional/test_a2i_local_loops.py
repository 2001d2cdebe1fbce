"""Local human loops: the task queue plays A2I; answers come back as output.json at A2I's layout."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gtflow.a2i import (
    FlowDefinition,
    HumanTaskUi,
    LocalHumanLoops,
    collect_outputs,
    from_a2i,
    local_arn,
)
from gtflow.a2i.workflow import PredictionItem, start_for_predictions
from gtflow.errors import ConflictError, ObjectNotFoundError, StoreError, UsageError
from gtflow.manifest import validate_manifest
from gtflow.routing import Prediction, RoutingPolicy
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.wire.a2i import HumanLoopOutput

CLASSES = {0: "circle", 1: "square"}
T0 = dt.datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


def make_loops(store: LocalStore, clock: Clock, task_count: int = 1) -> LocalHumanLoops:
    loops = LocalHumanLoops(TaskQueue.for_store(store, clock=clock), store)
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
    loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i-results", ui, "Check boxes", "Fix boxes", task_count=task_count))
    return loops


def predictions(scores: list[float]) -> list[PredictionItem]:
    return [
        PredictionItem(Prediction.from_response(f"s3://bucket/img/{i}.png", {"prediction": [[i % 2, s, 0.1, 0.2, 0.6, 0.7]] if s else []}), (200, 100))
        for i, s in enumerate(scores)
    ]


def answer(boxes: list[dict], w: int = 200, h: int = 100) -> dict:
    return {"annotatedResult": {"boundingBoxes": boxes, "inputImageProperties": {"height": h, "width": w}, "initialValueModified": True}}


def test_start_for_low_confidence_predictions_and_rerun(local_store, clock):
    loops = make_loops(local_store, clock)
    items = predictions([0.2, 0.9, 0.3, 0.0, 0.95])
    routed = start_for_predictions(loops, "od-review", items, RoutingPolicy(threshold=0.5), CLASSES)
    assert [r.decision.reason for r in routed] == ["below-threshold", "confident", "below-threshold", "no-detection", "confident"]
    started = [r.start for r in routed if r.start]
    assert len(started) == 3 and all(s.started and s.how == "started" for s in started)
    task = loops.queue.task("od-review", started[0].name)
    assert task.task_input == {
        "initialValue": [{"height": 50, "label": "circle", "left": 20, "top": 20, "width": 100}],
        "labels": ["circle", "square"], "scores": [0.2], "taskObject": "s3://bucket/img/0.png",
    }
    again = start_for_predictions(loops, "od-review", items, RoutingPolicy(threshold=0.5), CLASSES)
    assert [r.start.how for r in again if r.start] == ["exists"] * 3
    assert loops.queue.counts("od-review").total == 3


def test_output_json_at_a2i_layout_with_every_worker(local_store, clock):
    loops = make_loops(local_store, clock, task_count=2)
    res = loops.start("od-review", {"taskObject": "s3://bucket/img/0.png", "labels": ["circle"], "initialValue": []})
    assert loops.describe(res.name).status == "InProgress"
    q = loops.queue
    assert q.next_task("od-review", "w1").task_id == res.name
    clock.tick(12.5)
    q.submit("od-review", res.name, "w1", answer([{"label": "circle", "left": 1, "top": 2, "width": 3, "height": 4}]))
    assert loops.describe(res.name).status == "InProgress"  # needs two workers
    clock.tick(3)
    assert q.submit("od-review", res.name, "w2", answer([])).completed
    loop = loops.describe(res.name)
    assert loop.status == "Completed"
    assert loop.output_uri == f"s3://bucket/a2i-results/od-review/2026/03/04/05/06/07/{res.name}/output.json"
    doc = json.loads(local_store.get_text(loop.output_uri))
    assert list(doc) == ["flowDefinitionArn", "humanAnswers", "humanLoopName", "inputContent"]
    assert doc["flowDefinitionArn"] == local_arn("flow-definition", "od-review")
    assert [a["workerId"] for a in doc["humanAnswers"]] == ["w1", "w2"]
    assert doc["humanAnswers"][0]["timeSpentInSeconds"] == 12.5
    assert doc["humanAnswers"][0]["acceptanceTime"] == "2026-03-04T05:06:07.891Z"
    out = loops.collect("od-review")
    assert len(out) == 1 and len(out[0].output.human_answers) == 2  # all workers kept


def test_conflicting_input_under_a_chosen_name(local_store, clock):
    loops = make_loops(local_store, clock)
    loops.start("od-review", {"taskObject": "s3://bucket/a.png"}, name="my-loop")
    assert loops.start("od-review", {"taskObject": "s3://bucket/a.png"}, name="my-loop").how == "exists"
    with pytest.raises(ConflictError, match="different input"):
        loops.start("od-review", {"taskObject": "s3://bucket/b.png"}, name="my-loop")
    with pytest.raises(UsageError):
        loops.start("od-review", {"taskObject": "s3://bucket/b.png"}, name="My_Loop")


def test_stop_list_describe_and_unknowns(local_store, clock):
    loops = make_loops(local_store, clock)
    names = [r.name for r in loops.start_many("od-review", [{"taskObject": f"s3://bucket/{i}.png"} for i in range(3)])]
    loops.stop(names[1])
    assert loops.describe(names[1]).status == "Stopped"
    assert [x.name for x in loops.list("od-review", status="InProgress")] == [names[0], names[2]]
    assert list(loops.list("od-review", created_after=T0)) == []
    assert len(list(loops.list("od-review", created_before=T0 + dt.timedelta(seconds=1)))) == 3
    with pytest.raises(ObjectNotFoundError):
        loops.describe("no-such-loop")
    with pytest.raises(UsageError):
        loops.start("other-flow", {"taskObject": "s3://bucket/0.png"})


def test_flow_definition_re_created_with_other_settings_conflicts(local_store, clock):
    loops = make_loops(local_store, clock)
    ui = local_arn("human-task-ui", "od-review-ui")
    same = FlowDefinition("od-review", "s3://bucket/a2i-results", ui, "Check boxes", "Fix boxes")
    assert loops.create_flow_definition(same) == local_arn("flow-definition", "od-review")
    with pytest.raises(ConflictError):
        loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/elsewhere", ui, "Check boxes", "Fix boxes"))
    with pytest.raises(ConflictError):
        loops.create_human_task_ui(HumanTaskUi("od-review-ui", "<crowd-form><crowd-input name='x'></crowd-input></crowd-form>"))
    with pytest.raises(UsageError, match="create it first"):
        loops.create_flow_definition(FlowDefinition("fd2", "s3://bucket/o", local_arn("human-task-ui", "nope"), "T", "D"))


def test_failed_write_is_redelivered_by_collect(local_store, clock, monkeypatch):
    loops = make_loops(local_store, clock)
    name = loops.start("od-review", {"taskObject": "s3://bucket/0.png"}).name
    real = local_store.put_text
    calls = {"n": 0}

    def flaky(uri, text, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError("disk full", path=uri)
        return real(uri, text, **kw)

    monkeypatch.setattr(local_store, "put_text", flaky)
    assert loops.queue.submit("od-review", name, "w1", answer([])).completed
    assert not local_store.exists(loops.describe(name).output_uri)  # the hook failed
    got = loops.collect("od-review")  # redelivers first
    assert [c.output.human_loop_name for c in got] == [name]


def test_collect_since_and_bad_files(local_store, clock, tmp_path):
    loops = make_loops(local_store, clock)
    name = loops.start("od-review", {"taskObject": "s3://bucket/0.png"}).name
    loops.queue.submit("od-review", name, "w1", answer([]))
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert loops.collect("od-review", since=future) == []
    assert len(loops.collect("od-review", since=future - dt.timedelta(days=1))) == 1
    local_store.put_text("s3://bucket/a2i-results/od-review/2026/01/01/00/00/00/broken/output.json", "{not json")
    errors: list = []
    assert len(loops.collect("od-review", errors=errors)) == 1
    assert len(errors) == 1 and "broken/output.json" in str(errors[0])
    with pytest.raises(Exception, match="not valid JSON"):
        collect_outputs(local_store, "s3://bucket/a2i-results/od-review/")


def test_portal_answer_to_training_manifest(local_store, clock, tmp_path: Path):
    """Start loops, answer one through the portal's HTTP path, collect, convert, validate."""
    from gtflow.portal import PortalClient, create_app

    loops = make_loops(local_store, clock)
    routed = start_for_predictions(loops, "od-review", predictions([0.2, 0.3, 0.99]), RoutingPolicy(), CLASSES)
    assert sum(r.start is not None for r in routed) == 2
    client = PortalClient(create_app(local_store, loops.queue), loops.queue.add_worker("alice"))
    task = client.next_task("od-review")
    assert task is not None
    client.submit("od-review", task.task_id, answer([{"label": "square", "left": 20, "top": 20, "width": 100, "height": 50}]))
    got = loops.collect("od-review")
    assert [c.output.human_loop_name for c in got] == [task.task_id]
    assert got[0].output.human_answers[0].worker_id == "alice"
    out = tmp_path / "train.manifest"
    report = from_a2i("s3://bucket/a2i-results/od-review/", str(out), label_attribute="a2i-retraining", class_map=CLASSES, store=local_store)
    assert report.lines == 1
    line = json.loads(out.read_text())
    assert line["source-ref"] == "s3://bucket/img/0.png"
    assert line["a2i-retraining"]["annotations"] == [{"class_id": 1, "width": 100, "top": 20, "height": 50, "left": 20}]
    assert line["a2i-retraining-metadata"]["job-name"] == f"a2i/{task.task_id}"
    v = validate_manifest(str(out), task="object-detection", label_attribute="a2i-retraining", num_classes=2)
    assert v.valid, v.format_lines()
    assert HumanLoopOutput.from_dict(got[0].output.to_dict()) == got[0].output
