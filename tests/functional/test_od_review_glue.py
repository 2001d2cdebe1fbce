"""predict -> loops start -> review -> collect with no glue (issue 17, item 3).

``loops start`` draws only boxes scoring >= 0.4 by default (the blog post's value) and at most
``--max-boxes``; ``loops collect --manifest`` and ``manifest from-a2i`` write identical,
sorted manifests from one implementation.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue


def run(root: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.output


def _boxes(n: int, top: float) -> list[list[float]]:
    # scores top, top-0.07, ... (all in [0, 1]); distinct boxes
    return [[0.0, round(top - 0.07 * i, 3), 0.05 * i, 0.05 * i, 0.05 * i + 0.2, 0.05 * i + 0.2] for i in range(n)]


def test_box_floor_default_and_max_boxes(tmp_path: Path):
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["cat"]')
    size = [{"width": 100, "height": 100, "depth": 3}]
    preds = [{"source-ref": "s3://bkt/a.jpg", "prediction": _boxes(6, 0.45), "image_size": size}]
    (tmp_path / "p.jsonl").write_text(json.dumps(preds[0]) + "\n")
    assert run(root, "loops", "create-flow", "f1", "--output", "s3://bkt/a2i")[0] == 0
    assert run(root, "loops", "create-flow", "f2", "--output", "s3://bkt/a2i")[0] == 0
    base = ["loops", "start", str(tmp_path / "p.jsonl"), "--class-map", str(tmp_path / "classes.json"), "--json"]
    code, out = run(root, *base, "--flow", "f1")
    assert code == 0, out
    code, out = run(root, *base, "--flow", "f2", "--box-min-score", "0", "--max-boxes", "2")
    assert code == 0, out
    tq = TaskQueue.for_store(LocalStore(root))
    (t1,) = tq.tasks("f1")
    (t2,) = tq.tasks("f2")
    # default floor 0.4: scores 0.45 only (0.35, 0.25 ... are not drawn)
    assert len(tq.task("f1", t1.task_id).task_input["initialValue"]) == 1
    # floor 0 but at most 2 boxes, best first
    iv = tq.task("f2", t2.task_id).task_input["initialValue"]
    assert [b["left"] for b in iv] == [0, 5]


def test_collect_manifest_equals_from_a2i_sorted(tmp_path: Path):
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["cat", "dog"]')
    size = [{"width": 100, "height": 100, "depth": 3}]
    refs = ["s3://bkt/z.jpg", "s3://bkt/m.jpg", "s3://bkt/a.jpg"]  # started in reverse order
    (tmp_path / "p.jsonl").write_text("".join(
        json.dumps({"source-ref": r, "prediction": _boxes(1, 0.3), "image_size": size}) + "\n" for r in refs))
    assert run(root, "loops", "create-flow", "rev", "--output", "s3://bkt/a2i")[0] == 0
    code, out = run(root, "loops", "start", str(tmp_path / "p.jsonl"), "--flow", "rev", "--class-map",
                    str(tmp_path / "classes.json"), "--json")
    assert json.loads(out)["started"] == 3
    tq = TaskQueue.for_store(LocalStore(root))
    for i, t in enumerate(tq.tasks("rev")):
        tq.submit("rev", t.task_id, "w1", {"annotatedResult": {
            "boundingBoxes": [{"label": "dog", "left": i, "top": 1, "width": 9, "height": 9}],
            "inputImageProperties": {"width": 100, "height": 100}}})
    cm = str(tmp_path / "classes.json")
    code, out = run(root, "loops", "collect", "--flow", "rev", "--manifest", str(tmp_path / "c.manifest"),
                    "--label-attribute", "reviewed", "--class-map", cm)
    assert code == 0, out
    code, out = run(root, "manifest", "from-a2i", "s3://bkt/a2i/", "-o", str(tmp_path / "f.manifest"),
                    "--label-attribute", "reviewed", "--class-map", cm)
    assert code == 0, out
    collected = (tmp_path / "c.manifest").read_bytes()
    assert collected == (tmp_path / "f.manifest").read_bytes()
    got = [json.loads(x)["source-ref"] for x in collected.decode().splitlines()]
    assert got == sorted(refs)


def test_train_prepare_takes_local_paths(tmp_path: Path):
    root = tmp_path / "data"
    code, out = run(root, "train", "synthetic", "--prefix", "s3://data/d", "-n", "5", "--image-size", "48")
    assert code == 0, out
    local = tmp_path / "reviewed.manifest"
    local.write_bytes((root / "data" / "d" / "dataset.manifest").read_bytes())
    code, out = run(root, "train", "prepare", "--reviewed", str(local), "--label-attribute", "bounding-box",
                    "--out-prefix", str(tmp_path / "prepared"), "--validation-fraction", "0.2", "--allow-new-classes", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["lines"] == 5 and summary["manifests"]["all"] == str(tmp_path / "prepared" / "all.manifest")
    assert len((tmp_path / "prepared" / "all.manifest").read_text().splitlines()) == 5


def test_qa_run_and_job_status_agree_on_the_name_case(tmp_path: Path):
    root = tmp_path / "data"
    (tmp_path / "p.csv").write_text("img/1.jpg,cat,95\nimg/2.jpg,cat,91\n")
    code, out = run(root, "qa", "run", "--csv", str(tmp_path / "p.csv"), "--prefix", "s3://bkt/qa/CatsQA",
                    "--image-prefix", "s3://bkt")
    assert code == 0, out
    assert json.loads(out[:out.rindex("}") + 1])["job"] == "CatsQA"
    code, out = run(root, "job", "status", "CatsQA")  # the spelling the user wrote finds the job
    assert code == 0 and "pending" in out
