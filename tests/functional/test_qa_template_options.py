"""The bundled bulk-QA page: ``qa run --header`` is shown, the model's confidence only when asked."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.qa.job import BulkQaSpec, start_local
from gtflow.store import LocalStore
from gtflow.ui import compile_template, load_bundled


class Presigner:
    def presign(self, uri: str, expires_in: int = 900) -> str:
        return "https://example.invalid/" + uri[len("s3://"):]


def _page(task_input: dict) -> str:
    return compile_template(load_bundled("bulk-qa"), strict=True).render(task_input, store=Presigner())


def _first_task(store: LocalStore, spec: BulkQaSpec) -> dict:
    job = start_local(spec, store)
    task = job.queue.next_task(job.queue_name, "w1")
    assert task is not None
    return dict(task.task_input)


CSV = "image,label,confidence\n" + "".join(f"s3://bucket/img/{i}.png,cat,{90 + i}.5\n" for i in range(3))


def test_header_reaches_the_page_and_confidence_stays_hidden_by_default(local_store: LocalStore) -> None:
    local_store.put_text("s3://bucket/preds.csv", CSV)
    spec = BulkQaSpec(csv="s3://bucket/preds.csv", prefix="s3://bucket/qa/hdr", header="Only photographs count")
    ti = _first_task(local_store, spec)
    assert ti["header"] == "Only photographs count"
    assert ti["showConfidence"] is False and all("confidence" not in it for it in ti["items"])
    html = _page(ti)
    assert '<p class="gt-header">Only photographs count</p>' in html
    assert "confidence" not in html.split("<crowd-form>", 1)[1]
    # the verdicts still carry the confidence: the post handler reads it from the batch file
    batch = json.loads(local_store.get_text("s3://bucket/qa/hdr/batches/cat-0001.json"))
    assert [it["confidence"] for it in batch["items"]] == [90.5, 91.5, 92.5]


def test_show_confidence_is_an_option(local_store: LocalStore) -> None:
    local_store.put_text("s3://bucket/preds.csv", CSV)
    spec = BulkQaSpec(csv="s3://bucket/preds.csv", prefix="s3://bucket/qa/conf", show_confidence=True)
    ti = _first_task(local_store, spec)
    assert ti["showConfidence"] is True and "header" not in ti
    html = _page(ti)
    assert "<span>confidence 92.5</span>" in html and "gt-header" not in html.split("<crowd-form>", 1)[1]


def test_header_is_escaped() -> None:
    html = _page({"label": "cat", "batchId": "b", "items": [], "showConfidence": False,
                  "header": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_cli_flags(tmp_path) -> None:
    (tmp_path / "preds.csv").write_text(CSV)
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "qa", "run", "--csv", str(tmp_path / "preds.csv"),
                                   "--prefix", "s3://bucket/qa/cli", "--header", "Photos only", "--show-confidence"])
    assert res.exit_code == 0, res.output
    store = LocalStore(tmp_path / "root")
    from gtflow.labeling.local import LocalLabelingJob

    job = LocalLabelingJob.open("cli", store=store)
    task = job.queue.next_task(job.queue_name, "w1")
    assert task is not None
    assert task.task_input["header"] == "Photos only" and task.task_input["showConfidence"] is True
