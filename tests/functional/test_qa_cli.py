"""``gtflow qa report`` / ``gtflow qa thresholds`` and the routing reading the policy they write."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.qa import Verdict
from gtflow.qa.records import write_verdicts_csv, write_verdicts_jsonl


def verdicts() -> list[Verdict]:
    vs = [Verdict(f"s3://b/cat/{i}.jpg", "cat", 90 + i / 10, 1, 0) for i in range(60)]  # cat: trusted from 90
    vs += [Verdict(f"s3://b/dog/{i}.jpg", "dog", 96, 1, 1) for i in range(5)]  # dog: split, never trusted
    return vs


def run(tmp_path: Path, *args: str) -> str:
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "qa", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_thresholds_prints_json_and_writes_a_policy_the_routing_uses(tmp_path: Path) -> None:
    from gtflow.routing import ClassThresholds, Prediction, RoutingPolicy, load_policy, route

    src = tmp_path / "v.jsonl"
    src.write_text(write_verdicts_jsonl(verdicts()))
    policy_file = tmp_path / "out" / "policy.json"
    out = run(tmp_path, "thresholds", str(src), "--cost-ratio", "10", "--json", "--policy-out", str(policy_file))
    printed = json.loads(out[: out.rindex("}") + 1])
    assert {k: v["threshold"] for k, v in printed.items()} == {"cat": 90.0, "dog": None}
    # why dog has none: 5 verdicts seen, none of them correct (every one split), so no number helps
    assert printed["dog"]["seen"] == 5 and printed["dog"]["needed"] is None
    assert "no reviewed image was correct" in printed["dog"]["reason"]
    doc = json.loads(policy_file.read_text())
    assert doc == {"version": 1, "kind": "per-class", "thresholds": {"cat": 0.9, "dog": None}, "default": 1.0}

    # the human-loop routing accepts the file ...
    assert ClassThresholds.load(policy_file).threshold_for("cat") == 0.9
    per_class = load_policy(policy_file)
    global_only = RoutingPolicy(threshold=0.5)
    classes = {0: "cat", 1: "dog", 2: "bird"}
    preds = [
        Prediction.from_response("s3://b/p/1.jpg", {"prediction": [[0, 0.95, 0.1, 0.1, 0.5, 0.5]]}),
        Prediction.from_response("s3://b/p/2.jpg", {"prediction": [[0, 0.85, 0.1, 0.1, 0.5, 0.5]]}),
        Prediction.from_response("s3://b/p/3.jpg", {"prediction": [[1, 0.99, 0.1, 0.1, 0.5, 0.5]]}),
        Prediction.from_response("s3://b/p/4.jpg", {"prediction": [[2, 0.97, 0.1, 0.1, 0.5, 0.5]]}),
    ]
    before = [d.routed for d in route(preds, global_only, classes)]
    after = route(preds, per_class, classes)
    # ... and it changes which predictions are routed
    assert before == [False, False, False, False]
    assert [d.routed for d in after] == [False, True, True, True]
    assert [d.reason for d in after] == ["confident", "below-class-threshold", "class-always-routed", "below-class-threshold"]


def test_thresholds_bucket_walk_and_csv_input(tmp_path: Path) -> None:
    src = tmp_path / "v.csv"
    src.write_text(write_verdicts_csv(verdicts()))
    out = run(tmp_path, "thresholds", str(src), "--cost-ratio", "10", "--method", "bucket-walk", "--json")
    assert {k: v["threshold"] for k, v in json.loads(out).items()} == {"cat": 80.0, "dog": None}
    assert json.loads(out)["dog"]["needed"] == 5 + 50  # 5 wrong: passes with 50 right beside them
    out = run(tmp_path, "thresholds", str(src), "--cost-ratio", "10", "--explain")
    assert json.loads(out)["cat"]["accepted"] == 60


def test_thresholds_text_says_why_a_class_has_none(tmp_path: Path) -> None:
    """The bulk-QA post's situation: a small class, all correct, gets no threshold from the
    lower bound; the output says how many verdicts it has and how many it would need."""
    vs = [Verdict(f"s3://b/cat/{i}.jpg", "Cat", 97 - i, 1, 0) for i in range(9)]
    vs += [Verdict("s3://b/cat/x.jpg", "Cat", 94.4, 0, 1)]  # one wrong, as in the sample's Cat batch
    vs += [Verdict(f"s3://b/b/{i}.jpg", "Beaver", 97 - i / 2, 1, 0) for i in range(24)]
    src = tmp_path / "v.jsonl"
    src.write_text(write_verdicts_jsonl(vs))
    out = run(tmp_path, "thresholds", str(src), "--cost-ratio", "10")
    lines = {ln.split()[0]: ln for ln in out.splitlines()}
    assert "none (always route): 24 verdicts seen, 28 needed" in lines["Beaver"]
    assert "none (always route): 10 verdicts seen" in lines["Cat"]
    data = json.loads(run(tmp_path, "thresholds", str(src), "--cost-ratio", "10", "--json"))
    assert data["Beaver"]["needed"] == 28 and data["Beaver"]["seen"] == 24
    # at a lower cost ratio the same evidence is enough
    data = json.loads(run(tmp_path, "thresholds", str(src), "--cost-ratio", "3", "--json"))
    assert data["Beaver"]["threshold"] is not None and data["Beaver"]["needed"] is None


def test_report_formats_and_html(tmp_path: Path) -> None:
    src = tmp_path / "v.jsonl"
    src.write_text(write_verdicts_jsonl(verdicts()))
    md = run(tmp_path, "report", str(src), "--format", "markdown", "--rule", "any")
    assert "| dog | [95, 100] | 5 | 0 | 0 | 5 | 5 | 100.0 % | 96.0 |" in md
    run(tmp_path, "report", str(src), "--format", "csv", "--out", str(tmp_path / "t.csv"),
        "--html", str(tmp_path / "r.html"), "--cost-ratio", "10")
    assert (tmp_path / "t.csv").read_text().startswith("class,bucket,total")
    html = (tmp_path / "r.html").read_text()
    assert 'id="thresholds"' in html and "always route" in html
    terminal = run(tmp_path, "report", str(src))
    assert "cat" in terminal and "dog" in terminal


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "v.jsonl"
    src.write_text('{"image": "a", "label": "cat", "confidence": 90}\n{"image": "b"}\n')
    # a bad record is left out, named (file, line, field) and counted; the rest is analysed
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "qa", "thresholds", str(src), "--cost-ratio", "10"])
    assert res.exit_code == 0
    assert "v.jsonl:2:label:missing'label'" in "".join(res.output.split())  # rich may wrap the line
    assert "2 records read, 1 used, 0 quarantined, 1 left out" in res.output
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "qa", "thresholds", str(src), "--cost-ratio", "-1"])
    assert res.exit_code == 2
