"""The synthetic detection dataset: deterministic, honest boxes, a valid manifest."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from PIL import Image

from gtflow.errors import UsageError
from gtflow.training.manifests import dumps_manifest, read_manifest, validate_detection_manifest
from gtflow.training.synthetic import (
    DEFAULT_CLASSES,
    SyntheticStyle,
    generate_dataset,
    render_image,
)


def test_same_seed_same_bytes_and_prefix_stability(local_store):
    a = generate_dataset(local_store, "s3://data/a", 4, seed=5, image_size=64)
    bytes_a = [local_store.get_bytes(r["source-ref"]) for r in a]
    b = generate_dataset(local_store, "s3://data/b", 6, seed=5, image_size=64)
    assert [r["bounding-box"] for r in a] == [r["bounding-box"] for r in b[:4]]
    assert bytes_a == [local_store.get_bytes(r["source-ref"]) for r in b[:4]]
    c = generate_dataset(local_store, "s3://data/c", 4, seed=6, image_size=64)
    assert [r["bounding-box"] for r in a] != [r["bounding-box"] for r in c]


def test_records_are_gt_bounding_box_lines_that_validate(store):
    recs = generate_dataset(store, "s3://bucket/synth", 12, seed=1, image_size=96, label_attribute="od-labels",
                            manifest_uri="s3://bucket/synth/all.manifest")
    assert read_manifest(store, "s3://bucket/synth/all.manifest") == recs
    validate_detection_manifest(dumps_manifest(recs), label_attribute="od-labels", num_classes=4)
    meta = recs[0]["od-labels-metadata"]
    assert meta["type"] == "groundtruth/object-detection" and meta["human-annotated"] == "yes"
    assert meta["class-map"] == {"0": "circle", "1": "ellipse", "2": "square", "3": "triangle"}
    assert len(meta["objects"]) == len(recs[0]["od-labels"]["annotations"])
    img = Image.open(io.BytesIO(store.get_bytes(recs[0]["source-ref"])))
    assert img.size == (96, 96) and img.mode == "RGB"


def test_boxes_lie_inside_and_classes_are_mixed():
    counts: Counter[int] = Counter()
    sizes = []
    for i in range(120):
        img, boxes = render_image(i, seed=2, image_size=96)
        for b in boxes:
            assert b.left >= 0 and b.top >= 0 and b.left + b.width <= 96 and b.top + b.height <= 96
            assert b.width >= 5 and b.height >= 5
            counts[b.class_id] += 1
            sizes.append((b.width * b.height) ** 0.5)
    assert set(counts) == {0, 1, 2, 3}
    assert min(counts.values()) > 0.5 * max(counts.values())
    assert min(sizes) < 20 and max(sizes) > 45  # small and large objects


def test_occlusion_drops_hidden_objects():
    strict = sum(len(render_image(i, seed=3, image_size=64, style=SyntheticStyle(max_objects=6))[1])
                 for i in range(60))
    lax = sum(len(render_image(i, seed=3, image_size=64,
                               style=SyntheticStyle(max_objects=6, min_visible=0.0, min_box_fraction=0.0))[1])
              for i in range(60))
    assert lax > strict


def test_jpeg_and_class_subsets(local_store):
    recs = generate_dataset(local_store, "s3://data/j", 2, seed=0, image_size=64, image_format="jpeg",
                            classes=("circle", "ellipse"))
    assert recs[0]["source-ref"].endswith(".jpg")
    assert Image.open(io.BytesIO(local_store.get_bytes(recs[0]["source-ref"]))).format == "JPEG"
    assert recs[0]["bounding-box-metadata"]["class-map"] == {"0": "circle", "1": "ellipse"}


@pytest.mark.parametrize("kw", [{"classes": ("hexagon",)}, {"classes": ()}, {"image_size": 16},
                                {"image_format": "gif"}])
def test_bad_arguments(local_store, kw):
    with pytest.raises(UsageError):
        generate_dataset(local_store, "s3://data/x", 1, **kw)


def test_default_classes_include_the_confusable_pair():
    assert {"circle", "ellipse"} <= set(DEFAULT_CLASSES)
