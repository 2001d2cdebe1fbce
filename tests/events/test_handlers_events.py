"""Every bundled handler on the recorded GT events and payloads (tests/events/*.json)."""

from __future__ import annotations

import copy
import datetime as _dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gtflow.errors import ConfigError, ObjectNotFoundError, UsageError
from gtflow.handlers import HANDLERS, get_handler, invoke
from gtflow.store import LocalStore
from gtflow.store.base import ObjectInfo
from gtflow.verdicts.sqlite import SqliteVerdictTable
from gtflow.wire.gt_lambda import ConsolidationResponse, PreAnnotationResponse
from tests.conftest import event

PRE_SAMPLES = [
    "pre_annotation_event_source_ref.json",
    "pre_annotation_event_text.json",
    "recipe_pre_annotation_event_image.json",
    "recipe_pre_annotation_event_text.json",
    "samcli_pre_human_task_event_template.json",
]
TS_URI = "s3://test-bucket/out/job/annotations/consolidated-annotation/consolidation-request/iteration-1/2021-11-18_02:19:51.json"


def load(name: str) -> Any:
    return json.loads(event(name).read_text())


class DictStore:
    """A fake store for the docs samples whose bucket names (DOC-EXAMPLE-BUCKET) S3 would refuse."""

    def __init__(self, objects: dict[str, str]) -> None:
        self.objects = objects

    def get_text(self, uri: str, encoding: str = "utf-8") -> str:
        if uri not in self.objects:
            raise ObjectNotFoundError("no such object", path=uri)
        return self.objects[uri]

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        t = _dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc)
        for uri in sorted(self.objects):
            if uri.startswith(prefix):
                yield ObjectInfo(uri, len(self.objects[uri]), t)


