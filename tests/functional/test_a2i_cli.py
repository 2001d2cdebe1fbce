"""``gtflow loops`` and ``gtflow manifest from-a2i`` on the local backend."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from gtflow.cli import cli
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue


def run(root: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.output


def png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def test_loops_cli_end_to_end(tmp_path: Path):
    root = tmp_path / "data"
    store = LocalStore(root)
    store.put_bytes("s3://bucket/img/a.png", png(64, 48))  # no image_size: measured from the file
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    preds = [
        {"source-ref": "s3://bucket/img/a.png", "prediction": [[0, 0.3, 0.25, 0.25, 0.75, 0.75]]},
        {"source-ref": "s3://bucket/img/b.png", "prediction": [[1, 0.9, 0, 0, 1, 1]], "image_size": [{"width": 10, "height": 10, "depth": 3}]},
        {"source-ref": "s3://bucket/img/c.png", "prediction": [], "image_size": {"width": 10, "height": 10}},
    ]
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))

    code, out = run(root, "loops", "create-flow", "od-review", "--output", "s3://bucket/a2i")
    assert code == 0 and out.strip() == "arn:aws:sagemaker:local:000000000000:flow-definition/od-review"
    assert run(root, "loops", "create-flow", "od-review", "--output", "s3://bucket/a2i")[0] == 0  # idempotent

    args = ["loops", "start", str(tmp_path / "preds.jsonl"), "--flow", "od-review", "--class-map", str(tmp_path / "classes.json"),
            "--box-min-score", "0.2"]  # the 0.3 box is drawn (default 0.4 would hide it)
    code, out = run(root, *args, "--dry-run", "--json")
    dry = json.loads(out)
    calls = dry.pop("calls")
    assert dry == {"predictions": 3, "routed": 2, "started": 0, "alreadyStarted": 0, "sameInputAsAnother": 0, "dryRun": True,
                   "reasons": {"below-threshold": 1, "confident": 1, "no-detection": 1}}
    assert [c["operation"] for c in calls] == ["StartHumanLoop", "StartHumanLoop"]
    dry_names = [c["request"]["HumanLoopName"] for c in calls]
    code, out = run(root, *args, "--json", "--decisions", str(tmp_path / "decisions.jsonl"))
    assert code == 0 and json.loads(out)["started"] == 2
    decisions = [json.loads(x) for x in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert [d["reason"] for d in decisions] == ["below-threshold", "confident", "no-detection"]
    assert decisions[0]["humanLoopName"].startswith("od-review-")
    assert [d["humanLoopName"] for d in decisions if "humanLoopName" in d] == dry_names  # the dry run's names
    code, out = run(root, *args, "--json")
    assert json.loads(out)["started"] == 0 and json.loads(out)["alreadyStarted"] == 2  # rerun

    tq = TaskQueue.for_store(LocalStore(root))
    task = tq.task("od-review", decisions[0]["humanLoopName"])
    assert task.task_input["initialValue"] == [{"label": "circle", "left": 16, "top": 12, "width": 32, "height": 24}]

    code, out = run(root, "loops", "status", "--flow", "od-review", "--json")
    assert json.loads(out)["counts"] == {"InProgress": 2}
    tq.submit("od-review", task.task_id, "w1", {"annotatedResult": {
        "boundingBoxes": [{"label": "square", "left": 10, "top": 10, "width": 20, "height": 20}],
        "inputImageProperties": {"width": 64, "height": 48}, "initialValueModified": True}})
    code, out = run(root, "loops", "status", "--flow", "od-review", "--list")
    assert "1 Completed" in out and task.task_id in out

    code, out = run(root, "loops", "collect", "--flow", "od-review", "-o", str(tmp_path / "outputs.jsonl"),
                    "--manifest", str(tmp_path / "m.manifest"), "--label-attribute", "a2i-retraining",
                    "--class-map", str(tmp_path / "classes.json"), "--json")
    assert code == 0 and json.loads(out)["loops"] == 1 and json.loads(out)["manifest"]["lines"] == 1
    assert json.loads((tmp_path / "outputs.jsonl").read_text())["humanLoopName"] == task.task_id

    code, out = run(root, "manifest", "from-a2i", "s3://bucket/a2i/", "-o", str(tmp_path / "train.manifest"),
                    "--label-attribute", "a2i-retraining", "--class-map", str(tmp_path / "classes.json"), "--json")
    assert code == 0 and json.loads(out)["lines"] == 1
    assert (tmp_path / "train.manifest").read_bytes() == (tmp_path / "m.manifest").read_bytes()
    code, out = run(root, "manifest", "validate", str(tmp_path / "train.manifest"), "--task", "object-detection",
                    "--label-attribute", "a2i-retraining", "--num-classes", "2")
    assert code == 0, out


def test_bad_inputs_exit_with_clear_errors(tmp_path: Path):
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["circle"]')
    (tmp_path / "preds.jsonl").write_text('{"source-ref": "s3://bucket/x.png", "prediction": [[0, 0.1, 0, 0]]}\n')
    run(root, "loops", "create-flow", "od-review", "--output", "s3://bucket/a2i")
    r = CliRunner().invoke(cli, ["--root", str(root), "loops", "start", str(tmp_path / "preds.jsonl"), "--flow", "od-review",
                                 "--class-map", str(tmp_path / "classes.json")])
    assert r.exit_code == 1 and "line 1" in r.output and "prediction[0]" in r.output
    r = CliRunner().invoke(cli, ["--root", str(root), "loops", "create-flow", "Bad_Name", "--output", "s3://bucket/a2i"])
    assert r.exit_code == 2 and "FlowDefinitionName" in r.output
    r = CliRunner().invoke(cli, ["--root", str(root), "loops", "status", "--flow", "nope"])
    assert r.exit_code == 2 and "no flow definition" in r.output


def test_loops_start_counts_loops_and_refuses_scores_outside_0_1(tmp_path: Path):
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    assert run(root, "loops", "create-flow", "od-review", "--output", "s3://bucket/a2i")[0] == 0
    same = {"source-ref": "s3://bucket/img/a.png", "prediction": [[0, 0.3, 0.2, 0.2, 0.6, 0.6]],
            "image_size": [{"width": 10, "height": 10, "depth": 3}]}
    (tmp_path / "same.jsonl").write_text(json.dumps(same) + "\n" * 1 + "".join(json.dumps(same) + "\n" for _ in range(4)))
    base = ["loops", "start", "--flow", "od-review", "--class-map", str(tmp_path / "classes.json"), "--json"]
    code, out = run(root, *base[:2], str(tmp_path / "same.jsonl"), *base[2:])
    summary = json.loads(out)
    assert code == 0 and summary["routed"] == 5 and summary["started"] == 1 and summary["sameInputAsAnother"] == 4
    code, out = run(root, *base[:2], str(tmp_path / "same.jsonl"), *base[2:-1])
    assert "0 loops started, 1 already started, 4 routed predictions were the same input as another" in out

    scores100 = {**same, "source-ref": "s3://bucket/img/b.png", "prediction": [[1, 87.5, 0.1, 0.1, 0.5, 0.5]]}
    (tmp_path / "p100.jsonl").write_text(json.dumps(same) + "\n" + json.dumps(scores100) + "\n")
    r = CliRunner().invoke(cli, ["--root", str(root), *base[:2], str(tmp_path / "p100.jsonl"), *base[2:]])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"{tmp_path / 'p100.jsonl'}:2: prediction[0][1]: score 87.5 is outside [0, 1]" in r.stderr
    assert "--score-scale 100" in r.stderr
    code, out = run(root, *base[:2], str(tmp_path / "p100.jsonl"), *base[2:], "--score-scale", "100", "--threshold", "0.5")
    s = json.loads(out)
    assert code == 0 and s["reasons"] == {"below-threshold": 1, "confident": 1}  # 0.003 routed, 0.875 not
