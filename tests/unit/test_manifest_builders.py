"""Builders: texts, predictions CSV, bulk label QA batches, store prefixes; and stats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gtflow.errors import ManifestError, UsageError
from gtflow.manifest import (
    CsvItem,
    batch_id,
    batch_slug,
    build_batches,
    manifest_stats,
    read_csv_items,
    read_manifest,
    records_from_csv,
    records_from_prefix,
    records_from_texts,
    validate_manifest,
    write_manifest,
)
from gtflow.store import LocalStore


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


# -- texts -----------------------------------------------------------------------------------
def test_texts_become_source_lines_and_stay_one_per_line() -> None:
    out = io.BytesIO()
    write_manifest(out, records_from_texts(["one", "  ", "two\nlines"]))
    assert out.getvalue() == b'{"source":"one"}\n{"source":"two\\nlines"}\n'
    with pytest.raises(ManifestError, match="text 2 is blank"):
        list(records_from_texts(["a", ""], skip_blank=False))


# -- CSV -------------------------------------------------------------------------------------
def test_csv_with_header_in_any_order_and_min_confidence() -> None:
    text = "label,confidence,image,extra\ncat,93.5,s3://bucket/1.jpg,x\ndog,40,s3://bucket/2.jpg,y\n\ncat,50,s3://bucket/3.jpg,z\n"
    items = list(read_csv_items(csv(text), min_confidence=50))
    assert items == [CsvItem("s3://bucket/1.jpg", "cat", 93.5, 2), CsvItem("s3://bucket/3.jpg", "cat", 50.0, 5)]
    assert list(records_from_csv(csv(text), min_confidence=90)) == [
        {"source-ref": "s3://bucket/1.jpg", "label": "cat", "confidence": 93.5}
    ]


def test_headerless_csv_with_bom_and_image_prefix() -> None:
    text = "\ufeffa.jpg,cat,0.9\nsub/b.jpg,dog,0.2\n"
    items = list(read_csv_items(csv(text), image_prefix="s3://bucket/imgs/"))
    assert [i.image for i in items] == ["s3://bucket/imgs/a.jpg", "s3://bucket/imgs/sub/b.jpg"]


def test_csv_from_a_text_stream_and_a_quoted_multiline_field() -> None:
    text = 'image,label,confidence\ns3://bucket/1.jpg,"two\nlines",1\ns3://bucket/2.jpg,cat,x\n'
    with pytest.raises(ManifestError) as err:
        list(read_csv_items(io.StringIO(text)))
    # the quoted field spans lines 2-3, so the bad row is line 4
    assert err.value.line == 4 and err.value.field == "confidence"


@pytest.mark.parametrize(
    "text,line,field,match",
    [
        ("image,label\ns3://bucket/1.jpg,cat\n", 1, None, "lacks column"),
        ("s3://bucket/1.jpg,cat\n", 1, None, "2 column"),
        ("foo,bar,baz\n", 1, None, "neither a header"),
        ("image,label,confidence\ns3://bucket/1.jpg,cat,high\n", 2, "confidence", "not a number"),
        ("image,label,confidence\ns3://bucket/1.jpg,cat,nan\n", 2, "confidence", "finite"),
        ("image,label,confidence\ns3://bucket/1.jpg,,5\n", 2, "label", "empty"),
        ("image,label,confidence\n,cat,5\n", 2, "image", "empty"),
        ("image,label,confidence\nlocal.jpg,cat,5\n", 2, "image", "s3://"),
        ("image,label,confidence\ns3://B/1.jpg,cat,5\n", 2, "image", "bucket"),
        ("image,label,confidence\ns3://bucket/1.jpg,cat\n", 2, None, "column"),
    ],
)
def test_csv_errors_name_line_and_column(text: str, line: int, field: str | None, match: str) -> None:
    with pytest.raises(ManifestError, match=match) as err:
        list(read_csv_items(csv(text)))
    assert err.value.line == line and err.value.field == field
    assert err.value.path == "<stream>"


def test_csv_invalid_utf8() -> None:
    with pytest.raises(ManifestError, match="UTF-8"):
        list(read_csv_items(io.BytesIO(b"image,label,confidence\ns3://bucket/\xff.jpg,cat,1\n")))


# -- batches ---------------------------------------------------------------------------------
def items(n_cat: int, n_dog: int) -> list[dict]:
    out = []
    for i in range(max(n_cat, n_dog)):
        if i < n_cat:
            out.append({"image": f"s3://bucket/cat{i}.jpg", "label": "cat", "confidence": 90 + i % 10})
        if i < n_dog:
            out.append({"image": f"s3://bucket/dog{i}.jpg", "label": "dog", "confidence": 50})
    return out


def test_batch_names() -> None:
    assert batch_slug("Traffic Light!") == "traffic-light"
    assert batch_slug("???") == "label"
    assert batch_id("cat", 3) == "cat-0003" and batch_id("cat", 12345) == "cat-12345"


def test_batches_layout_matches_the_contract(local_store: LocalStore) -> None:
    result = build_batches(items(27, 3), store=local_store, prefix="s3://bucket/qa/", batch_size=25)
    assert (result.batches, result.items, result.batches_per_label) == (3, 30, {"cat": 2, "dog": 1})
    assert result.manifest == "s3://bucket/qa/batches.manifest"
    lines = [json.loads(x) for x in local_store.get_text(result.manifest).splitlines()]
    assert lines == [
        {"source-ref": "s3://bucket/qa/batches/cat-0001.json", "label": "cat", "batchId": "cat-0001", "itemCount": 25},
        {"source-ref": "s3://bucket/qa/batches/cat-0002.json", "label": "cat", "batchId": "cat-0002", "itemCount": 2},
        {"source-ref": "s3://bucket/qa/batches/dog-0001.json", "label": "dog", "batchId": "dog-0001", "itemCount": 3},
    ]
    first = json.loads(local_store.get_text("s3://bucket/qa/batches/cat-0001.json"))
    assert list(first) == ["label", "batchId", "items"]
    assert first["label"] == "cat" and first["batchId"] == "cat-0001"
    assert first["items"][:2] == [{"image": "s3://bucket/cat0.jpg", "confidence": 90}, {"image": "s3://bucket/cat1.jpg", "confidence": 91}]
    last = json.loads(local_store.get_text("s3://bucket/qa/batches/cat-0002.json"))
    assert [i["image"] for i in last["items"]] == ["s3://bucket/cat25.jpg", "s3://bucket/cat26.jpg"]
    assert validate_manifest(result.manifest, store=local_store).valid


def test_batches_rerun_writes_the_same_bytes(local_store: LocalStore) -> None:
    def snapshot() -> dict[str, bytes]:
        return {o.uri: local_store.get_bytes(o.uri) for o in local_store.list("s3://bucket/qa/")}

    build_batches(items(7, 5), store=local_store, prefix="s3://bucket/qa", batch_size=3)
    first = snapshot()
    build_batches(items(7, 5), store=local_store, prefix="s3://bucket/qa", batch_size=3)
    assert snapshot() == first and len(first) == 3 + 2 + 1


def test_batches_from_csv_items_and_other_manifest_path(local_store: LocalStore, tmp_path: Path) -> None:
    text = "image,label,confidence\ns3://bucket/1.jpg,cat,90\ns3://bucket/2.jpg,cat,10\ns3://bucket/3.jpg,dog,95\n"
    dest = tmp_path / "qa.manifest"
    result = build_batches(read_csv_items(csv(text), min_confidence=50), store=local_store, prefix="s3://bucket/qa", manifest=dest)
    assert result.items == 2 and result.manifest == str(dest)
    assert [m.record["batchId"] for m in read_manifest(dest)] == ["cat-0001", "dog-0001"]


def test_labels_sharing_a_slug_are_refused(local_store: LocalStore) -> None:
    bad = [CsvItem("s3://bucket/1.jpg", "cat", 1.0, 2), CsvItem("s3://bucket/2.jpg", "Cat", 1.0, 3)]
    with pytest.raises(ManifestError, match="share batch names") as err:
        build_batches(bad, store=local_store, prefix="s3://bucket/qa")
    assert err.value.line == 3


@pytest.mark.parametrize("size", [0, -1, 2.5])
def test_batch_size_must_be_positive(local_store: LocalStore, size: object) -> None:
    with pytest.raises(UsageError):
        build_batches([], store=local_store, prefix="s3://bucket/qa", batch_size=size)  # type: ignore[arg-type]


def test_batch_items_need_image_and_label(local_store: LocalStore) -> None:
    with pytest.raises(ManifestError, match="image and label"):
        build_batches([{"label": "cat"}], store=local_store, prefix="s3://bucket/qa")


# -- prefix ----------------------------------------------------------------------------------
def test_prefix_lists_images_in_key_order(local_store: LocalStore) -> None:
    for key in ["imgs/b.png", "imgs/a.JPG", "imgs/sub/c.jpeg", "imgs/notes.txt", "imgs/.hidden.jpg", "other/d.jpg"]:
        local_store.put_bytes(f"s3://bucket/{key}", b"x")
    got = [r["source-ref"] for r in records_from_prefix(local_store, "s3://bucket/imgs/")]
    assert got == ["s3://bucket/imgs/a.JPG", "s3://bucket/imgs/b.png", "s3://bucket/imgs/sub/c.jpeg"]
    only_png = [r["source-ref"] for r in records_from_prefix(local_store, "s3://bucket/imgs/", extensions=["PNG"])]
    assert only_png == ["s3://bucket/imgs/b.png"]
    with pytest.raises(UsageError):
        list(records_from_prefix(local_store, "s3://bucket/imgs/", extensions=[""]))


# -- stats -----------------------------------------------------------------------------------
def test_stats_of_csv_lines_and_percent_histogram() -> None:
    out = io.BytesIO()
    text = "image,label,confidence\n" + "".join(f"s3://bucket/{i}.jpg,{'cat' if i % 3 else 'dog'},{i}\n" for i in range(100))
    write_manifest(out, records_from_csv(csv(text)))
    s = manifest_stats(io.BytesIO(out.getvalue()))
    assert s.lines == 100 and s.source_refs == 100
    assert s.labels == {"cat": 66, "dog": 34}
    hist = s.confidence_histogram()
    assert hist[0] == (0.0, 10.0, 10) and hist[-1] == (90.0, 100.0, 10) and len(hist) == 10


def test_stats_of_gt_output_lines() -> None:
    recs = [
        {"source-ref": "s3://bucket/1.jpg", "box": {"annotations": [{"class_id": 0}, {"class_id": 5}], "image_size": []},
         "box-metadata": {"class-map": {"0": "dog", "5": "bone"}, "objects": [{"confidence": 0.8}, {"confidence": 0.95}], "type": "groundtruth/object-detection"}},
        {"source-ref": "s3://bucket/2.jpg", "box": {"annotations": [], "image_size": []},
         "box-metadata": {"class-map": {}, "objects": [], "type": "groundtruth/object-detection"}},
        {"source-ref": "s3://bucket/3.jpg", "species": 0, "species-metadata": {"class-name": "dog", "confidence": 0.0, "type": "groundtruth/image-classification"}},
        {"source-ref": "s3://bucket/4.jpg", "multi": [1, 0], "multi-metadata": {"class-map": {"1": "bicycle", "0": "person"}, "confidence-map": {"1": 0.95, "0": 0.77}, "type": "groundtruth/image-classification-multilabel"}},
        {"source-ref": "s3://bucket/5.jpg", "job-metadata": {"retry-count": 1, "failure-reason": "ClientError: expired", "human-annotated": "true"}},
    ]
    out = io.BytesIO()
    write_manifest(out, recs)
    s = manifest_stats(io.BytesIO(out.getvalue()))
    assert s.labels == {"dog": 2, "bone": 1, "bicycle": 1, "person": 1}
    assert s.boxes_per_image == {2: 1, 0: 1} and s.boxes == 2 and s.images_with_boxes == 1
    assert s.failed == 1
    assert [c for _, _, c in s.confidence_histogram()] == [1, 0, 0, 0, 0, 0, 0, 1, 1, 2]
    only = manifest_stats(io.BytesIO(out.getvalue()), label_attribute="box")
    assert only.labels == {"dog": 1, "bone": 1}
    d = json.loads(json.dumps(s.to_dict()))
    assert d["boxesPerImage"] == {"0": 1, "2": 1} and d["lines"] == 5
