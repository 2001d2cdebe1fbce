"""Issue 18 item 4, the two remaining gaps: workers weighted in consolidation by their gold
accuracy (``--worker-weights``), and worker quality scored on a labeling job's worker responses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.consolidate.classes import majority_label
from gtflow.wire.a2i import HumanLoopOutput
from gtflow.wire.gt_lambda import WorkerResponse
from gtflow.wire.worker import HumanAnswer
from gtflow.worker_quality import GoldBox, read_weights, score_workers

from .test_worker_quality import CLASSES, GOLD, REAL, _answer, _wrong

SWAP_SQUARE = [GoldBox("circle", 50, 40, 20, 20), GoldBox("circle", 5, 5, 10, 10)]  # g2, one class wrong


def _gold_manifest(tmp_path: Path) -> Path:
    names = {v: k for k, v in CLASSES.items()}
    p = tmp_path / "gold.manifest"
    p.write_text("".join(json.dumps({
        "source-ref": s, "bounding-box": {"annotations": [
            {"class_id": names[b.label], "left": b.left, "top": b.top, "width": b.width, "height": b.height}
            for b in boxes], "image_size": [{"width": 100, "height": 80, "depth": 3}]},
        "bounding-box-metadata": {"class-map": {"0": "circle", "1": "square"}}}) + "\n" for s, boxes in GOLD.items()))
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    return p


def _ans(worker: str, boxes: list[GoldBox], seconds: float = 5.0) -> HumanAnswer:
    return HumanAnswer(answer_content=_answer(boxes), submission_time="2026-03-04T05:06:07.000Z", worker_id=worker,
                       time_spent_in_seconds=seconds)


def test_weighted_consolidation_lets_the_gold_accurate_worker_outvote_two_careless_ones(tmp_path: Path) -> None:
    # alice is right on both gold images; bob and carol swap every class on g1 and one on g2
    # (gold accuracy 0.25 each). On r1 bob and carol agree on the wrong class.
    answers = {"s3://bucket/img/g1.png": [_ans("alice", GOLD["s3://bucket/img/g1.png"]),
                                          _ans("bob", _wrong(GOLD["s3://bucket/img/g1.png"])),
                                          _ans("carol", _wrong(GOLD["s3://bucket/img/g1.png"]))],
               "s3://bucket/img/g2.png": [_ans("alice", GOLD["s3://bucket/img/g2.png"]),
                                          _ans("bob", SWAP_SQUARE), _ans("carol", SWAP_SQUARE)],
               "s3://bucket/img/r1.png": [_ans("alice", REAL["s3://bucket/img/r1.png"]),
                                          _ans("bob", _wrong(REAL["s3://bucket/img/r1.png"])),
                                          _ans("carol", _wrong(REAL["s3://bucket/img/r1.png"]))]}
    src = tmp_path / "a2i"
    for i, (task, ans) in enumerate(answers.items()):
        out = HumanLoopOutput(flow_definition_arn="arn:aws:sagemaker:us-east-1:1:flow-definition/fd",
                              human_answers=tuple(ans), human_loop_name=f"loop-{i}", input_content={"taskObject": task})
        (src / f"loop-{i}").mkdir(parents=True)
        (src / f"loop-{i}" / "output.json").write_text(json.dumps(out.to_dict()))
    gold = _gold_manifest(tmp_path)
    base = ["--root", str(tmp_path / "data")]
    r = CliRunner().invoke(cli, [*base, "workers", "report", str(src), "--class-map", str(tmp_path / "classes.json"),
                                 "--gold", str(gold), "--json"])
    assert r.exit_code == 0, r.output
    (tmp_path / "report.json").write_text(r.output)
    weights = read_weights(json.loads(r.output))
    assert weights == {"alice": 1.0, "bob": 0.25, "carol": 0.25}

    def r1_classes(extra: list[str]) -> list[int]:
        out = tmp_path / f"m{len(extra)}.manifest"
        res = CliRunner().invoke(cli, [*base, "manifest", "from-a2i", str(src), "-o", str(out), "--label-attribute",
                                       "r", "--class-map", str(tmp_path / "classes.json"), *extra])
        assert res.exit_code == 0, res.output
        line = next(json.loads(x) for x in out.read_text().splitlines()
                    if json.loads(x)["source-ref"] == "s3://bucket/img/r1.png")
        return [a["class_id"] for a in line["r"]["annotations"]]

    assert r1_classes([]) == [0]  # unweighted: 2 of 3 workers say circle (wrong)
    assert r1_classes(["--worker-weights", str(tmp_path / "report.json")]) == [1]  # weighted: square, the truth
    # the classification vote takes the same weights
    assert majority_label({"alice": "square", "bob": "circle", "carol": "circle"}, ["circle", "square"]) == ("circle", 0.67)
    assert majority_label({"alice": "square", "bob": "circle", "carol": "circle"}, ["circle", "square"],
                          weights)[0] == "square"


def test_workers_report_scores_a_labeling_jobs_worker_responses(tmp_path: Path) -> None:
    truth = {**GOLD, **REAL}
    sources = list(truth)
    (tmp_path / "in.manifest").write_text("".join(json.dumps({"source-ref": s}) + "\n" for s in sources))
    job = tmp_path / "out" / "job"
    for oid, s in enumerate(sources):
        wr = WorkerResponse(answers=tuple(
            _ans(f"private.us-east-1.{w}", _wrong(truth[s]) if w == "carol" else truth[s], sec)
            for w, sec in (("alice", 10), ("bob", 20), ("carol", 4))))
        d = job / "annotations" / "worker-response" / "iteration-1" / str(oid)
        d.mkdir(parents=True)
        (d / "2026-03-04_05:06:07.json").write_text(json.dumps(wr.to_dict()))
    gold = _gold_manifest(tmp_path)
    r = CliRunner().invoke(cli, ["--root", str(tmp_path / "data"), "workers", "report", str(tmp_path / "out"),
                                 "--input-manifest", str(tmp_path / "in.manifest"), "--class-map",
                                 str(tmp_path / "classes.json"), "--gold", str(gold), "--json", "--exclude-below", "0.5"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    by = {w["workerId"].rsplit(".", 1)[-1]: w for w in doc["workers"]}
    assert [by[w]["goldAccuracy"] for w in ("alice", "bob", "carol")] == [1.0, 1.0, 0.0]
    assert [by[w]["agreement"] for w in ("alice", "bob", "carol")] == [1.0, 1.0, 0.0]
    assert [by[w]["medianSeconds"] for w in ("alice", "bob", "carol")] == [10.0, 20.0, 4.0]
    assert all(w["answers"] == 4 and w["goldItems"] == 2 for w in doc["workers"])
    assert doc["excluded"] == ["private.us-east-1.carol"] and doc["problems"] == []
    # a response for a line the input manifest does not have is a listed problem, not a crash
    d = job / "annotations" / "worker-response" / "iteration-1" / "9"
    d.mkdir()
    (d / "2026-03-04_05:06:07.json").write_text("{}")
    r = CliRunner().invoke(cli, ["--root", str(tmp_path / "data"), "workers", "report", str(tmp_path / "out"),
                                 "--input-manifest", str(tmp_path / "in.manifest"), "--class-map",
                                 str(tmp_path / "classes.json"), "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["problems"]) == 1
    assert score_workers([], {}, CLASSES) == []


def test_the_weighted_keep_rule_is_the_same_in_every_engine() -> None:
    from gtflow.consolidate.boxes import Box, cluster_many

    objs = [{"a": [Box("cat", 10, 10, 50, 50)], "b": [Box("dog", 10, 10, 50, 50)], "c": [Box("dog", 11, 10, 50, 50)]}]
    w = {"a": 1.0, "b": 0.25, "c": 0.25}
    for engine in ("python", "numpy", "pairwise"):
        assert [f.label for f in cluster_many(objs, engine=engine)[0]] == ["dog"]
        assert [f.label for f in cluster_many(objs, engine=engine, weights=w)[0]] == ["cat"]
        # equal weights give the unweighted rule; weight 0 keeps nothing of that worker alone
        assert [f.label for f in cluster_many(objs, engine=engine, weights={"a": 2, "b": 2, "c": 2})[0]] == ["dog"]
        assert cluster_many([{"a": [Box("cat", 1, 1, 5, 5)]}], engine=engine, weights={"a": 0.0})[0] == []
