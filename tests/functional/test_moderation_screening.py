"""A local screening run over a generated image set with a plugged-in test provider."""

import io
import json
import threading

import pytest
from PIL import Image

from gtflow.errors import UsageError
from gtflow.moderation.adapter import build_adapter_data, category_thresholds
from gtflow.moderation.image import CallableModerator, ModerationLabel
from gtflow.moderation.screening import LocalReview, read_decisions, screen
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue


def png(color):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


class Provider:
    """Labels by file name: unsafe-*, maybe-*, safe-*; flaky-* fails once."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()
        self.failed = set()

    def __call__(self, uri):
        with self.lock:
            self.calls.append(uri)
        name = uri.rsplit("/", 1)[-1]
        if name.startswith("flaky") and uri not in self.failed:
            self.failed.add(uri)
            raise ConnectionError("transient")
        if name.startswith("unsafe"):
            return [ModerationLabel("Violence", "", 95.0, 1), ModerationLabel("Weapons", "Violence", 93.0, 2)]
        if name.startswith("maybe"):
            return [ModerationLabel("Suggestive", "", 62.0, 1)]
        return []


@pytest.fixture
def setup(tmp_path):
    store = LocalStore(tmp_path)
    for i in range(6):
        store.put_bytes(f"s3://data/train/safe-{i}.png", png((i * 40, 0, 0)))
    for i in range(3):
        store.put_bytes(f"s3://data/train/unsafe-{i}.png", png((0, i * 40, 0)))
    for i in range(2):
        store.put_bytes(f"s3://data/train/maybe-{i}.png", png((0, 0, i * 40)))
    store.put_bytes("s3://data/train/flaky-0.jpg", png((9, 9, 9)))
    store.put_text("s3://data/train/notes.txt", "not an image")
    queue = TaskQueue.for_store(store)
    return store, queue


def test_screen_flags_routes_reports_and_reruns_without_repeating(setup):
    store, queue = setup
    provider = Provider()
    review = LocalReview(queue, "s3://data/screen")
    report = screen(store, "s3://data/train/", CallableModerator(provider), out_prefix="s3://data/screen",
                    review=review, quarantine_prefix="s3://data/quarantine/", workers=4, sleep=lambda s: None)
    assert (report.images, report.safe, report.unsafe, report.review, report.errors) == (12, 7, 3, 2, 0)
    assert len(provider.calls) == 13  # flaky image retried once
    # unsafe images were moved aside, with the reasons recorded
    assert not store.exists("s3://data/train/unsafe-0.png") and store.exists("s3://data/quarantine/unsafe-0.png")
    assert {r["image"] for r in report.removed} == {f"s3://data/train/unsafe-{i}.png" for i in range(3)}
    clean = [json.loads(x)["source-ref"] for x in store.get_text(report.clean_manifest).splitlines()]
    assert len(clean) == 7 and all("safe" in c or "flaky" in c for c in clean)
    assert "Weapons" in store.get_text("s3://data/screen/report.md")
    # the two uncertain images wait in the portal's queue
    assert queue.counts(review.name).pending == 2

    # a person reviews them through the one submission path
    token = queue.add_worker("mia")
    assert queue.authenticate(token) == "mia"
    first = queue.next_task(review.name, "mia")
    queue.submit(review.name, first.task_id, "mia", {"label-0": {"confirm": True, "reject": False}, "note": "clearly"})
    second = queue.next_task(review.name, "mia")
    queue.submit(review.name, second.task_id, "mia", {"label-0": {"confirm": False, "reject": True}})

    # rerun: nothing moderated again, the human decisions are counted
    again = screen(store, "s3://data/train/", CallableModerator(provider), out_prefix="s3://data/screen",
                   review=review, quarantine_prefix="s3://data/quarantine/", sleep=lambda s: None)
    assert len(provider.calls) == 13
    assert (again.skipped, again.safe, again.unsafe, again.review) == (9, 8, 4, 0)
    decided = {d["image"].rsplit("/", 1)[-1]: d for d in read_decisions(store, "s3://data/screen")}
    human = [d for d in decided.values() if d["decidedBy"] == "human"]
    assert len(human) == 2 and {d["action"] for d in human} == {"safe", "unsafe"}


def _reviewed(n_fp, n_fn, n_ok):
    recs = []
    for i in range(n_fp):  # model said Violence 90, people rejected it
        recs.append({"image": f"s3://d/fp{i}.png", "decidedBy": "human", "labels": [{"name": "Violence", "confidence": 90.0}],
                     "review": {"verdicts": {"Violence": {"confirmed": 0, "rejected": 1}}}})
    for i in range(n_fn):  # model was unsure (30 < 50), people confirmed
        recs.append({"image": f"s3://d/fn{i}.png", "decidedBy": "human", "labels": [{"name": "Violence", "confidence": 30.0}],
                     "review": {"verdicts": {"Violence": {"confirmed": 1, "rejected": 0}}}})
    for i in range(n_ok):
        recs.append({"image": f"s3://d/ok{i}.png", "decidedBy": "human", "labels": [{"name": "Violence", "confidence": 97.0}],
                     "review": {"verdicts": {"Violence": {"confirmed": 1, "rejected": 0}}}})
    return recs


def test_adapter_data_minimums_and_manifests(tmp_path):
    store = LocalStore(tmp_path)
    with pytest.raises(UsageError, match="20 false positives"):
        build_adapter_data(store, _reviewed(5, 5, 5), "s3://out/adapter")
    data = build_adapter_data(store, _reviewed(40, 10, 60), "s3://out/adapter")
    assert data.sufficient and data.false_positives >= 20 and data.test_lines >= 20
    lines = [json.loads(x) for x in store.get_text(data.train_manifest).splitlines()]
    fp = next(x for x in lines if "fp" in x["source-ref"])
    ok = next(x for x in lines if "ok" in x["source-ref"])
    assert fp["content-moderation-groundtruth"] == {"ModerationLabels": []}
    assert ok["content-moderation-groundtruth"] == {"ModerationLabels": [{"Name": "Violence"}]}


def test_category_thresholds_from_verdicts():
    # Violence is trustworthy at 97 but not at 90 (every 90 was a false positive)
    th = category_thresholds(_reviewed(40, 0, 60), cost_ratio=10)
    assert th["Violence"] is not None and 90 < th["Violence"] <= 97
    th_all_wrong = category_thresholds(_reviewed(40, 0, 0), cost_ratio=10)
    assert th_all_wrong["Violence"] is None
