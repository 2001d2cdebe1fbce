"""A 30-image local bulk QA labeling job with 3 workers: one answers in headless Chromium through
the portal, two through TaskQueue.submit (the portal's own submission path). The output manifest
and the verdict table must match the answers exactly."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob
from gtflow.manifest import build_batches, read_manifest
from gtflow.store import LocalStore
from gtflow.ui.bundled import load_bundled
from tests.e2e.conftest import task_frame

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"


def test_bulk_qa_labeling_job_with_a_browser_worker(tmp_path: Path) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from gtflow.portal import run_in_thread

    store = LocalStore(tmp_path / "root")
    rng = random.Random(5)
    items = []
    for i in range(30):
        uri = f"s3://bkt/img/{i:02d}.png"
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (10 * i, 100, 50)).save(buf, format="PNG")
        store.put_bytes(uri, buf.getvalue(), content_type="image/png")
        items.append({"image": uri, "label": ("cat", "dog", "bird")[i % 3], "confidence": 60 + i})
    build_batches(items, store=store, prefix="s3://bkt/qa", batch_size=10)
    job = LocalLabelingJob(LocalJobSpec(
        name="qa-browser", input_manifest="s3://bkt/qa/batches.manifest", output_path="s3://bkt/jobs",
        template=load_bundled("bulk-qa"), pre_handler="pre/bulk-qa", post_handler="post/bulk-qa-verdicts",
        workers_per_object=3, title="Uncheck wrong labels"), store=store)
    assert job.start().pending == 3
    truth: dict[tuple[str, str], bool] = {}

    # Two workers through the one submission path.
    for w in ("w1", "w2"):
        while (task := job.queue.next_task(job.queue_name, w)) is not None:
            verdict = {str(k): rng.random() < 0.6 for k in range(len(task.task_input["items"]))}
            for k, it in enumerate(task.task_input["items"]):
                truth[(it["image"], w)] = verdict[str(k)]
            job.queue.submit(job.queue_name, task.task_id, w, {"confirmed": verdict})
    assert not job.status().complete

    # The third worker in the browser: uncheck every item whose index is odd.
    server, thread, base_url = run_in_thread(store, job.queue)
    token = job.queue.add_worker("browser-1")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 3000})
                page.goto(f"{base_url}/signin")
                page.fill("#token", token)
                page.click("#signin-form button[type=submit]")
                page.wait_for_load_state("load")
                page.goto(f"{base_url}/queues/{job.queue_name}/next")
                for _ in range(3):
                    tf = task_frame(page)
                    tf.wait_for_selector("crowd-checkbox input[type=checkbox]")
                    task_id = page.get_attribute("body", "data-task-id")
                    assert task_id is not None
                    task_items = job.queue.task(job.queue_name, task_id).task_input["items"]
                    boxes = tf.locator("crowd-checkbox")
                    assert boxes.count() == len(task_items)
                    for k, it in enumerate(task_items):
                        truth[(it["image"], "browser-1")] = k % 2 == 0
                        if k % 2:
                            boxes.nth(k).locator("input[type=checkbox]").uncheck()
                    with page.expect_navigation():
                        page.click("#gtp-submit, #gt-submit")
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    status = job.status()
    assert status.complete and status.labeled == 3 and status.failed == 0
    workers = ["w1", "w2", "browser-1"]
    gt = {w: f"private.us-east-1.{w}" for w in workers}
    rows = [row for ln in read_manifest(job.output_manifest_uri, store=store) for row in ln.record["qa-browser"]["items"]]
    assert len(rows) == 30
    for row in rows:
        assert row["workers"] == {gt[w]: truth[(row["image"], w)] for w in workers}
    table = {(r["image"], r["label"]): r for r in job.verdicts.items()}
    assert len(table) == 30
    for it in items:
        r = table[(it["image"], it["label"])]
        assert r["workers"] == {gt[w]: truth[(it["image"], w)] for w in workers}
        assert r["confirmed"] == sum(truth[(it["image"], w)] for w in workers)
