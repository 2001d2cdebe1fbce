"""Every AWS ``--dry-run`` works with no credentials and sends nothing (issue 17, item 5).

botocore's HTTP layer is replaced by one that fails the test, and the environment has no
credentials, no config file and no instance metadata: a request sent or signed would fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.dry_run import validate_request
from gtflow.errors import UsageError

ROLE = "arn:aws:iam::111122223333:role/gt"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import botocore.endpoint

    def refuse(*a, **kw):
        raise AssertionError("a dry run sent an HTTP request")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse)


def aws(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--backend", "aws", "--region", "us-east-1", *args])
    return r.exit_code, r.output


def test_train_sagemaker_dry_run_offline_with_the_posts_hyperparameters(offline):
    code, out = aws("train", "sagemaker", "--train", "s3://bkt/train.manifest", "--validation",
                    "s3://bkt/validation.manifest", "--label-attribute", "bounding-box", "--output", "s3://bkt/out",
                    "--role", ROLE, "--hp", "num_classes=20", "--hp", "num_training_samples=16551",
                    "--hp", "epochs=1", "--hp", "lr_scheduler_step=3,6", "--hp", "base_network=resnet-50",
                    "--hp", "image_shape=512", "--hp", "mini_batch_size=16", "--weights", "imagenet", "--dry-run")
    assert code == 0, out
    doc = json.loads(out)
    (call,) = doc["calls"]
    assert doc["dryRun"] and (call["service"], call["operation"]) == ("sagemaker", "CreateTrainingJob")
    hp = call["request"]["HyperParameters"]
    assert hp["lr_scheduler_step"] == "3,6" and hp["epochs"] == "1" and hp["use_pretrained_model"] == "1"
    validate_request("sagemaker", "CreateTrainingJob", call["request"])


def test_train_sagemaker_dry_run_reads_nothing_from_s3(offline):
    code, out = aws("train", "sagemaker", "--train", "s3://bkt/train.manifest", "--validation",
                    "s3://bkt/validation.manifest", "--label-attribute", "bounding-box", "--output", "s3://bkt/out",
                    "--role", ROLE, "--dry-run")
    assert code == 2 and "--hp num_training_samples" in out and "Traceback" not in out


def test_qa_run_dry_run_offline(offline, tmp_path: Path):
    (tmp_path / "preds.csv").write_text("".join(f"img/{i}.jpg,cat,{90 + i % 10}\n" for i in range(7)))
    code, out = aws("qa", "run", "--csv", str(tmp_path / "preds.csv"), "--prefix", "s3://bkt/qa/CatsQA",
                    "--image-prefix", "s3://bkt", "--role-arn", ROLE,
                    "--workteam-arn", "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/qa",
                    "--pre-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:pre",
                    "--post-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:post", "--dry-run")
    assert code == 0, out
    doc = json.loads(out)
    (call,) = doc["calls"]
    assert call["operation"] == "CreateLabelingJob" and call["request"]["LabelingJobName"] == "CatsQA"
    assert any(w["uri"].endswith("batches.manifest") for w in doc["writes"])


def test_qa_run_dry_run_refuses_an_s3_csv_clearly(offline):
    code, out = aws("qa", "run", "--csv", "s3://bkt/preds.csv", "--prefix", "s3://bkt/qa/x", "--role-arn", ROLE,
                    "--workteam-arn", "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/qa",
                    "--pre-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:pre",
                    "--post-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:post", "--dry-run")
    assert code == 2 and "reads nothing from S3" in out and "Traceback" not in out


def test_a_request_botocore_refuses_is_a_usage_error():
    with pytest.raises(UsageError, match="TrainingJobName"):
        validate_request("sagemaker", "CreateTrainingJob", {"TrainingJobName": 5})


def test_loops_start_dry_run_offline_prints_start_human_loop(offline, tmp_path: Path):
    (tmp_path / "classes.json").write_text('["cat"]')
    (tmp_path / "p.jsonl").write_text(json.dumps({"source-ref": "s3://bkt/a.jpg", "prediction": [[0, 0.3, 0.1, 0.1, 0.5, 0.5]],
                                                  "image_size": [{"width": 100, "height": 80, "depth": 3}]}) + "\n")
    arn = "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/od-review"
    code, out = aws("loops", "start", str(tmp_path / "p.jsonl"), "--flow", arn, "--class-map",
                    str(tmp_path / "classes.json"), "--dry-run", "--json")
    assert code == 0, out
    (call,) = json.loads(out)["calls"]
    assert call["operation"] == "StartHumanLoop" and call["request"]["FlowDefinitionArn"] == arn
    validate_request("sagemaker-a2i-runtime", "StartHumanLoop", call["request"])
