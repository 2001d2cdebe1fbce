"""The bulk QA job on both backends: batches → labeling job → verdict table → export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.qa import analyse, read_verdicts
from gtflow.qa.follow_up import follow_up_records, start_follow_up_local
from gtflow.qa.job import BulkQaSpec, export_verdicts, simulate_workers, start_aws, start_local
from gtflow.store import LocalStore

LABELS = ("cat", "dog", "bird")


def predictions(n: int) -> tuple[str, dict[str, str]]:
    """A CSV of ``n`` predictions (some below 80) and the true label of each image."""
    rows, truth = ["image,label,confidence"], {}
    for i in range(n):
        label = LABELS[i % 3]
        conf = 70 + (i * 7) % 31  # 70..100
        uri = f"s3://bucket/img/{i:04d}.png"
        truth[uri] = label if (i % 5 or conf >= 95) else LABELS[(i + 1) % 3]  # every 5th is wrong below 95
        rows.append(f"{uri},{label},{conf}")
    return "\n".join(rows) + "\n", truth


def test_local_job_end_to_end_with_simulated_workers(local_store: LocalStore) -> None:
    csv_text, truth = predictions(90)
    local_store.put_text("s3://bucket/preds.csv", csv_text)
    spec = BulkQaSpec(csv="s3://bucket/preds.csv", prefix="s3://bucket/qa/Run-1", batch_size=10, workers=2)
    job = start_local(spec, local_store)
    kept = [line for line in csv_text.splitlines()[1:] if float(line.rsplit(",", 1)[1]) >= 80]
    status = job.status()
    assert status.pending == status.objects == sum(-(-sum(1 for r in kept if r.split(",")[1] == lab) // 10) for lab in LABELS)
    batch = json.loads(local_store.get_text("s3://bucket/qa/Run-1/batches/cat-0001.json"))
    assert batch["label"] == "cat" and len(batch["items"]) == 10

    # worker w2 rejects one extra image on purpose: splits appear
    def judge(worker: str, image: str, label: str, conf: float | None) -> bool:
        if worker == "w2" and image.endswith("0003.png"):
            return truth[image] != label
        return truth[image] == label

    assert simulate_workers(job, ["w1", "w2"], judge) == 2 * status.objects
    assert job.status().complete
    # a rerun of the same job changes nothing (same names, no new tasks, counts unchanged)
    again = start_local(spec, local_store)
    assert again.status().answers == 2 * status.objects
    vs = list(export_verdicts(job.verdicts, job=spec.name))
    assert len(vs) == len(kept)
    for v in vs:
        right = truth[v.image] == v.label
        assert set(v.workers) == {"private.us-east-1.w1", "private.us-east-1.w2"}
        if v.image.endswith("0003.png"):
            assert v.outcome == "split"
        else:
            assert (v.confirmed, v.disconfirmed) == ((2, 0) if right else (0, 2))
        assert v.extra["job"] == "run-1"
    a = analyse(vs, rule="unanimous")
    assert a.summary.total == len(kept)
    # image 3 is right, but w2 rejected it: under "unanimous" it does not count
    assert a.summary.correct == sum(truth[v.image] == v.label for v in vs) - 1

    # the false-negative follow-up: rejected images go to a classification job
    recs = follow_up_records(vs, labels=LABELS)
    assert {r["source-ref"] for r in recs} == {v.image for v in vs if v.confirmed <= v.disconfirmed}
    res = start_follow_up_local(vs, store=local_store, prefix="s3://bucket/qa/run-1-fix", labels=LABELS)
    assert res["images"] == len(recs) and res["pending"] == len(recs)
    from gtflow.labeling.local import LocalLabelingJob

    fix = LocalLabelingJob.open(res["job"], store=local_store)
    while (task := fix.queue.next_task(fix.queue_name, "w1")) is not None:
        assert task.task_input["labels"] == list(LABELS)
        fix.queue.submit(fix.queue_name, task.task_id, "w1", {"category": {"label": truth[task.task_input["taskObject"]]}})
    assert fix.status().complete and fix.status().labeled == len(recs)
    out = [json.loads(x) for x in local_store.get_text(fix.output_manifest_uri).splitlines()]
    by_uri = {r["source-ref"]: r for r in out}
    for r in recs:
        line = by_uri[r["source-ref"]]
        assert line[f"{res['job']}-metadata"]["class-name"] == truth[r["source-ref"]]


def test_cli_run_export_report(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalStore(root)
    csv_text, truth = predictions(60)
    (tmp_path / "preds.csv").write_text(csv_text)
    (tmp_path / "truth.csv").write_text("image,label\n" + "".join(f"{k},{v}\n" for k, v in truth.items()))
    for uri in truth:
        store.put_bytes(uri, b"\x89PNG")

    def run(*args: str) -> str:
        res = CliRunner().invoke(cli, ["--root", str(root), "qa", *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    out = run("run", "--csv", str(tmp_path / "preds.csv"), "--prefix", "s3://bucket/qa/cli", "--batch-size", "5",
              "--workers", "1", "--simulate-workers", "1", "--truth", str(tmp_path / "truth.csv"))
    status = json.loads(out[out.index("{"): out.rindex("}") + 1])
    assert status["complete"] and status["job"] == "cli"
    run("export", "--prefix", "s3://bucket/qa/cli", "--out", str(tmp_path / "v.jsonl"))
    vs = read_verdicts(tmp_path / "v.jsonl")
    assert vs and all((v.confirmed == 1) == (truth[v.image] == v.label) for v in vs)
    assert all(v.confidence >= 80 for v in vs)
    status_out = run("status", "--prefix", "s3://bucket/qa/cli")
    assert json.loads(status_out)["complete"] is True
    md = run("report", str(tmp_path / "v.jsonl"), "--format", "markdown")
    assert "| cat | all |" in md


def test_aws_job_request_lambdas_and_dynamodb_verdicts(aws: None) -> None:
    """On AWS: batches in S3, CreateLabelingJob with the Lambda ARNs (Stubber against the real
    service model), the same handlers run as GT would run them, verdicts in DynamoDB, export."""
    import boto3
    from botocore.stub import ANY, Stubber

    from gtflow.handlers import invoke
    from gtflow.store import S3Store
    from gtflow.verdicts.dynamodb import DynamoVerdictTable

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket")
    store = S3Store(s3)
    csv_text, truth = predictions(30)
    store.put_text("s3://bucket/preds.csv", csv_text)
    spec = BulkQaSpec(csv="s3://bucket/preds.csv", prefix="s3://bucket/qa/aws-run", batch_size=25, workers=1)

    class Backend:
        name = "aws"

        def __init__(self) -> None:
            self.store = store

    sm = boto3.client("sagemaker", region_name="us-east-1")
    pre = "arn:aws:lambda:us-east-1:111122223333:function:gtflow-pre-bulk-qa-LabelingFunction"
    post = "arn:aws:lambda:us-east-1:111122223333:function:gtflow-post-bulk-qa-verdicts-LabelingFunction"
    arn = "arn:aws:sagemaker:us-east-1:111122223333:labeling-job/aws-run"
    with Stubber(sm) as stub:
        stub.add_response("create_labeling_job", {"LabelingJobArn": arn}, {
            "LabelingJobName": "aws-run", "LabelAttributeName": "aws-run",
            "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://bucket/qa/aws-run/batches.manifest"}}},
            "OutputConfig": {"S3OutputPath": "s3://bucket/qa/aws-run/output/"},
            "RoleArn": "arn:aws:iam::111122223333:role/gt",
            "HumanTaskConfig": ANY,
        })
        out = start_aws(spec, Backend(), role_arn="arn:aws:iam::111122223333:role/gt",
                        workteam_arn="arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/qa",
                        pre_lambda_arn=pre, post_lambda_arn=post, client=sm)
        stub.assert_no_pending_responses()
    assert out["LabelingJobArn"] == arn
    htc = out["request"]["HumanTaskConfig"]
    assert htc["PreHumanTaskLambdaArn"] == pre
    assert htc["AnnotationConsolidationConfig"] == {"AnnotationConsolidationLambdaArn": post}
    assert "crowd-checkbox" in store.get_text(htc["UiConfig"]["UiTemplateS3Uri"])

    # what GT does next, with the same handlers the Lambdas wrap
    lines = [json.loads(x) for x in store.get_text(spec.manifest_uri).splitlines()]
    request, answers = [], {}
    for i, line in enumerate(lines):
        resp = invoke("pre/bulk-qa", {"version": "2018-10-06", "labelingJobArn": arn, "dataObject": line}, store=store)
        items = resp["taskInput"]["items"]
        answer = {"confirmed": {str(k): truth[it["image"]] == line["label"] for k, it in enumerate(items)}}
        answers[line["batchId"]] = answer
        request.append({"datasetObjectId": str(i), "dataObject": {"s3Uri": line["source-ref"]},
                        "annotations": [{"workerId": "private.us-east-1.abc123",
                                         "annotationData": {"content": json.dumps(answer)}}]})
    store.put_text("s3://bucket/qa/aws-run/output/aws-run/annotations/consolidated-annotation/"
                   "consolidation-request/iteration-1/2026-01-01_00:00:00.json", json.dumps(request))
    table = DynamoVerdictTable("gtflow-verdicts", client=boto3.client("dynamodb", region_name="us-east-1"))
    table.create_table()
    event: dict[str, Any] = {
        "version": "2018-10-06", "labelingJobArn": arn, "labelAttributeName": "aws-run",
        "roleArn": "arn:aws:iam::111122223333:role/gt",
        "payload": {"s3Uri": "s3://bucket/qa/aws-run/output/aws-run/annotations/consolidated-annotation/"
                              "consolidation-request/iteration-1/2026-01-01_00:00:00.json"},
        "outputConfig": "s3://bucket/qa/aws-run/output/aws-run/annotations",
    }
    first = invoke("post/bulk-qa-verdicts", event, store=store, verdicts=table)
    assert len(first) == len(lines)
    invoke("post/bulk-qa-verdicts", event, store=store, verdicts=table)  # re-delivered: no double count
    vs = list(export_verdicts(table, job="aws-run"))
    assert len(vs) == out["items"]
    assert all(v.reviews == 1 and (v.confirmed == 1) == (truth[v.image] == v.label) for v in vs)

    # the CLI export reads the same table through the aws backend
    res = CliRunner().invoke(cli, ["--backend", "aws", "qa", "export", "--job-name", "aws-run", "--out", "-"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert len([x for x in res.output.splitlines() if x.startswith("{")]) == len(vs)


def test_spec_rejects_bad_values() -> None:
    from gtflow.errors import UsageError

    for kwargs in ({"batch_size": 0}, {"workers": 10}, {"job_name": "bad name"}):
        with pytest.raises(UsageError):
            BulkQaSpec(csv="x.csv", prefix="s3://bucket/qa/x", **kwargs)  # type: ignore[arg-type]


def test_cli_follow_up_and_aws_dry_run(tmp_path: Path, aws: None) -> None:
    import boto3

    from gtflow.qa import Verdict
    from gtflow.qa.records import write_verdicts_jsonl

    vs = [Verdict("s3://bucket/img/1.png", "cat", 91, 0, 2), Verdict("s3://bucket/img/2.png", "cat", 95, 2, 0),
          Verdict("s3://bucket/img/3.png", "dog", 85, 1, 1)]
    (tmp_path / "v.jsonl").write_text(write_verdicts_jsonl(vs))
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "qa", "follow-up", str(tmp_path / "v.jsonl"),
                                   "--prefix", "s3://bucket/qa/fix", "--labels", "cat,dog,bird"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["images"] == 2 and out["pending"] == 2 and out["job"] == "fix"  # the majority tie counts as wrong
    manifest = (tmp_path / "root" / "bucket" / "qa" / "fix" / "follow-up.manifest").read_text().splitlines()
    assert [json.loads(x)["taskObject"] for x in manifest] == ["s3://bucket/img/1.png", "s3://bucket/img/3.png"]

    # AWS dry run: the request printed and checked, nothing written to S3 and no CreateLabelingJob
    # call (moto does not implement it, so a call would fail this test)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket")
    csv_text, _ = predictions(12)
    (tmp_path / "preds.csv").write_text(csv_text)
    args = ["--backend", "aws", "qa", "run", "--csv", str(tmp_path / "preds.csv"), "--prefix", "s3://bucket/qa/aws-dry",
            "--workers", "3", "--dry-run"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "--role-arn" in res.output
    arns = ["--role-arn", "arn:aws:iam::111122223333:role/gt",
            "--workteam-arn", "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/qa",
            "--pre-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:pre-LabelingFunction",
            "--post-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:post-LabelingFunction"]
    res = CliRunner().invoke(cli, args + arns, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    req = json.loads(res.output)["request"]
    assert req["LabelingJobName"] == "aws-dry" and req["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] == 3
    assert "qa/aws-dry/batches.manifest" in {w["uri"].split("bucket/", 1)[1] for w in json.loads(res.output)["writes"]}
    assert s3.list_objects_v2(Bucket="bucket").get("KeyCount", 0) == 0  # the dry run wrote nothing