def check_post(resp: Any, request: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The response is GT-valid and lists each datasetObjectId of the request exactly once."""
    parsed = ConsolidationResponse.from_list(resp)
    ids = [i.dataset_object_id for i in parsed.items]
    assert sorted(ids) == sorted({r["datasetObjectId"] for r in request})
    return {i.dataset_object_id: dict(i.consolidated_annotation.content) for i in parsed.items}


def test_every_bundled_handler_is_listed() -> None:
    assert sorted(HANDLERS) == sorted([
        "pre/passthrough", "pre/bulk-qa", "pre/object-detection-review",
        "post/passthrough", "post/bounding-boxes", "post/classification", "post/bulk-qa-verdicts"])
    assert get_handler("passthrough", "post").id == "post/passthrough"
    with pytest.raises(Exception, match="both"):
        get_handler("passthrough")


# -- pre-annotation ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRE_SAMPLES)
def test_pre_passthrough_on_recorded_events(name: str) -> None:
    ev = load(name)
    first = invoke("pre/passthrough", ev, store=None)
    assert first == {"taskInput": ev["dataObject"], "isHumanAnnotationRequired": True}
    assert first["isHumanAnnotationRequired"] is True  # a JSON boolean, never "true"
    assert "humanAnnotationRequired" not in first
    PreAnnotationResponse.from_dict(first)
    assert invoke("pre/passthrough", copy.deepcopy(ev), store=None) == first  # re-delivery


def _batch_store(tmp_path: Path, items: list[dict[str, Any]]) -> tuple[LocalStore, dict[str, Any]]:
    store = LocalStore(tmp_path)
    batch = {"label": "cat", "batchId": "cat-0003", "items": items}
    store.put_text("s3://test-bucket/qa/batches/cat-0003.json", json.dumps(batch))
    ev = load("recipe_pre_annotation_event_image.json")
    ev["dataObject"] = {"source-ref": "s3://test-bucket/qa/batches/cat-0003.json", "label": "cat",
                        "batchId": "cat-0003", "itemCount": len(items)}
    return store, ev


def test_pre_bulk_qa_returns_the_batch_file(tmp_path: Path) -> None:
    items = [{"image": "s3://test-bucket/img1.jpg", "confidence": 93.5},
             {"image": "s3://test-bucket/img2.jpg", "confidence": 40.0}]
    store, ev = _batch_store(tmp_path, items)
    resp = invoke("pre/bulk-qa", ev, store=store)
    # the model's confidence is kept from workers unless asked for (it anchors their verdicts)
    assert resp == {"taskInput": {"label": "cat", "batchId": "cat-0003",
                                  "items": [{"image": it["image"]} for it in items],
                                  "source-ref": "s3://test-bucket/qa/batches/cat-0003.json",
                                  "showConfidence": False},
                    "isHumanAnnotationRequired": True}
    assert invoke("pre/bulk-qa", ev, store=store) == resp
    shown = invoke("pre/bulk-qa", ev, store=store, options={"show_confidence": True, "header": "Photos only"})
    assert shown["taskInput"]["items"] == items and shown["taskInput"]["showConfidence"] is True
    assert shown["taskInput"]["header"] == "Photos only"
    with pytest.raises(ConfigError):
        invoke("pre/bulk-qa", ev, store=store, options={"show_confidence": "yes"})


def test_pre_bulk_qa_empty_batch_needs_no_human_and_missing_file_raises(tmp_path: Path) -> None:
    store, ev = _batch_store(tmp_path, [])
    assert invoke("pre/bulk-qa", ev, store=store)["isHumanAnnotationRequired"] is False
    ev["dataObject"]["source-ref"] = "s3://test-bucket/qa/batches/missing.json"
    with pytest.raises(ObjectNotFoundError):
        invoke("pre/bulk-qa", ev, store=store)


def test_pre_object_detection_review_from_a_gt_label_line() -> None:
    line = load("gt_output_manifest_bbox_docs.json")
    ev = load("recipe_pre_annotation_event_image.json")
    ev["dataObject"] = line
    with pytest.raises(UsageError, match="label list"):  # a class-map is not the job's list
        invoke("pre/object-detection-review", ev, store=None, options={"header": "Fix the boxes"})
    resp = invoke("pre/object-detection-review", ev, store=None,
                  options={"header": "Fix the boxes", "labels": ["cat", "dog", "bone"]})
    ti = resp["taskInput"]
    assert ti["taskObject"] == line["source-ref"]
    assert ti["labels"] == ["cat", "dog", "bone"]
    assert ti["initialValue"][0] == {"label": "dog", "left": 111, "top": 134, "width": 61, "height": 128}
    assert [b["label"] for b in ti["initialValue"]] == ["dog", "bone", "bone"]
    assert ti["scores"] == [0.8, 0.9, 0.9]
    assert ti["header"] == "Fix the boxes"
    fixed = invoke("pre/object-detection-review", ev, store=None, options={"labels": ["dog", "bone", "cat"]})
    assert fixed["taskInput"]["labels"] == ["dog", "bone", "cat"]


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(ConfigError, match="widgit"):
        invoke("post/classification", load("recipe_post_annotation_event.json"), store=None,
               options={"widgit": "x"})


# -- post-annotation ---------------------------------------------------------------------------


@pytest.fixture
def docs_event_store() -> tuple[dict[str, Any], DictStore]:
    """The DG event + DG bbox payload (bucket DOC-EXAMPLE-BUCKET, hence a fake store)."""
    ev = load("post_annotation_event.json")
    return ev, DictStore({ev["payload"]["s3Uri"]: event("post_annotation_payload_bbox.json").read_text()})


def test_post_bounding_boxes_on_the_docs_payload(docs_event_store: tuple[dict[str, Any], DictStore]) -> None:
    ev, store = docs_event_store
    ev = dict(ev, labelCategories=["Bird"])
    resp = invoke("post/bounding-boxes", ev, store=store)
    content = check_post(resp, load("post_annotation_payload_bbox.json"))["0"]
    label = content["labeling-job-attribute-name"]
    assert label == {"annotations": [{"class_id": 0, "width": 1375, "top": 302, "height": 2052, "left": 583}],
                     "image_size": [{"width": 3745, "depth": 3, "height": 2497}]}
    meta = content["labeling-job-attribute-name-metadata"]
    assert meta["class-map"] == {"0": "Bird"} and meta["objects"] == [{"confidence": 1.0}]
    assert meta["type"] == "groundtruth/object-detection" and meta["job-name"] == "labeling-job/labeling-job-name"
    assert meta["creation-date"] == "2024-01-02T03:04:05.000000"  # from the payload, not the clock
    assert invoke("post/bounding-boxes", ev, store=store) == resp


def test_post_passthrough_matches_the_recipe_response(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ev = load("recipe_post_annotation_event.json")
    store.put_text(ev["payload"]["s3Uri"], event("recipe_post_annotation_payload_bbox.json").read_text())
    ev["labelAttributeName"] = "gt-label"  # the attribute the recorded response uses
    resp = invoke("post/passthrough", ev, store=store)
    assert resp == load("recipe_post_annotation_response_passthrough.json")
    assert invoke("post/passthrough", ev, store=store) == resp


@pytest.mark.parametrize("payload", ["post_annotation_payload_ner.json", "post_annotation_payload_semseg.json"])
def test_post_passthrough_keeps_any_answer(payload: str) -> None:
    ev = load("post_annotation_event.json")
    store = DictStore({ev["payload"]["s3Uri"]: event(payload).read_text()})
    req = load(payload)
    content = check_post(invoke("post/passthrough", ev, store=store), req)
    only = next(iter(content.values()))["labeling-job-attribute-name"]
    assert only["annotationsFromAllWorkers"] == req[0]["annotations"]


def _recipe_store(tmp_path: Path, payload: Any, uri: str = TS_URI) -> tuple[dict[str, Any], LocalStore]:
    store = LocalStore(tmp_path)
    ev = load("recipe_post_annotation_event.json")
    ev["payload"] = {"s3Uri": uri}
    store.put_text(uri, json.dumps(payload))
    return ev, store


def test_post_bounding_boxes_s3uri_and_inline_content_agree(tmp_path: Path) -> None:
    inline = load("recipe_post_annotation_payload_bbox.json")
    ev, store = _recipe_store(tmp_path, inline)
    expected = invoke("post/bounding-boxes", ev, store=store)
    by_ref = copy.deepcopy(inline)
    for i, item in enumerate(by_ref):
        for j, ann in enumerate(item["annotations"]):
            uri = f"s3://test-bucket/out/job/annotations/worker-response/iteration-1/{i}/{j}.json"
            store.put_text(uri, ann["annotationData"]["content"])
            ann["annotationData"] = {"s3Uri": uri}
    store.put_text(TS_URI, json.dumps(by_ref))
    assert invoke("post/bounding-boxes", ev, store=store) == expected
    double = copy.deepcopy(inline)  # UI-produced JSON can arrive double-encoded
    for item in double:
        for ann in item["annotations"]:
            ann["annotationData"]["content"] = json.dumps(ann["annotationData"]["content"])
    store.put_text(TS_URI, json.dumps(double))
    assert invoke("post/bounding-boxes", ev, store=store) == expected
    content = check_post(expected, inline)
    assert content["0"]["test-label-attribute-metadata"]["creation-date"] == "2021-11-18T02:19:51.000000"


def _ann(worker: str, content: Any) -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    return {"workerId": worker, "annotationData": {"content": text}}


def test_post_classification_single_and_multi(tmp_path: Path) -> None:
    payload = [
        {"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://test-bucket/a.jpg"}, "annotations": [
            _ann("private.us-east-1.w1", {"crowd-image-classifier": {"label": "Falcon"}}),
            _ann("private.us-east-1.w2", {"crowd-image-classifier": {"label": "Falcon"}}),
            _ann("private.us-east-1.w3", {"crowd-image-classifier": {"label": "Owl"}})]},
        {"datasetObjectId": "1", "dataObject": {"s3Uri": "s3://test-bucket/b.jpg"}, "annotations": [
            _ann("private.us-east-1.w1", {"category": {"labels": ["Owl", "Falcon"]}, "note": "x"}),
            _ann("private.us-east-1.w2", {"category": {"labels": ["Owl"]}})]},
    ]
    ev, store = _recipe_store(tmp_path, payload)
    ev["labelCategories"] = ["Owl", "Falcon"]
    content = check_post(invoke("post/classification", ev, store=store), payload)
    assert content["0"]["test-label-attribute"] == 1
    meta = content["0"]["test-label-attribute-metadata"]
    assert meta["class-name"] == "Falcon" and meta["confidence"] == 0.67
    assert meta["type"] == "groundtruth/image-classification"
    assert content["1"]["test-label-attribute"] == [0]  # Falcon has 1 of 2 votes: a tie, left out
    assert content["1"]["test-label-attribute-metadata"]["confidence-map"] == {"0": 1.0}
    ds = check_post(invoke("post/classification", ev, store=store, options={"method": "dawid-skene"}), payload)
    assert ds["0"]["test-label-attribute"] == 1


def test_post_failures_keep_the_batch_going(tmp_path: Path) -> None:
    good = {"annotatedResult": {"boundingBoxes": [{"label": "Red", "left": 1, "top": 1, "width": 10, "height": 10}],
                                "inputImageProperties": {"width": 100, "height": 100}}}
    payload = [
        {"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://test-bucket/0.jpg"},
         "annotations": [_ann("w1", good), _ann("w2", good), _ann("w3", good)]},
        {"datasetObjectId": "1", "dataObject": {"s3Uri": "s3://test-bucket/1.jpg"},
         "annotations": [_ann("w1", good), _ann("w2", good)]},  # fewer answers than workers
        {"datasetObjectId": "2", "dataObject": {"s3Uri": "s3://test-bucket/2.jpg"},
         "annotations": [_ann("w1", good), _ann("w2", {}), _ann("w3", good)]},  # an empty answer
        {"datasetObjectId": "3", "dataObject": {"s3Uri": "s3://test-bucket/3.jpg"},
         "annotations": [_ann("w1", good), _ann("w2", "{not json"), _ann("w3", good)]},  # malformed
        {"datasetObjectId": "3", "dataObject": {"s3Uri": "s3://test-bucket/3.jpg"},
         "annotations": [_ann("w1", good)]},  # the same object twice in one request
    ]
    ev, store = _recipe_store(tmp_path, payload)
    ev["maxHumanWorkersPerDataObject"] = 3
    resp = invoke("post/bounding-boxes", ev, store=store)
    assert [r["datasetObjectId"] for r in resp] == ["0", "1", "2", "3"]
    content = check_post(resp, payload)
    assert "test-label-attribute" in content["0"]
    for oid, why in [("1", "only 2 usable answer(s) of 3"), ("2", "empty answer (worker w2)"),
                     ("3", "annotationData.content: not valid JSON")]:
        meta = content[oid]["test-label-attribute-metadata"]
        assert "test-label-attribute" not in content[oid]
        assert meta["human-annotated"] == "true" and meta["retry-count"] == 0
        assert why in meta["failure-reason"], meta
    # With workers_per_object=1 the short object is consolidated from what it has.
    relaxed = check_post(invoke("post/bounding-boxes", ev, store=store, options={"workers_per_object": 1}), payload)
    assert "test-label-attribute" in relaxed["1"] and "test-label-attribute" in relaxed["2"]


def test_post_unreadable_payload_raises(tmp_path: Path) -> None:
    ev = load("recipe_post_annotation_event.json")
    for name in ("post/passthrough", "post/bounding-boxes", "post/classification", "post/bulk-qa-verdicts"):
        with pytest.raises(ObjectNotFoundError):
            invoke(name, ev, store=LocalStore(tmp_path))


def _bulk_qa_payload(store: LocalStore) -> list[dict[str, Any]]:
    items = [{"image": f"s3://test-bucket/img{i}.jpg", "confidence": 90.0 - i} for i in range(3)]
    store.put_text("s3://test-bucket/qa/batches/cat-0000.json",
                   json.dumps({"label": "cat", "batchId": "cat-0000", "items": items}))
    return [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://test-bucket/qa/batches/cat-0000.json"},
             "annotations": [
                 _ann("private.us-east-1.w1", {"confirmed": {"0": True, "1": True, "2": False}}),
                 _ann("private.us-east-1.w2", {"confirmed": {"0": True, "1": False, "2": False}}),
                 _ann("private.us-east-1.w3", {"confirmed": {"0": True, "1": True}})]}]  # item 2 missing


def test_post_bulk_qa_verdicts_and_duplicate_delivery(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    payload = _bulk_qa_payload(store)
    ev = load("recipe_post_annotation_event.json")
    ev["payload"] = {"s3Uri": TS_URI}
    store.put_text(TS_URI, json.dumps(payload))
    table = SqliteVerdictTable(tmp_path / "v.db")
    first = invoke("post/bulk-qa-verdicts", ev, store=store, verdicts=table)
    content = check_post(first, payload)["0"]
    value = content["test-label-attribute"]
    assert value["label"] == "cat" and value["batchId"] == "cat-0000"
    assert [(r["confirmed"], r["disconfirmed"]) for r in value["items"]] == [(2, 0), (1, 1), (0, 2)]
    assert content["test-label-attribute-metadata"]["type"] == "groundtruth/custom"
    rows = list(table.items())
    assert [(r["image"], r["confirmed"], r["disconfirmed"]) for r in rows] == [
        ("s3://test-bucket/img0.jpg", 2, 0), ("s3://test-bucket/img1.jpg", 1, 1), ("s3://test-bucket/img2.jpg", 0, 2)]
    assert rows[1]["workers"] == {"private.us-east-1.w1": True, "private.us-east-1.w2": False}
    # Re-delivered event: same response, verdict counts unchanged.
    assert invoke("post/bulk-qa-verdicts", ev, store=store, verdicts=table) == first
    assert list(table.items()) == rows
    assert len(list(table.verdicts())) == 6


def test_post_bulk_qa_without_enough_answers_records_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    payload = _bulk_qa_payload(store)
    ev = load("recipe_post_annotation_event.json")
    ev.update(payload={"s3Uri": TS_URI}, maxHumanWorkersPerDataObject=3)
    store.put_text(TS_URI, json.dumps(payload))
    table = SqliteVerdictTable(tmp_path / "v.db")
    content = check_post(invoke("post/bulk-qa-verdicts", ev, store=store, verdicts=table), payload)["0"]
    assert "item 2 is missing" in content["test-label-attribute-metadata"]["failure-reason"]
    assert list(table.items()) == []


def test_post_label_verification_mode(tmp_path: Path) -> None:
    payload = [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://test-bucket/a.jpg"}, "annotations": [
        _ann("w1", {"verification": {"label": "Incorrect", "workerComment": "too wide"}}),
        _ann("w2", {"verification": {"label": "Incorrect", "workerComment": " "}}),
        _ann("w3", {"verification": {"label": "Correct"}})]}]
    ev, store = _recipe_store(tmp_path, payload)
    table = SqliteVerdictTable(tmp_path / "v.db")
    content = check_post(invoke("post/bulk-qa-verdicts", ev, store=store, verdicts=table,
                                options={"mode": "verification", "label": "dog"}), payload)["0"]
    assert content["test-label-attribute"] == "1"
    meta = content["test-label-attribute-metadata"]
    assert meta["class-name"] == "Incorrect" and meta["confidence"] == 0.67
    assert meta["worker-feedback"] == [{"comment": "too wide"}]  # empty comments dropped
    assert [(r["label"], r["confirmed"], r["disconfirmed"]) for r in table.items()] == [("dog", 1, 2)]
