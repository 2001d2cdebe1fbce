"""Adapters that learn what the model missed: the review page lets a person add categories the
model did not propose and mark an image clean; adapter data counts false negatives and false
positives from those reviews and says what is still missing against Rekognition's minimums."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from gtflow.cli import cli
from gtflow.moderation.adapter import MIN_TEST_IMAGES, build_adapter_data, corrections
from gtflow.moderation.image import CallableModerator, ImageModeration, ModerationLabel
from gtflow.moderation.screening import (
    LocalReview,
    audited,
    read_decisions,
    review_task_input,
    screen,
)
from gtflow.moderation.taxonomy import IMAGE_CATEGORIES
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.ui import compile_template, load_bundled, load_bundled_sample


def png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (i % 255, 3, 7)).save(buf, format="PNG")
    return buf.getvalue()


def test_task_input_offers_the_categories_the_model_did_not_propose() -> None:
    res = ImageModeration("s3://bucket/a.png", (ModerationLabel("Weapons", "Violence", 64.0, 2),))
    ti = review_task_input(res)
    assert "Violence" not in ti["otherCategories"] and "Weapons" not in ti["otherCategories"]
    assert ti["otherCategories"] == [c for c in IMAGE_CATEGORIES if c != "Violence"]
    # the bundled sample is what review_task_input writes for its labels
    sample = load_bundled_sample("moderation-review")
    labels = tuple(ModerationLabel(d["name"], d["parentName"], d["confidence"]) for d in sample["moderationLabels"])
    assert review_task_input(ImageModeration(sample["taskObject"], labels))["otherCategories"] == sample["otherCategories"]


class Presigner:
    def presign(self, uri: str, expires_in: int = 900) -> str:
        return "https://example.invalid/" + uri[5:]


def test_page_has_a_checkbox_per_missing_category_and_a_clean_box() -> None:
    sample = load_bundled_sample("moderation-review")
    html = compile_template(load_bundled("moderation-review"), strict=True).render(sample, store=Presigner())
    for cat in sample["otherCategories"]:
        value = cat.replace("&", "&amp;")
        assert f'<crowd-checkbox name="missed" value="{value}">' in html
    assert '<crowd-checkbox name="clean" value="clean">' in html
    assert 'value="Violence"' not in html  # proposed: answered with the radio pair instead


def _model(uri: str) -> list[ModerationLabel]:
    """A stand-in model: sure about violence in 'gore', unsure in 'maybe', blind to the rest."""
    name = uri.rsplit("/", 1)[-1]
    if name.startswith("gore"):
        return [ModerationLabel("Violence", "", 95.0, 1)]
    if name.startswith("maybe"):
        return [ModerationLabel("Violence", "", 62.0, 1), ModerationLabel("Explicit", "", 55.0, 1)]
    return []


@pytest.fixture
def screened(tmp_path: Path) -> tuple[LocalStore, TaskQueue, LocalReview]:
    store = LocalStore(tmp_path / "root")
    for i in range(4):
        store.put_bytes(f"s3://data/set/maybe-{i}.png", png(i))
    for i in range(60):
        store.put_bytes(f"s3://data/set/plain-{i}.png", png(100 + i))
    queue = TaskQueue.for_store(store)
    review = LocalReview(queue, "s3://data/screen")
    rep = screen(store, "s3://data/set/", CallableModerator(_model), out_prefix="s3://data/screen", review=review,
                 audit_fraction=0.25, sleep=lambda s: None)
    audited_plain = sum(audited(f"s3://data/set/plain-{i}.png", 0.25) for i in range(60))
    assert 5 <= audited_plain <= 25  # a quarter, by hash
    assert rep.review == 4 + audited_plain and rep.safe == 60 - audited_plain
    return store, queue, review


def _answer_all(queue: TaskQueue, review: LocalReview, decide: Any) -> int:
    queue.add_worker("mia")
    n = 0
    while (task := queue.next_task(review.name, "mia")) is not None:
        queue.submit(review.name, task.task_id, "mia", decide(task.task_input))
        n += 1
    return n


def test_reviewers_add_missed_labels_and_mark_clean_then_adapter_data_counts_them(screened: Any) -> None:
    store, queue, review = screened

    def decide(ti: dict[str, Any]) -> dict[str, Any]:
        name = ti["taskObject"].rsplit("/", 1)[-1]
        others = {c: False for c in ti["otherCategories"]}
        if name.startswith("maybe"):  # maybe-0/1: clean (both labels false alarms); 2/3: violence right, drugs missed
            if name in ("maybe-0.png", "maybe-1.png"):
                return {"label-0": {"confirm": False, "reject": False}, "label-1": {"confirm": False, "reject": False},
                        "missed": others, "clean": {"clean": True}, "note": ""}
            return {"label-0": {"confirm": True, "reject": False}, "label-1": {"confirm": False, "reject": True},
                    "missed": {**others, "Drugs & Tobacco": True}, "clean": {"clean": False}, "note": ""}
        # audited 'plain' images the model found safe: every third shows a weapon the model missed
        i = int(name.split("-")[1].split(".")[0])
        missed = {**others, "Violence": True} if i % 3 == 0 else others
        return {"missed": missed, "clean": {"clean": False}, "note": ""}

    reviewed = _answer_all(queue, review, decide)
    decisions = {d["image"].rsplit("/", 1)[-1]: d for d in read_decisions(store, "s3://data/screen")}
    assert decisions["maybe-0.png"]["action"] == "safe" and decisions["maybe-0.png"]["review"]["clean"] == 1
    assert decisions["maybe-2.png"]["action"] == "unsafe"
    assert decisions["maybe-2.png"]["review"]["added"] == {"Drugs & Tobacco": 1}

    held, fn, fp = corrections(decisions["maybe-2.png"], 50.0)
    assert held == ["Drugs & Tobacco", "Violence"] and fn == {"Drugs & Tobacco"} and fp == {"Explicit"}
    held, fn, fp = corrections(decisions["maybe-0.png"], 50.0)
    assert held == [] and fn == set() and fp == {"Explicit", "Violence"}

    data = build_adapter_data(store, read_decisions(store, "s3://data/screen"), "s3://data/adapter",
                              enforce_minimums=False)
    assert data.train_lines + data.test_lines == reviewed
    lines = [json.loads(x) for x in store.get_text(data.train_manifest).splitlines()]
    lines += [json.loads(x) for x in store.get_text(data.test_manifest).splitlines()]
    by_name = {x["source-ref"].rsplit("/", 1)[-1]: x["content-moderation-groundtruth"]["ModerationLabels"] for x in lines}
    # what the counts must be, computed from the reviews independently of the code under test
    train = {x["source-ref"].rsplit("/", 1)[-1] for x in (json.loads(y) for y in store.get_text(data.train_manifest).splitlines())}
    exp_fn = sum(1 for n in train if (n.startswith("plain") and int(n[6:-4]) % 3 == 0) or n in ("maybe-2.png", "maybe-3.png"))
    exp_fp = sum(1 for n in train if n.startswith("maybe"))
    assert (data.false_negatives, data.false_positives) == (exp_fn, exp_fp) and exp_fn > 0
    for n, labs in by_name.items():  # the manifest holds what people hold true
        if n.startswith("plain"):
            assert labs == ([{"Name": "Violence"}] if int(n[6:-4]) % 3 == 0 else [])
    assert data.by_category.get("Violence", {}).get("falseNegatives", 0) == sum(
        1 for n in train if n.startswith("plain") and int(n[6:-4]) % 3 == 0)
    # below the minimums: the problems say how many more of each are needed
    assert not data.sufficient
    assert data.missing == {"falseNegatives": 50 - exp_fn, "falsePositives": 20 - exp_fp,
                            "testImages": max(0, MIN_TEST_IMAGES - data.test_lines)}
    assert f"have {exp_fn} false negatives ({50 - exp_fn} more needed)" in data.problems[0]


def test_adapter_data_cli_explains_what_is_missing(screened: Any, tmp_path: Path) -> None:
    store, queue, review = screened
    _answer_all(queue, review, lambda ti: {"missed": {c: c == "Alcohol" for c in ti["otherCategories"]},
                                           "clean": {"clean": False}})
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "moderate", "adapter-data", "s3://data/screen",
                                   "--out", "s3://data/adapter"])
    assert res.exit_code == 1
    out = json.loads(res.output[: res.output.rindex("}") + 1])
    assert out["false_negatives"] > 0 and out["by_category"]["Alcohol"]["falseNegatives"] == out["false_negatives"]
    assert "more needed" in res.output and "not enough for an adapter yet" in res.output


def test_audit_fraction_is_checked(tmp_path: Path) -> None:
    from gtflow.errors import UsageError

    with pytest.raises(UsageError):
        screen(LocalStore(tmp_path), "s3://data/set/", CallableModerator(_model), out_prefix="s3://data/o",
               audit_fraction=1.5)
