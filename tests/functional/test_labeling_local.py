"""The local labeling-job runner end to end through TaskQueue.submit (the portal's own path)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.errors import ConflictError
from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob
from gtflow.manifest import build_batches, read_manifest
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.ui.bundled import load_bundled

OUT = "s3://bkt/jobs"
WORKERS = ["w1", "w2", "w3"]


def qa_store(root: Path, n: int = 30) -> tuple[LocalStore, dict[str, str]]:
    store = LocalStore(root)
    items = [{"image": f"s3://bkt/img/{i:02d}.jpg", "label": "cat" if i % 3 else "dog", "confidence": 50 + i}
             for i in range(n)]
    build_batches(items, store=store, prefix="s3://bkt/qa", batch_size=8)
    return store, {it["image"]: it["label"] for it in items}


def qa_spec(**kw: Any) -> LocalJobSpec:
    base: dict[str, Any] = dict(
        name="Cat-QA", input_manifest="s3://bkt/qa/batches.manifest", output_path=OUT,
        template=load_bundled("bulk-qa"), pre_handler="pre/bulk-qa", post_handler="post/bulk-qa-verdicts",
        label_attribute_name="cat-qa", workers_per_object=3, title="Check the labels")
    base.update(kw)
    return LocalJobSpec(**base)


def answer_all(job: LocalLabelingJob, rng: random.Random, workers: list[str] = WORKERS) -> dict[tuple[str, str], bool]:
    """Every worker answers every task; returns {(image, worker): confirmed}."""
    truth: dict[tuple[str, str], bool] = {}
    for w in workers:
        while (task := job.queue.next_task(job.queue_name, w)) is not None:
            items = task.task_input["items"]
            verdict = {str(i): rng.random() < 0.7 for i in range(len(items))}
            for i, it in enumerate(items):
                truth[(it["image"], w)] = verdict[str(i)]
            job.queue.submit(job.queue_name, task.task_id, w, {"confirmed": verdict})
    return truth


def test_bulk_qa_job_end_to_end(tmp_path: Path) -> None:
    store, labels = qa_store(tmp_path)
    job = LocalLabelingJob(qa_spec(), store=store)
    status = job.start()
    assert (status.objects, status.queued, status.pending, status.complete) == (5, 5, 5, False)
    truth = answer_all(job, random.Random(7))
    status = job.status()
    assert status.complete and status.labeled == 5 and status.failed == 0 and status.answers == 15

    # output.manifest: every input line plus the label and its metadata.
    lines = [ln.record for ln in read_manifest(job.output_manifest_uri, store=store)]
    inputs = [ln.record for ln in read_manifest("s3://bkt/qa/batches.manifest", store=store)]
    assert len(lines) == len(inputs) == 5
    seen_images = set()
    for rec, inp in zip(lines, inputs, strict=True):
        assert {k: rec[k] for k in inp} == inp
        value, meta = rec["cat-qa"], rec["cat-qa-metadata"]
        assert value["label"] == inp["label"] and value["batchId"] == inp["batchId"]
        assert meta["type"] == "groundtruth/custom" and meta["job-name"] == "labeling-job/cat-qa"
        for row in value["items"]:
            seen_images.add(row["image"])
            assert labels[row["image"]] == inp["label"]
            expected = {f"private.us-east-1.{w}": truth[(row["image"], w)] for w in WORKERS}
            assert row["workers"] == expected
            assert row["confirmed"] == sum(expected.values())
            assert row["disconfirmed"] == 3 - row["confirmed"]
    assert seen_images == set(labels)

    # The verdict table matches the answers, one record per image.
    table = job.verdicts
    records = list(table.items())
    assert len(records) == 30
    for r in records:
        assert r["label"] == labels[r["image"]]
        assert r["workers"] == {f"private.us-east-1.{w}": truth[(r["image"], w)] for w in WORKERS}
        assert r["confirmed"] + r["disconfirmed"] == 3 and r["job"] == "cat-qa"

    # GT's layout: worker responses per object, one consolidation request and response.
    root = f"{OUT}/Cat-QA/annotations"
    for oid in range(5):
        files = [o.uri for o in store.list(f"{root}/worker-response/iteration-1/{oid}/")]
        assert len(files) == 1 and files[0].endswith(".json")
        body = json.loads(store.get_text(files[0]))
        assert sorted(a["workerId"] for a in body["answers"]) == [f"private.us-east-1.{w}" for w in WORKERS]
        assert all(isinstance(a["answerContent"], dict) and a["submissionTime"].endswith("Z") for a in body["answers"])
    reqs = list(store.list(f"{root}/consolidated-annotation/consolidation-request/iteration-1/"))
    resps = list(store.list(f"{root}/consolidated-annotation/consolidation-response/iteration-1/"))
    assert len(reqs) == len(resps) == 1
    assert reqs[0].uri.rsplit("/", 1)[1] == resps[0].uri.rsplit("/", 1)[1]
    request = json.loads(store.get_text(reqs[0].uri))
    assert [r["datasetObjectId"] for r in request] == ["0", "1", "2", "3", "4"]
    assert request[0]["dataObject"] == {"s3Uri": inputs[0]["source-ref"]}
    assert isinstance(request[0]["annotations"][0]["annotationData"]["content"], str)

    # Rerun: no new tasks, same bytes, same verdict counts.
    before = store.get_bytes(job.output_manifest_uri)
    again = LocalLabelingJob.open("Cat-QA", store=store)
    assert again.start().answers == 15
    again.finish()
    assert store.get_bytes(job.output_manifest_uri) == before
    assert list(again.verdicts.items()) == records
    assert len(list(store.list(f"{root}/consolidated-annotation/consolidation-request/"))) == 1
    assert job.queue.counts(job.queue_name).total == 5


EVENTS: list[dict[str, Any]] = []


def capture_pre(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    line = event["dataObject"]
    if line.get("skip"):
        return {"taskInput": line, "humanAnnotationRequired": "false"}  # the legacy form
    if line.get("boom"):
        raise RuntimeError("pre failed")
    return {"taskInput": {"taskObject": line["source-ref"]}, "isHumanAnnotationRequired": True}


def capture_post(event: dict[str, Any], context: Any) -> Any:
    EVENTS.append(event)
    from gtflow.handlers import invoke
    from gtflow.handlers.runtime import default_store

    return invoke("post/classification", event, store=default_store())


def test_exact_events_legacy_flags_failures_and_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    monkeypatch.setenv("GTFLOW_STORE_ROOT", str(tmp_path))
    lines = [{"source-ref": f"s3://bkt/img/{i}.jpg", "extra": i} for i in range(5)]
    lines[1]["skip"] = True
    lines[2]["boom"] = True
    store.put_text("s3://bkt/in.manifest", "".join(json.dumps(x) + "\n" for x in lines))
    EVENTS.clear()
    job = LocalLabelingJob(LocalJobSpec(
        name="Classify-Job-20211118T021255", input_manifest="s3://bkt/in.manifest", output_path=OUT,
        template=load_bundled("image-classification"), label_categories=("cat", "dog"),
        pre_handler=f"{__name__}:capture_pre", post_handler=f"{__name__}:capture_post",
        workers_per_object=2), store=store)
    status = job.start()
    assert (status.queued, status.skipped, status.failed_pre) == (3, 1, 1)
    arn = "arn:aws:sagemaker:us-east-1:000000000000:labeling-job/classify-job-20211118t021255"
    assert EVENTS[0] == {"version": "2018-10-06", "labelingJobArn": arn, "dataObject": lines[0]}
    assert [list(e) for e in EVENTS[:1]] == [["version", "labelingJobArn", "dataObject"]]
    q = job.queue
    # object 0: both answer; object 3: one of two answers; object 4: nobody.
    for w, lab in (("a", "cat"), ("b", "cat")):
        q.submit(job.queue_name, "0", w, {"category": {"label": lab}})
    q.submit(job.queue_name, "3", "a", {"category": {"label": "dog"}})
    assert not job.status().complete
    status = job.finish(expire=True)
    assert status.complete and status.pending == 0
    post = EVENTS[-1]
    assert list(post) == ["version", "labelingJobArn", "labelCategories", "labelAttributeName", "roleArn",
                          "payload", "outputConfig", "maxHumanWorkersPerDataObject", "vpcEnabled"]
    assert post["labelingJobArn"] == arn and post["labelAttributeName"] == "Classify-Job-20211118T021255"
    assert post["outputConfig"] == f"{OUT}/Classify-Job-20211118T021255/annotations"
    assert post["payload"]["s3Uri"].startswith(
        f"{OUT}/Classify-Job-20211118T021255/annotations/consolidated-annotation/consolidation-request/iteration-1/")
    out = [ln.record for ln in read_manifest(job.output_manifest_uri, store=store)]
    attr = "Classify-Job-20211118T021255"
    meta = f"{attr}-metadata"
    assert out[0][attr] == 0 and out[0][meta]["class-name"] == "cat"
    assert out[1] == lines[1]  # no human needed: passed through unlabeled
    assert attr not in out[2] and "pre failed" in out[2][meta]["failure-reason"]
    assert attr not in out[3] and "only 1 usable answer(s) of 2" in out[3][meta]["failure-reason"]
    assert attr not in out[4] and "expired" in out[4][meta]["failure-reason"]
    for i in (2, 3, 4):
        assert out[i][meta]["human-annotated"] == "true"
    assert (job.status().labeled, job.status().failed) == (1, 3)


FAIL_ONCE = {"n": 0}


def flaky_post(event: dict[str, Any], context: Any) -> Any:
    FAIL_ONCE["n"] += 1
    if FAIL_ONCE["n"] == 1:
        raise RuntimeError("crash in the post-annotation Lambda")
    from gtflow.handlers import invoke
    from gtflow.handlers.runtime import default_store

    return invoke("post/bulk-qa-verdicts", event, store=default_store())


def test_a_crash_in_consolidation_converges_on_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = qa_store(tmp_path, n=10)
    monkeypatch.setenv("GTFLOW_STORE_ROOT", str(tmp_path))
    FAIL_ONCE["n"] = 0
    job = LocalLabelingJob(qa_spec(post_handler=f"{__name__}:flaky_post", workers_per_object=2), store=store)
    job.start()
    answer_all(job, random.Random(1), ["w1", "w2"])
    assert not job.status().complete  # the hook failed; the answers are safe in the queue
    assert job.queue.deliver_pending(job.queue_name) == 1
    status = job.status()
    assert status.complete and status.labeled == 2
    assert len(list(job.verdicts.verdicts())) == 20
    # Changing the job under the same name is refused.
    with pytest.raises(ConflictError):
        LocalLabelingJob(qa_spec(workers_per_object=3), store=store, queue=TaskQueue.for_store(store)).start()
    with pytest.raises(ConflictError, match="post_options"):
        LocalLabelingJob(qa_spec(post_handler=f"{__name__}:flaky_post", workers_per_object=2,
                                 post_options={"mode": "verification"}), store=store).start()


def test_cli_job_run_status_and_lambda_invoke(tmp_path: Path) -> None:
    store, _ = qa_store(tmp_path, n=5)
    runner = CliRunner()
    args = ["--root", str(tmp_path), "job", "run", "--name", "qa1", "--manifest", "s3://bkt/qa/batches.manifest",
            "--output", OUT, "--template", "bulk-qa", "--pre", "bulk-qa", "--post", "bulk-qa-verdicts",
            "--workers", "1", "--json"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["pending"] == 2
    q = TaskQueue.for_store(store)
    for tid in ("0", "1"):
        task = q.task("labeling-job-qa1", tid)
        q.submit("labeling-job-qa1", tid, "w1", {"confirmed": {str(i): True for i in range(len(task.task_input["items"]))}})
    res = runner.invoke(cli, ["--root", str(tmp_path), "job", "status", "qa1", "--json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["complete"] and st["labeled"] == 2
    # gtflow lambda invoke on the recorded consolidation request, s3:// resolved under --store.
    req = next(iter(store.list(f"{OUT}/qa1/annotations/consolidated-annotation/consolidation-request/")))
    ev = {"version": "2018-10-06", "labelingJobArn": "arn:aws:sagemaker:us-east-1:000000000000:labeling-job/qa1",
          "labelAttributeName": "qa1", "roleArn": "arn:aws:iam::000000000000:role/r", "payload": {"s3Uri": req.uri}}
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    res = runner.invoke(cli, ["lambda", "invoke", "post/bulk-qa-verdicts", "--event", str(tmp_path / "ev.json"),
                              "--store", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert [r["datasetObjectId"] for r in json.loads(res.output)] == ["0", "1"]
    res = runner.invoke(cli, ["--root", str(tmp_path), "job", "status", "nope"])
    assert res.exit_code == 2 and "no local labeling job" in res.output
