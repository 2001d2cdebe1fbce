"""``gtflow train | predict | evaluate`` on the local backend (tiny training), and the SageMaker dry run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gtflow.cli import cli


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU two spinning threads cost far more."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(root, *args):
    res = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    return res


@pytest.mark.training
def test_synthetic_prepare_train_predict_evaluate(tmp_path):
    root = tmp_path / "root"
    r = _run(root, "train", "synthetic", "--prefix", "s3://data/round-0", "-n", "16", "--image-size", "64")
    assert r.exit_code == 0, r.output
    r = _run(root, "train", "synthetic", "--prefix", "s3://data/round-1", "-n", "6", "--image-size", "64",
             "--seed", "9")
    r = _run(root, "train", "prepare", "--previous", "s3://data/round-0/dataset.manifest",
             "--reviewed", "s3://data/round-1/dataset.manifest", "--label-attribute", "bounding-box",
             "--out-prefix", "s3://data/train-1", "--validation-fraction", "0.25", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["lines"] == 22 and summary["added"] == 6 and summary["train"] + summary["validation"] == 22
    r = _run(root, "train", "local", "--train", summary["manifests"]["train"],
             "--validation", summary["manifests"]["validation"], "--label-attribute", "bounding-box",
             "--output", "s3://models/od", "--steps", "3", "--image-size", "64", "--batch-size", "4",
             "--threads", "1", "--json")
    assert r.exit_code == 0, r.output
    job = json.loads(r.output)
    assert job["ModelArtifacts"].endswith("/output/model.tar.gz") and "validation:mAP" in job["Metrics"]
    again = json.loads(_run(root, "train", "local", "--train", summary["manifests"]["train"],
                            "--validation", summary["manifests"]["validation"], "--label-attribute",
                            "bounding-box", "--output", "s3://models/od", "--steps", "3", "--image-size", "64",
                            "--batch-size", "4", "--json").output)
    assert again["Attached"] and again["TrainingJobName"] == job["TrainingJobName"]

    img = "s3://data/round-1/images/s9-000000.png"
    r = _run(root, "predict", img, "--model", job["ModelArtifacts"], "--score-threshold", "0")
    assert r.exit_code == 0, r.output
    line = json.loads(r.stdout.splitlines()[0])  # progress lines go to stderr
    assert line["source-ref"] == img and all(len(row) == 6 for row in line["prediction"])
    assert line["image_size"] == [{"width": 64, "height": 64, "depth": 3}]
    # predict -> loops start with no glue: the output file is the input as it is
    (tmp_path / "preds.jsonl").write_text(r.stdout)
    (tmp_path / "classes.json").write_text(json.dumps(summary["class_map"]))
    assert _run(root, "loops", "create-flow", "review", "--output", "s3://data/a2i").exit_code == 0
    r = _run(root, "loops", "start", str(tmp_path / "preds.jsonl"), "--flow", "review", "--class-map",
             str(tmp_path / "classes.json"), "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["predictions"] == 1

    r = _run(root, "evaluate", "--manifest", summary["manifests"]["validation"], "--label-attribute",
             "bounding-box", "--model", job["ModelArtifacts"], "--json", "--report", "s3://models/report.json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["num_images"] == summary["validation"] and "mAP_voc50" in rep and "histogram" in rep["scores"]
    assert (root / "models" / "report.json").is_file()
    r = _run(root, "evaluate", "--manifest", summary["manifests"]["validation"], "--label-attribute",
             "bounding-box", "--model", job["ModelArtifacts"])
    assert r.exit_code == 0 and "mAP@0.5 VOC all-point" in r.output


def test_prepare_refuses_new_classes_with_exit_1(tmp_path):
    root = tmp_path / "root"
    _run(root, "train", "synthetic", "--prefix", "s3://data/a", "-n", "3", "--image-size", "48")
    man = root / "data" / "a" / "dataset.manifest"
    lines = [json.loads(t) for t in man.read_text().splitlines()]
    for ln in lines:
        ln["bounding-box-metadata"]["class-map"] = {"0": "hexagon", "1": "x", "2": "y", "3": "z"}
    (root / "data" / "a" / "odd.manifest").write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    _run(root, "train", "synthetic", "--prefix", "s3://data/b", "-n", "3", "--image-size", "48", "--seed", "4")
    res = CliRunner().invoke(cli, ["--root", str(root), "train", "prepare", "--previous", "s3://data/b/dataset.manifest",
                                   "--reviewed", "s3://data/a/odd.manifest", "--label-attribute", "bounding-box",
                                   "--out-prefix", "s3://data/out"])
    assert res.exit_code == 1 and "hexagon" in res.output and "allow-new-classes" in res.output
    # the same review is accepted when the class map names its classes
    ok = CliRunner().invoke(cli, ["--root", str(root), "train", "prepare", "--reviewed", "s3://data/a/odd.manifest",
                                  "--label-attribute", "bounding-box", "--out-prefix", "s3://data/out2",
                                  "--class-map", '["hexagon", "x", "y", "z"]', "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["class_map"] == {"0": "hexagon", "1": "x", "2": "y", "3": "z"}


def test_sagemaker_dry_run_prints_the_request(tmp_path):
    r = _run(tmp_path / "root", "--region", "eu-west-1", "train", "sagemaker", "--train", "s3://bucket/t.manifest",
             "--validation", "s3://bucket/v.manifest", "--label-attribute", "bounding-box",
             "--output", "s3://bucket/out", "--role", "arn:aws:iam::123456789012:role/sm",
             "--previous-model", "s3://bucket/out/j/output/model.tar.gz",
             "--hp", "num_classes=4", "--hp", "num_training_samples=100", "--hp", "epochs=3", "--dry-run")
    assert r.exit_code == 0, r.output
    (call,) = json.loads(r.output)["calls"]
    assert (call["service"], call["operation"]) == ("sagemaker", "CreateTrainingJob")
    req = call["request"]
    assert req["AlgorithmSpecification"]["TrainingImage"].startswith("685385470294.dkr.ecr.eu-west-1")
    assert [c["ChannelName"] for c in req["InputDataConfig"]] == ["train", "validation", "model"]
    assert req["HyperParameters"]["use_pretrained_model"] == "0" and req["HyperParameters"]["epochs"] == "3"
    bad = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "train", "sagemaker", "--train", "s3://bucket/t.manifest",
                                   "--validation", "s3://bucket/v.manifest", "--label-attribute", "bounding-box",
                                   "--output", "s3://bucket/out", "--role", "arn:aws:iam::123456789012:role/sm",
                                   "--hp", "num_classes=4", "--hp", "num_training_samples=100",
                                   "--hp", "learning_rate=2", "--dry-run"])
    assert bad.exit_code == 2 and "learning_rate" in bad.output


def test_predict_needs_one_source(tmp_path):
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "predict", "x.png"])
    assert res.exit_code == 2 and "exactly one" in res.output
