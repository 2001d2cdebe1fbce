"""Manifests in an object store: the same tests on LocalStore and on S3Store (moto)."""

from __future__ import annotations

import json

import pytest

from gtflow.errors import ManifestError, ObjectNotFoundError
from gtflow.manifest import (
    build_batches,
    manifest_stats,
    read_csv_items,
    read_manifest,
    records_from_prefix,
    validate_manifest,
    write_manifest,
)
from gtflow.store import ObjectStore

LINE = {
    "source-ref": "s3://bucket/img/1.jpg",
    "box": {"image_size": [{"width": 100, "height": 80, "depth": 3}], "annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}]},
    "box-metadata": {"class-map": {"0": "cat"}, "objects": [{"confidence": 0.5}], "type": "groundtruth/object-detection"},
}


def test_write_then_read_through_the_store(store: ObjectStore) -> None:
    uri = "s3://bucket/manifests/a.manifest"
    assert write_manifest(uri, [LINE, {"source": "é"}] * 1000, store=store) == 2000
    got = list(read_manifest(uri, store=store))
    assert len(got) == 2000 and got[0].record == LINE and got[1999].line == 2000
    assert store.get_bytes(uri).startswith(b'{"source-ref":"s3://bucket/img/1.jpg","box":{')


def test_failed_write_leaves_no_object(store: ObjectStore) -> None:
    uri = "s3://bucket/manifests/bad.manifest"
    with pytest.raises(ManifestError) as err:
        write_manifest(uri, [LINE, {"$no": 1}], store=store)
    assert err.value.path == uri and err.value.line == 2
    assert not store.exists(uri)


def test_read_errors_name_the_uri(store: ObjectStore) -> None:
    uri = "s3://bucket/manifests/broken.manifest"
    store.put_bytes(uri, b'{"source":"a"}\n{oops\n')
    with pytest.raises(ManifestError) as err:
        list(read_manifest(uri, store=store))
    assert str(err.value).startswith(f"{uri}:2: not valid JSON")
    with pytest.raises(ObjectNotFoundError):
        list(read_manifest("s3://bucket/manifests/none.manifest", store=store))


def test_validate_and_clean_through_the_store(store: ObjectStore) -> None:
    src, dst = "s3://bucket/m/in.manifest", "s3://bucket/m/clean.manifest"
    empty = json.loads(json.dumps(LINE))
    empty["box"]["annotations"] = []
    empty["box-metadata"]["objects"] = []
    write_manifest(src, [LINE, empty, LINE], store=store)
    report = validate_manifest(src, store=store, task="object-detection", label_attribute="box", empty_policy="drop", cleaned=dst)
    assert report.valid and report.dropped == 1 and report.path == src and report.cleaned_path == dst
    assert [m.line for m in read_manifest(dst, store=store)] == [1, 2]
    assert manifest_stats(dst, store=store).labels == {"cat": 2}


def test_prefix_and_batches_in_the_store(store: ObjectStore) -> None:
    for name in ["b.jpg", "a.png", "readme.md"]:
        store.put_bytes(f"s3://bucket/img/{name}", b"x")
    refs = [r["source-ref"] for r in records_from_prefix(store, "s3://bucket/img/")]
    assert refs == ["s3://bucket/img/a.png", "s3://bucket/img/b.jpg"]

    store.put_text("s3://bucket/in/preds.csv", "image,label,confidence\n" + "".join(f"s3://bucket/img/{i}.jpg,cat,{i}\n" for i in range(30)))
    items = read_csv_items("s3://bucket/in/preds.csv", store=store, min_confidence=5)
    result = build_batches(items, store=store, prefix="s3://bucket/qa", batch_size=10)
    assert (result.items, result.batches) == (25, 3)
    lines = [m.record for m in read_manifest(result.manifest, store=store)]
    assert [x["itemCount"] for x in lines] == [10, 10, 5]
    batch = json.loads(store.get_text(lines[2]["source-ref"]))
    assert batch["batchId"] == "cat-0003" and batch["items"][-1] == {"image": "s3://bucket/img/29.jpg", "confidence": 29.0}
