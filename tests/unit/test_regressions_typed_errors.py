"""Inputs that used to escape as plain ValueError/OverflowError/TypeError now give typed errors
(or are handled): datasetObjectId "²", image sizes of 1e400, "64px", NaN, list labels."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gtflow.errors import ContractError
from gtflow.handlers import invoke
from gtflow.store import LocalStore
from gtflow.wire.output import object_detection_label

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _post(tmp_path: Path, mutate: Any) -> list[dict]:
    store = LocalStore(tmp_path)
    event = json.loads((EVENTS / "post_annotation_event.json").read_text())
    event["payload"]["s3Uri"] = "s3://bucket/annotations.json"
    payload = json.loads((EVENTS / "post_annotation_payload_bbox.json").read_text())
    mutate(payload)
    store.put_text("s3://bucket/annotations.json", json.dumps(payload))
    return invoke("post/bounding-boxes", event, store=store, options={"labels": ["Bird"]})


def test_superscript_dataset_object_id(tmp_path: Path) -> None:
    def sup(p: list) -> None:
        p.append(copy.deepcopy(p[0]))
        p[0]["datasetObjectId"] = "²"  # str.isdigit() says yes, int() says no

    out = _post(tmp_path, sup)
    assert {r["datasetObjectId"] for r in out} == {"0", "²"}


@pytest.mark.parametrize("value", [1e400, float("nan"), "64px", None, -3, 0])
def test_image_size_in_post_bounding_boxes(tmp_path: Path, value: Any) -> None:
    def size(p: list) -> None:
        content = json.loads(p[0]["annotations"][0]["annotationData"]["content"])
        content["boundingBox"]["inputImageProperties"]["width"] = value
        p[0]["annotations"][0]["annotationData"]["content"] = json.dumps(content)

    (item,) = _post(tmp_path, size)
    meta = item["consolidatedAnnotation"]["content"]["labeling-job-attribute-name-metadata"]
    assert "width" in meta["failure-reason"]  # the object fails with the field named; the batch goes on


@pytest.mark.parametrize("value", [1e400, float("nan"), "64px", None, 0, -3])
def test_object_detection_label_sizes(value: Any) -> None:
    with pytest.raises(ContractError, match="image_width"):
        object_detection_label([], ["a"], image_width=value, image_height=10, job_name="x")


def test_object_detection_label_unhashable_label() -> None:
    with pytest.raises(ContractError, match="not in the class map"):
        object_detection_label([{"label": ["a"], "left": 0, "top": 0, "width": 1, "height": 1}], ["a"],
                               image_width=10, image_height=10, job_name="x")
