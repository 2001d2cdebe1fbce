"""``gtflow manifest`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.store import LocalStore

EVENTS = Path(__file__).parents[1] / "events"
OD = EVENTS / "od_augmented_manifest_docs.jsonl"


def flat(text: str) -> str:
    """Undo terminal wrapping of long error lines."""
    return " ".join(text.split()).replace(": \n", ": ")


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    root = tmp_path / "root"

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--root", str(root), "manifest", *args], input=input, catch_exceptions=False)

    invoke.root = root  # type: ignore[attr-defined]
    return invoke


def test_validate_valid_sample_exits_0(run) -> None:
    result = run("validate", str(OD), "--task", "object-detection", "--label-attribute", "bounding-box", "--num-classes", "6")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "valid" in result.stderr and "label_width >= 12" in result.stderr


def test_validate_invalid_prints_one_line_per_problem_and_exits_1(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.manifest"
    lines = OD.read_text().splitlines()
    bad.write_text(lines[0] + "\n" + lines[1][:-3] + "\n" + lines[0] + "\n")
    result = run("validate", str(bad), "--task", "object-detection", "--num-classes", "3")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0] == f"{bad}:1: bounding-box.annotations[1].class_id: is 5; num_classes is 3 (ids 0..2)"
    assert out[1].startswith(f"{bad}:2: not valid JSON")
    assert out[2].startswith(f"{bad}:3: bounding-box.annotations[1].class_id")
    assert len(out) == 3


def test_validate_json_output(run) -> None:
    result = run("validate", str(OD), "--task", "object-detection", "--num-classes", "2", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["errors"] == 1 and report["minNumClasses"] == 6
    assert report["problems"][0]["field"] == "bounding-box.annotations[1].class_id"


@pytest.mark.parametrize(
    "args",
    [
        ["--task", "segmentation"],
        ["--num-classes", "0", "--task", "object-detection"],
        ["--num-classes", "3"],  # needs --task
        ["--output", "x.manifest", "--task", "object-detection"],  # needs --empty drop
        ["--empty", "sometimes", "--task", "object-detection"],
    ],
)
def test_validate_usage_errors_exit_2(run, args: list[str]) -> None:
    result = run("validate", str(OD), *args)
    assert result.exit_code == 2, result.output


def test_validate_missing_file_exits_1(run, tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "none.manifest"))
    assert result.exit_code == 1 and "no such file" in flat(result.stderr)


def test_validate_drop_writes_cleaned_copy_to_the_store(run) -> None:
    store = LocalStore(run.root)
    empty = {"source-ref": "s3://bucket/e.jpg", "bounding-box": {"image_size": [{"width": 5, "height": 5, "depth": 3}], "annotations": []}}
    store.put_text("s3://bucket/in.manifest", OD.read_text() + json.dumps(empty) + "\n")
    result = run("validate", "s3://bucket/in.manifest", "--task", "object-detection", "--empty", "drop", "-o", "s3://bucket/clean.manifest")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stdout and "info: image has no boxes: dropped" in result.stdout
    assert store.get_text("s3://bucket/clean.manifest") == OD.read_text()
    strict = run("validate", "s3://bucket/in.manifest", "--task", "object-detection", "--empty", "error")
    assert strict.exit_code == 1 and "s3://bucket/in.manifest:3: bounding-box.annotations: image has no boxes" in strict.stdout


def test_build_from_prefix_to_stdout_and_to_the_store(run) -> None:
    store = LocalStore(run.root)
    for name in ["a.jpg", "b.txt", "c.png"]:
        store.put_bytes(f"s3://bucket/img/{name}", b"x")
    result = run("build", "from-prefix", "s3://bucket/img/")
    assert result.exit_code == 0
    assert result.stdout == '{"source-ref":"s3://bucket/img/a.jpg"}\n{"source-ref":"s3://bucket/img/c.png"}\n'
    result = run("build", "from-prefix", "s3://bucket/img/", "--ext", "png", "-o", "s3://bucket/m/png.manifest")
    assert result.exit_code == 0 and "wrote 1 lines to s3://bucket/m/png.manifest" in result.stderr
    assert store.get_text("s3://bucket/m/png.manifest") == '{"source-ref":"s3://bucket/img/c.png"}\n'


def test_build_from_texts_from_stdin(run, tmp_path: Path) -> None:
    out = tmp_path / "texts.manifest"
    result = run("build", "from-texts", "-", "-o", str(out), input="first\n\nsecond one\n")
    assert result.exit_code == 0, result.output
    assert out.read_text() == '{"source":"first"}\n{"source":"second one"}\n'


def test_build_from_csv_with_filter_and_error_location(run, tmp_path: Path) -> None:
    good = tmp_path / "p.csv"
    good.write_text("image,label,confidence\ns3://bucket/1.jpg,cat,0.9\ns3://bucket/2.jpg,dog,0.3\n")
    result = run("build", "from-csv", str(good), "--min-confidence", "0.5")
    assert result.exit_code == 0
    assert result.stdout == '{"source-ref":"s3://bucket/1.jpg","label":"cat","confidence":0.9}\n'
    bad = tmp_path / "bad.csv"
    bad.write_text("image,label,confidence\ns3://bucket/1.jpg,cat,0.9\ns3://bucket/2.jpg,dog,lots\n")
    result = run("build", "from-csv", str(bad), "-o", str(tmp_path / "never.manifest"))
    assert result.exit_code == 1
    assert f"{bad}:3: confidence: not a number" in flat(result.stderr)
    assert not (tmp_path / "never.manifest").exists()


def test_build_batches_then_stats(run, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("image,label,confidence\n" + "".join(f"s3://bucket/{i}.jpg,{'cat' if i < 30 else 'dog'},{i}\n" for i in range(40)))
    result = run("build", "batches", str(csv), "--prefix", "s3://bucket/qa", "--batch-size", "25")
    assert result.exit_code == 0, result.output
    assert "wrote 3 batches" in result.stderr
    store = LocalStore(run.root)
    assert [o.uri.rsplit("/", 1)[-1] for o in store.list("s3://bucket/qa/")] == ["batches.manifest", "cat-0001.json", "cat-0002.json", "dog-0001.json"]
    stats = run("stats", "s3://bucket/qa/batches.manifest", "--json")
    assert stats.exit_code == 0
    assert json.loads(stats.stdout)["labels"] == {"cat": 2, "dog": 1}
    assert run("validate", "s3://bucket/qa/batches.manifest").exit_code == 0


def test_stats_table(run) -> None:
    result = run("stats", str(OD))
    assert result.exit_code == 0
    assert "2 lines" in result.stdout and "horse" in result.stdout and "boxes per image" in result.stdout


def test_manifest_group_lists_its_commands(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ["validate", "build", "stats"]:
        assert name in result.stdout
    build = run("build", "--help")
    for name in ["from-prefix", "from-texts", "from-csv", "batches"]:
        assert name in build.stdout


def test_build_batches_slug_clash_names_the_csv_line(run, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("image,label,confidence\ns3://bucket/1.jpg,cat,1\ns3://bucket/2.jpg,Cat,1\n")
    result = run("build", "batches", str(csv), "--prefix", "s3://bucket/qa")
    assert result.exit_code == 1
    assert f"{csv}:3: label: labels 'cat' and 'Cat' would share batch names" in flat(result.stderr)
