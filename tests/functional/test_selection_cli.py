"""``gtflow loops start --strategy NAME --budget N``: any selection strategy from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gtflow.cli import cli


def test_loops_start_with_a_strategy_and_budget(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    scores = [0.5, 0.95, 0.2, 0.9, 0.55, 0.99]
    preds = [{"source-ref": f"s3://bucket/img/{i}.png", "prediction": [[i % 2, s, .1, .1, .5, .5]],
              "image_size": {"width": 10, "height": 10}} for i, s in enumerate(scores)]
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    run = CliRunner().invoke
    assert run(cli, ["--root", str(root), "loops", "create-flow", "od", "--output", "s3://bucket/a2i"]).exit_code == 0
    base = ["--root", str(root), "loops", "start", str(tmp_path / "preds.jsonl"), "--flow", "od",
            "--class-map", str(tmp_path / "classes.json"), "--dry-run", "--json"]
    r = run(cli, [*base, "--strategy", "uncertainty", "--budget", "2", "--decisions", str(tmp_path / "d.jsonl")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["routed"] == 2 and out["reasons"] == {"not-selected": 4, "uncertain": 2}
    chosen = [json.loads(x)["source-ref"] for x in (tmp_path / "d.jsonl").read_text().splitlines() if json.loads(x)["routed"]]
    assert chosen == ["s3://bucket/img/0.png", "s3://bucket/img/4.png"]  # scores 0.5 and 0.55: nearest 0.5
    r = run(cli, [*base, "--strategy", "random", "--budget", "3", "--strategy-seed", "7"])
    assert json.loads(r.output)["reasons"] == {"not-selected": 3, "random-draw": 3}
    r = run(cli, [*base, "--strategy", "best", "--budget", "3"])
    assert r.exit_code != 0 and "unknown strategy 'best'" in r.output


def test_loops_start_seeds_gold_items(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (tmp_path / "classes.json").write_text('["circle", "square"]')
    preds = [{"source-ref": f"s3://bucket/img/{i}.png", "prediction": [[0, 0.3, .1, .1, .5, .5]],
              "image_size": {"width": 10, "height": 10}} for i in range(9)]
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    gold = [{"source-ref": f"s3://bucket/gold/{i}.png", "bounding-box": {
        "annotations": [{"class_id": 1, "left": 1, "top": 1, "width": 5, "height": 5}],
        "image_size": [{"width": 10, "height": 10, "depth": 3}]},
        "bounding-box-metadata": {"class-map": {"1": "square"}}} for i in range(5)]
    (tmp_path / "gold.manifest").write_text("".join(json.dumps(g) + "\n" for g in gold))
    run = CliRunner().invoke
    assert run(cli, ["--root", str(root), "loops", "create-flow", "od", "--output", "s3://bucket/a2i"]).exit_code == 0
    args = ["--root", str(root), "loops", "start", str(tmp_path / "preds.jsonl"), "--flow", "od",
            "--class-map", str(tmp_path / "classes.json"), "--gold", str(tmp_path / "gold.manifest"),
            "--gold-fraction", "0.1", "--json"]
    r = run(cli, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["started"] == 9 and out["gold"] == {"loops": 1, "started": 1}  # 1 of 10 loops is gold
    from gtflow.store import LocalStore
    from gtflow.tasks import TaskQueue

    tasks = list(TaskQueue.for_store(LocalStore(root)).tasks("od"))
    assert len(tasks) == 10 and sum(t.task_input["taskObject"].startswith("s3://bucket/gold/") for t in tasks) == 1
    assert json.loads(run(cli, args).output)["gold"] == {"loops": 1, "started": 0}  # rerun: nothing twice
