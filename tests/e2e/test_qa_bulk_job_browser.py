"""A local bulk QA job of a few hundred images, answered by two simulated workers (over the
portal's HTTP endpoints) and one browser worker (headless Chromium through the portal), then
analysed; its HTML report opens in the browser with its plots rendered."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from gtflow.qa import analyse, recommend
from gtflow.qa.job import BulkQaSpec, export_verdicts, simulate_workers, start_local
from gtflow.qa.report import to_html
from gtflow.qa.thresholds import scaled_policy
from gtflow.store import LocalStore
from tests.e2e.conftest import task_frame

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
LABELS = ("cat", "dog", "bird", "fish")
COLOURS = {"cat": (200, 60, 60), "dog": (60, 160, 60), "bird": (60, 60, 200), "fish": (200, 180, 40)}


def make_images(store: LocalStore, n: int, seed: int = 11) -> tuple[str, dict[str, str]]:
    """``n`` tiny PNGs coloured by their true class, and a model's predictions CSV. The model
    is reliable for cats and fish above 90, unreliable for dogs, and birds are rare."""
    from PIL import Image

    rnd = random.Random(seed)
    rows, truth = ["image,label,confidence"], {}
    for i in range(n):
        label = rnd.choices(LABELS, weights=(4, 4, 1, 3))[0]  # what the model said
        conf = round(rnd.uniform(75, 100), 2)
        wrong_p = {"cat": 0.02 if conf >= 90 else 0.3, "dog": 0.25, "bird": 0.1, "fish": 0.0 if conf >= 90 else 0.2}[label]
        true = rnd.choice([x for x in LABELS if x != label]) if rnd.random() < wrong_p else label
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), COLOURS[true]).save(buf, format="PNG")
        uri = f"s3://bucket/images/{i:04d}.png"
        store.put_bytes(uri, buf.getvalue(), content_type="image/png")
        truth[uri] = true
        rows.append(f"{uri},{label},{conf}")
    return "\n".join(rows) + "\n", truth


def browser_worker(base_url: str, token: str, queue: str, tq: object, truth: dict[str, str], tasks: int) -> list[str]:
    """Sign in, open tasks, uncheck the images whose label is wrong, submit. Returns task ids."""
    from playwright.sync_api import sync_playwright

    done: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 4000})
            page.goto(f"{base_url}/signin")
            page.fill("#token", token)
            page.click("#signin-form button[type=submit]")
            page.wait_for_load_state("load")
            page.goto(f"{base_url}/queues/{queue}/next")
            for _ in range(tasks):
                tf = task_frame(page)
                tf.wait_for_selector("crowd-checkbox input[type=checkbox]")
                task_id = page.get_attribute("body", "data-task-id")
                assert task_id is not None
                task_input = tq.task(queue, task_id).task_input  # type: ignore[attr-defined]
                boxes = tf.locator("crowd-checkbox")
                assert boxes.count() == len(task_input["items"])
                # the images arrive through signed /files URLs (a tall viewport: none is lazy)
                for _ in range(100):
                    widths = tf.eval_on_selector_all(".gt-card img", "els => els.map(e => e.complete ? e.naturalWidth : -1)")
                    if -1 not in widths:
                        break
                    page.wait_for_timeout(50)
                assert widths and all(w == 8 for w in widths), widths
                for k, item in enumerate(task_input["items"]):
                    if truth[item["image"]] != task_input["label"]:
                        boxes.nth(k).locator("input[type=checkbox]").uncheck()
                with page.expect_navigation():
                    page.click("#gtp-submit, #gt-submit")  # the portal's Submit button
                done.append(task_id)
        finally:
            browser.close()
    return done


def test_bulk_qa_job_with_simulated_and_browser_workers(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from gtflow.portal import run_in_thread

    store = LocalStore(tmp_path / "root")
    csv_text, truth = make_images(store, 300)
    store.put_text("s3://bucket/predictions.csv", csv_text)
    spec = BulkQaSpec(csv="s3://bucket/predictions.csv", prefix="s3://bucket/qa/demo", min_confidence=80,
                      batch_size=25, workers=2)
    job = start_local(spec, store)
    n_batches = job.status().pending
    assert 8 <= n_batches <= 16

    server, thread, base_url = run_in_thread(store, job.queue)
    try:
        def judge(worker: str, image: str, label: str, conf: float | None) -> bool:
            right = truth[image] == label
            # sim-2 is careless on fish: it confirms every fish label
            return True if worker == "sim-2" and label == "fish" else right

        # sim-1 answers every batch, sim-2 all but two; the browser worker answers the last two,
        # so the answer that completes the job arrives from the browser through the portal
        answered = simulate_workers(job, ["sim-1"], judge, portal=base_url)
        answered += simulate_workers(job, ["sim-2"], judge, portal=base_url, max_tasks=n_batches - 2)
        assert not job.status().complete
        token = job.queue.add_worker("browser-1")
        browsed = browser_worker(base_url, token, job.queue_name, job.queue, truth, tasks=2)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert answered == 2 * n_batches - len(browsed)
    status = job.status()
    assert status.complete and status.failed == 0 and status.labeled == n_batches

    verdicts = list(export_verdicts(job.verdicts, job=spec.name))
    assert len(verdicts) == sum(1 for line in csv_text.splitlines()[1:] if float(line.rsplit(",", 1)[1]) >= 80)
    browser_items = 0
    for v in verdicts:
        assert v.reviews == 2
        w = v.workers.get("private.us-east-1.browser-1")
        if w is not None:
            browser_items += 1
            assert w == (truth[v.image] == v.label)  # the browser answer reached the table as given
        if v.label != "fish" and truth[v.image] == v.label:
            assert v.outcome == "confirmed"
    assert browser_items == sum(len(job.queue.task(job.queue_name, t).task_input["items"]) for t in browsed)

    a = analyse(verdicts, rule="majority")
    ths = {m: recommend(a, cost_ratio=10, method=m) for m in ("lower-bound", "bucket-walk")}
    assert ths["lower-bound"]["dog"].threshold is None  # a quarter of the dogs are wrong
    assert ths["lower-bound"]["bird"].threshold is None  # too few birds to trust
    policy = scaled_policy(ths["lower-bound"], top_edge=100)
    assert policy["thresholds"]["dog"] is None
    report = tmp_path / "report.html"
    report.write_text(to_html(a, thresholds=ths, cost_ratio=10, source="demo"), encoding="utf-8")
    (tmp_path / "policy.json").write_text(json.dumps(policy))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(report.as_uri())
            imgs = page.eval_on_selector_all("img.plot", "els => els.map(e => [e.complete, e.naturalWidth])")
            assert len(imgs) == 1 + len(a.classes)
            assert all(ok and width > 100 for ok, width in imgs)
            assert "dog" in page.inner_text("#thresholds")
        finally:
            browser.close()
