"""Bundled templates render to the stored golden files for their sample inputs.

Regenerate after an intended change with ``GTFLOW_UPDATE_GOLDEN=1 pytest tests/functional/test_template_golden.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import pytest

from gtflow.ui import (
    bundled_templates,
    check_template,
    compile_template,
    load_bundled,
    load_bundled_sample,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "templates"
EXPECTED = {
    "bounding-box",
    "bulk-qa",
    "image-classification",
    "image-classification-multilabel",
    "label-verification",
    "moderation-review",
    "object-detection-review",
}


class GoldenPresigner:
    """Deterministic stand-in for S3 presigning (no clock, no credentials)."""

    def presign(self, uri: str, expires_in: int = 900) -> str:
        bucket, _, key = uri[len("s3://"):].partition("/")
        return (
            f"https://{bucket}.s3.amazonaws.com/{urllib.parse.quote(key)}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={expires_in}&X-Amz-Signature=golden"
        )


def test_the_bundled_templates_are_there() -> None:
    assert set(bundled_templates()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_template_matches_golden(name: str) -> None:
    html = compile_template(load_bundled(name), strict=True, name=name).render(
        load_bundled_sample(name), store=GoldenPresigner()
    )
    golden = GOLDEN / f"{name}.html"
    if os.environ.get("GTFLOW_UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_template_passes_every_check(name: str) -> None:
    problems = check_template(load_bundled(name), path=name, task_input=load_bundled_sample(name))
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_template_loads_the_crowd_elements_script(name: str) -> None:
    assert '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>' in load_bundled(name)


def test_bounding_box_draws_from_scratch_with_the_sample_labels() -> None:
    html = _render("bounding-box", load_bundled_sample("bounding-box"))
    assert 'labels="[&quot;car&quot;,&quot;person&quot;,&quot;bicycle&quot;]"' in html
    assert "initial-value" not in html


def _render(name: str, task_input: dict) -> str:
    return compile_template(load_bundled(name), strict=True).render(task_input, store=GoldenPresigner())


def test_bulk_qa_has_one_prechecked_confirm_box_per_item_named_by_contract() -> None:
    items = [{"image": f"s3://b/i{i}.jpg", "confidence": i} for i in range(25)]
    html = _render("bulk-qa", {"label": "cat", "batchId": "cat-0001", "items": items, "source-ref": "s3://b/batches/cat-0001.json"})
    for i in range(25):
        assert f'<crowd-checkbox name="confirmed" value="{i}" checked>' in html
    assert html.count("<crowd-checkbox") == 25
    assert "Is each image correctly labelled as <q>cat</q>?" in html


def test_object_detection_review_widget_contract() -> None:
    sample = load_bundled_sample("object-detection-review")
    html = _render("object-detection-review", sample)
    assert 'name="annotatedResult"' in html
    # initial-value carries the model's boxes, as JSON after HTML-decoding.
    from html.parser import HTMLParser

    found: dict[str, str | None] = {}

    class P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "crowd-bounding-box":
                found.update(attrs)

    P().feed(html)
    assert json.loads(found["initial-value"] or "") == sample["initialValue"]
    assert json.loads(found["labels"] or "") == sample["labels"]


def test_classification_and_verification_widget_names() -> None:
    single = _render("image-classification", load_bundled_sample("image-classification"))
    multi = _render("image-classification-multilabel", load_bundled_sample("image-classification-multilabel"))
    verify = _render("label-verification", load_bundled_sample("label-verification"))
    assert '<crowd-image-classifier\n    name="category"' in single
    assert '<crowd-image-classifier-multi-select\n    name="category"' in multi
    assert 'name="verification"' in verify and "categories='[\"Correct\",\"Incorrect\"]'" in verify
    assert "<worker-comment" in verify


def test_moderation_review_radio_pairs_and_note() -> None:
    sample = load_bundled_sample("moderation-review")
    html = _render("moderation-review", sample)
    for i in range(len(sample["moderationLabels"])):
        assert f'<crowd-radio-button name="label-{i}" value="confirm">' in html
        assert f'<crowd-radio-button name="label-{i}" value="reject">' in html
    assert '<crowd-text-area name="note"' in html


def test_optional_header_falls_back_to_a_default() -> None:
    sample = dict(load_bundled_sample("image-classification"))
    del sample["header"]
    assert 'header="Which category fits this image best?"' in _render("image-classification", sample)
