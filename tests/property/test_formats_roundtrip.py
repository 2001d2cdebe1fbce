"""VOC -> manifest -> VOC, COCO -> manifest -> COCO, YOLO -> manifest -> YOLO keep every box and class.

Each example writes a generated dataset in the format, imports it into a GT manifest with
``gtflow.formats.import_dataset``, exports the manifest back with ``export_manifest`` and reads
the export with the format's reader. Boxes are integer pixels (what a GT manifest holds); YOLO's
normalised text is compared to within one pixel.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtflow.formats import export_manifest, import_dataset
from gtflow.formats._types import AnnotatedImage, Box, Sink
from gtflow.formats.coco import read_coco, write_coco
from gtflow.formats.voc import read_voc, write_voc
from gtflow.formats.yolo import read_yolo, write_yolo

NAMES = ["aeroplane", "dog", "person", "traffic light", "Ünïcode"]


@st.composite
def datasets(draw: st.DrawFn) -> list[AnnotatedImage]:
    n = draw(st.integers(1, 4))
    items = []
    for i in range(n):
        w, h = draw(st.integers(8, 300)), draw(st.integers(8, 300))
        boxes = []
        for _ in range(draw(st.integers(0, 6))):
            x0, y0 = draw(st.integers(0, w - 2)), draw(st.integers(0, h - 2))
            x1, y1 = draw(st.integers(x0 + 1, w)), draw(st.integers(y0 + 1, h))
            boxes.append(Box(draw(st.sampled_from(NAMES)), x0, y0, x1 - x0, y1 - y0))
        items.append(AnnotatedImage(f"img_{i:03d}.png", w, h, 3, tuple(boxes)))
    return items


def _key(items: list[AnnotatedImage], tol: float = 0.0) -> dict[str, Counter[tuple]]:
    out = {}
    for it in items:
        boxes = Counter((b.label, round(b.left / max(tol, 1)), round(b.top / max(tol, 1)),
                         round(b.right / max(tol, 1)), round(b.bottom / max(tol, 1))) for b in it.boxes)
        out[it.file] = boxes
    return out


def _same(a: list[AnnotatedImage], b: list[AnnotatedImage]) -> None:
    assert sorted(i.file for i in a) == sorted(i.file for i in b)
    sizes = {i.file: (i.width, i.height) for i in a}
    assert sizes == {i.file: (i.width, i.height) for i in b}
    assert _key(a) == _key(b)


def _roundtrip(fmt: str, src: Path, tmp: Path) -> Path:
    manifest = tmp / "dataset.manifest"
    report = import_dataset(fmt, str(src), str(manifest), image_prefix="s3://bkt/images")
    lines = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines()]
    assert report.images == len(lines)
    for line in lines:
        meta = line["bounding-box-metadata"]
        assert meta["type"] == "groundtruth/object-detection" and meta["human-annotated"] == "yes"
        assert len(meta["objects"]) == len(line["bounding-box"]["annotations"])
    out = tmp / "out"
    export_manifest(fmt, str(manifest), str(out))
    return out


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(datasets())
def test_voc_roundtrip(items: list[AnnotatedImage]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        write_voc(items, Sink(str(tmp / "src")))
        out = _roundtrip("voc", tmp / "src", tmp)
        back = [it for it, _ in read_voc(out)]
        _same(items, back)


@SETTINGS
@given(datasets())
def test_coco_roundtrip(items: list[AnnotatedImage]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        used = sorted({b.label for it in items for b in it.boxes})
        # COCO-style gapped category ids in the source
        write_coco(items, {3 * i + 1: n for i, n in enumerate(used)}, Sink(str(tmp / "src")))
        out = _roundtrip("coco", tmp / "src" / "annotations.json", tmp)
        cats, back = read_coco(out / "annotations.json")
        assert sorted(cats.values()) == used
        _same(items, [it for it, _ in back])


@SETTINGS
@given(datasets())
def test_yolo_roundtrip(items: list[AnnotatedImage]) -> None:
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "src"
        write_yolo(items, dict(enumerate(NAMES)), Sink(str(src)))
        (src / "images").mkdir()
        for it in items:
            Image.new("RGB", (it.width, it.height)).save(src / "images" / it.file)
        out = _roundtrip("yolo", src, tmp)
        (out / "images").symlink_to(src / "images")
        names, back_items = read_yolo(out)
        back = [it for it, _ in back_items]
        assert names == NAMES
        assert sorted(i.file for i in back) == sorted(i.file for i in items)
        by_file = {i.file: i for i in back}
        for it in items:
            got = by_file[it.file]
            assert Counter(b.label for b in got.boxes) == Counter(b.label for b in it.boxes)
            for b in it.boxes:  # every box comes back to within a pixel
                assert any(g.label == b.label and abs(g.left - b.left) <= 1 and abs(g.top - b.top) <= 1
                           and abs(g.right - b.right) <= 1 and abs(g.bottom - b.bottom) <= 1 for g in got.boxes), b
