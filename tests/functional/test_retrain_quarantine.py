"""Nothing lost, nothing stuck: bad answers planted in the store are quarantined, the round
completes with the rest, the next round is not blocked, and the counts add up.

Real local human loops and the real collect / convert / check / merge path; only training and
evaluation are faked (``fake_training``), since this is about answers, not models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.quarantine import Quarantine
from gtflow.training.synthetic import generate_dataset

from .test_retrain_cli import CLASSES, SIZE, World
from .test_retrain_cli import fake_training as _fake_training


def fake_training(monkeypatch: Any) -> None:
    """Training, evaluation and the paired comparison of two models replaced."""
    import gtflow.training.comparison as comparison

    _fake_training(monkeypatch)

    class NoComparison:
        def to_dict(self) -> None:
            return None

    monkeypatch.setattr(comparison, "compare_map50", lambda a, b: NoComparison())


def outputs(world: World) -> dict[str, str]:
    """loop name -> output.json URI."""
    return {o.uri.rsplit("/", 2)[1]: o.uri for o in world.store.list("s3://data/a2i/od-review/")
            if o.uri.endswith("/output.json")}


def poison(world: World, uri: str, edit: Any) -> None:
    doc = json.loads(world.store.get_text(uri))
    edit(doc["humanAnswers"][0]["answerContent"]["annotatedResult"])
    world.store.put_text(uri, json.dumps(doc))


def width(value: Any) -> Any:
    def edit(result: dict) -> None:
        result["inputImageProperties"]["width"] = value
    return edit


def set_boxes(boxes: list[dict]) -> Any:
    def edit(result: dict) -> None:
        result["boundingBoxes"] = boxes
    return edit


POISONS = {
    "64px": width("64px"),
    "null": width(None),
    "nan": width(float("nan")),  # json.dumps writes NaN, as a careless producer would
    "1e400": width(1e400),  # written as Infinity
    "unknown label": set_boxes([{"label": "hexagon", "left": 1, "top": 1, "width": 5, "height": 5}]),
    "degenerate boxes": set_boxes([{"label": "circle", "left": 3, "top": 3, "width": 0, "height": 5},
                                   {"label": "circle", "left": 60, "top": 60, "width": 5, "height": 5}]),
    "negative size": set_boxes([{"label": "square", "left": 5, "top": 5, "width": -4, "height": 5}]),
}


def test_planted_bad_answers_are_quarantined_and_the_round_completes(tmp_path: Path, monkeypatch: Any) -> None:
    fake_training(monkeypatch)
    world = World(tmp_path)
    world.pool = generate_dataset(world.store, "s3://data/pool2", 10, seed=4, image_size=SIZE, classes=CLASSES,
                                  label_attribute="bbox")  # enough images for 10 answers
    names = world.answer(9)
    uris = outputs(world)
    bad = dict(zip(names[:7], POISONS, strict=True))
    for name, kind in bad.items():
        poison(world, uris[name], POISONS[kind])
    # a clipped box on a good answer is kept (clipped, counted)
    poison(world, uris[names[7]], lambda r: r["boundingBoxes"].append(
        {"label": "circle", "left": 40, "top": 40, "width": 20, "height": 20}))
    # and one output.json that is not JSON at all
    world.store.put_text("s3://data/a2i/od-review/2026/03/01/12/00/09/broken-loop/output.json", '{"humanAnswers": [')

    out = world.json("--config", str(world.config))
    assert out["status"] == "promoted"
    counts = out["counts"]
    assert counts["read"] == 9 and counts["used"] == 2 and counts["quarantined"] == 7 and counts["skipped"] == 0
    assert counts["used"] + counts["quarantined"] + counts["skipped"] == counts["read"]
    assert counts["clippedBoxes"] == 1 and out["answers_used"] == 2

    lineage = json.loads(world.store.get_text(out["lineage_uri"]))
    assert sorted(lineage["answers"]) == sorted(names[7:])  # exactly the answers that reached the manifest
    reviewed = world.store.get_text(lineage["manifests"]["reviewed"]).splitlines()
    assert len(reviewed) == len(lineage["answers"])
    assert {q["name"] for q in lineage["quarantined"]} == set(bad)
    assert lineage["counts"] == counts
    reasons = {q["name"]: q["reason"] for q in lineage["quarantined"]}
    assert "width" in reasons[next(n for n, k in bad.items() if k == "1e400")]
    assert "hexagon" in reasons[next(n for n, k in bad.items() if k == "unknown label")]
    assert "degenerate" in reasons[next(n for n, k in bad.items() if k == "degenerate boxes")]
    assert "non-negative" in reasons[next(n for n, k in bad.items() if k == "negative size")]

    q = Quarantine(world.store, "s3://data/retrain")
    entries = q.list()
    assert {e.record.get("name") for e in entries if e.stage == "retrain"} == set(bad)
    assert [e.stage for e in entries].count("collect") == 1  # the unreadable file, with its URI
    assert all(e.source and e.reason and e.quarantined_at for e in entries)

    # the next round is not blocked: nothing new, and a new good answer trains normally
    assert world.json("--config", str(world.config))["status"] == "nothing-new"
    world.answer(1)
    nxt = world.json("--config", str(world.config))
    assert nxt["status"] in ("promoted", "rejected") and nxt["counts"] == {**nxt["counts"], "read": 1, "used": 1}

    # status shows the quarantine; an operator fixes one answer and releases it: the next run uses it
    status = world.json("status", "--config", str(world.config))
    assert status["quarantine"] == {"quarantined": 8, "released": 0, "readmitted": 0}
    fixed = next(n for n, k in bad.items() if k == "64px")
    poison(world, uris[fixed], width(48))
    entry = next(e for e in entries if e.record.get("name") == fixed)
    res = CliRunner().invoke(cli, ["--root", str(world.root), "quarantine", "release", entry.id,
                                   "--config", str(world.config)])
    assert res.exit_code == 0, res.output
    again = world.json("--config", str(world.config))
    assert again["counts"]["read"] == 1 and again["counts"]["used"] == 1
    assert json.loads(world.store.get_text(again["lineage_uri"]))["answers"] == [fixed]
    assert q.get(entry.id).status == "readmitted"


def test_quarantine_cli_list_show_release(tmp_path: Path) -> None:
    from gtflow.store import LocalStore

    store = LocalStore(tmp_path)
    q = Quarantine(store, "s3://state/x")
    e = q.add(stage="from-a2i", source="s3://b/o/output.json", reason="s3://b/o/output.json: width: not a number")
    run = lambda *a: CliRunner().invoke(cli, ["--root", str(tmp_path), "quarantine", *a])  # noqa: E731
    res = run("list", "--prefix", "s3://state/x", "--json")
    assert res.exit_code == 0 and [r["id"] for r in json.loads(res.stdout)] == [e.id]
    res = run("list", "--prefix", "s3://state/x")
    assert e.id in res.stdout and "from-a2i" in res.stdout
    res = run("show", e.id, "--prefix", "s3://state/x")
    assert res.exit_code == 0 and "width: not a number" in res.stdout
    res = run("release", e.id, "--prefix", "s3://state/x")
    assert res.exit_code == 0 and q.get(e.id).status == "released"
    res = run("release", e.id, "--prefix", "s3://state/x")
    assert res.exit_code == 2 and "released, not quarantined" in res.output and "Traceback" not in res.output
    res = run("show", "ffff", "--prefix", "s3://state/x")
    assert res.exit_code == 2 and "no quarantined record" in res.output


@pytest.mark.parametrize("value", ["64px", None, float("nan"), 1e400])
def test_from_a2i_turns_bad_sizes_into_typed_errors(tmp_path: Path, value: Any) -> None:
    from gtflow.a2i.convert import from_a2i

    doc = {"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanLoopName": "l1",
           "inputContent": {"taskObject": "s3://b/1.jpg"},
           "humanAnswers": [{"answerContent": {"annotatedResult": {
               "boundingBoxes": [{"height": 4, "label": "a", "left": 1, "top": 2, "width": 3}],
               "inputImageProperties": {"height": 10, "width": value}}},
               "submissionTime": "2021-05-06T21:28:24.990Z", "workerId": "w1"}]}
    (tmp_path / "output.json").write_text(json.dumps(doc))
    report = from_a2i(str(tmp_path / "output.json"), tmp_path / "out.manifest", label_attribute="bb",
                      class_map={0: "a"})
    assert report.lines == 0 and len(report.skipped) == 1 and "width" in str(report.skipped[0])


POISONED_ANSWERS = {
    "width 64px": lambda ok: {**ok, "inputImageProperties": {**ok["inputImageProperties"], "width": "64px"}},
    "width null": lambda ok: {**ok, "inputImageProperties": {**ok["inputImageProperties"], "width": None}},
    "width 1e400": lambda ok: {**ok, "inputImageProperties": {**ok["inputImageProperties"], "width": "@1e400@"}},
    "width NaN": lambda ok: {**ok, "inputImageProperties": {**ok["inputImageProperties"], "width": "@NaN@"}},
    "label not offered": lambda ok: {**ok, "boundingBoxes": [{**ok["boundingBoxes"][0], "label": "hexagon"}]},
    "box outside the image": lambda ok: {**ok, "boundingBoxes": [{"label": "circle", "left": 40, "top": 40,
                                                                  "width": 30, "height": 30}]},
}


def test_poisoned_answers_refused_at_the_portal_and_planted_ones_quarantined(tmp_path: Path, monkeypatch: Any) -> None:
    """End to end: through the portal's HTTP API a poisoned answer is refused and nothing is
    stored; the same answer planted in the store is quarantined, the round completes with the
    rest, the next round is not blocked, and the counts add up."""
    from gtflow.portal import PortalClient, create_app

    fake_training(monkeypatch)
    world = World(tmp_path)
    queue = world.loops.queue
    rec = world.pool[0]
    started = world.loops.start("od-review", {"taskObject": rec["source-ref"], "labels": list(CLASSES), "initialValue": []})
    ok = {"boundingBoxes": [{"label": "circle", "left": 2, "top": 2, "width": 10, "height": 10}],
          "inputImageProperties": {"width": SIZE, "height": SIZE}}
    with PortalClient(create_app(world.store, queue), queue.add_worker("mallory")) as client:
        task = client.next_task("od-review")
        assert task is not None and task.task_id == started.name
        url = f"/queues/od-review/tasks/{client._refs[('od-review', task.task_id)]}/submit"
        for why, make in POISONED_ANSWERS.items():
            # the raw body a browser (or anyone) could send: 1e400 and NaN are not what httpx writes
            body = json.dumps({"annotatedResult": make(ok)}).replace('"@1e400@"', "1e400").replace('"@NaN@"', "NaN")
            r = client.http.post(url, content=body, headers={"content-type": "application/json",
                                                             "X-CSRF-Token": client.csrf, "Origin": client.origin})
            assert r.status_code in (400, 422), (why, r.status_code, r.text)
            assert "error" in r.json()
            assert not queue.answers("od-review", task.task_id), why  # nothing stored
        assert not list(world.store.list("s3://data/a2i/od-review/"))  # no output.json either
        assert client.submit("od-review", task.task_id, {"annotatedResult": ok})["completed"]

    # the same poison planted straight into the store, next to two good answers
    world.answered = 1
    names = [started.name, *world.answer(2)]
    uris = outputs(world)
    poison(world, uris[names[1]], width(1e400))
    out = world.json("--config", str(world.config))
    c = out["counts"]
    assert out["status"] == "promoted" and (c["read"], c["used"], c["quarantined"], c["skipped"]) == (3, 2, 1, 0)
    lineage = json.loads(world.store.get_text(out["lineage_uri"]))
    assert sorted(lineage["answers"]) == sorted([names[0], names[2]])
    assert [q["name"] for q in lineage["quarantined"]] == [names[1]]
    assert world.json("--config", str(world.config))["status"] == "nothing-new"  # not blocked, nothing re-tried


def test_loops_collect_quarantines_what_it_leaves_out(tmp_path: Path) -> None:
    world = World(tmp_path)
    names = world.answer(3)
    uris = outputs(world)
    poison(world, uris[names[0]], width("64px"))
    world.store.put_text("s3://data/a2i/od-review/2026/03/01/12/00/09/broken-loop/output.json", "{")
    (tmp_path / "classes.json").write_text(json.dumps(list(CLASSES)))
    res = CliRunner().invoke(cli, ["--root", str(world.root), "loops", "collect", "--flow", "od-review", "--json",
                                   "--manifest", str(tmp_path / "m.manifest"), "--label-attribute", "bbox",
                                   "--class-map", str(tmp_path / "classes.json"), "--quarantine", "s3://data/q"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["unreadable"] == 1 and summary["manifest"]["lines"] == 2 and len(summary["manifest"]["skipped"]) == 1
    entries = Quarantine(world.store, "s3://data/q").list()
    assert sorted(e.stage for e in entries) == ["collect", "from-a2i"]
    assert {e.source for e in entries} == {uris[names[0]], "s3://data/a2i/od-review/2026/03/01/12/00/09/broken-loop/output.json"}
    assert len((tmp_path / "m.manifest").read_text().splitlines()) == 2
