"""``gtflow manifest import|export`` on real VOC / COCO / YOLO files (tests/events/datasets, each
with a .source.txt), the algorithm's other inputs (image+JSON, .lst), and errors that name the
file and line/element."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from gtflow.cli import cli
from gtflow.errors import ContractError
from gtflow.formats import import_dataset
from gtflow.manifest import validate_manifest

DATA = Path(__file__).resolve().parents[1] / "events" / "datasets"


def run(root: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.output


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_every_sample_has_a_source() -> None:
    for sample in ("voc_mmdet", "voc_datumaro", "coco_cocoapi", "yolo_lsc"):
        assert (DATA / f"{sample}.source.txt").read_text().startswith("repository: ")


def test_real_voc_to_manifest_and_back(tmp_path: Path) -> None:
    root = tmp_path / "store"
    code, out = run(root, "manifest", "import", "--format", "voc", str(DATA / "voc_mmdet"), "-o",
                    str(tmp_path / "voc.manifest"), "--image-prefix", "s3://bkt/voc", "--json")
    assert code == 0, out
    (line,) = lines(tmp_path / "voc.manifest")
    assert line["source-ref"] == "s3://bkt/voc/000002.jpg"
    assert line["bounding-box"] == {"image_size": [{"width": 335, "height": 500, "depth": 3}],
                                    "annotations": [{"class_id": 0, "left": 139, "top": 200, "width": 68, "height": 101}]} or \
        line["bounding-box"]["annotations"][0] == {"class_id": 0, "width": 68, "top": 200, "height": 101, "left": 139}
    assert line["bounding-box-metadata"]["class-map"] == {"0": "train"}
    assert line["bounding-box-metadata"]["job-name"] == "labeling-job/gtflow-import-voc"
    assert validate_manifest(tmp_path / "voc.manifest").valid
    code, out = run(root, "manifest", "export", "--format", "voc", str(tmp_path / "voc.manifest"), "-o",
                    str(tmp_path / "out"))
    assert code == 0, out
    xml = (tmp_path / "out" / "Annotations" / "000002.xml").read_text()
    for tag in ("<name>train</name>", "<xmin>139</xmin>", "<ymin>200</ymin>", "<xmax>207</xmax>", "<ymax>301</ymax>",
                "<width>335</width>", "<height>500</height>"):
        assert tag in xml


def test_voc_parts_and_actions_are_not_boxes(tmp_path: Path) -> None:
    import_dataset("voc", str(DATA / "voc_datumaro"), str(tmp_path / "m.manifest"), image_prefix="s3://bkt/v")
    (line,) = lines(tmp_path / "m.manifest")
    anns = line["bounding-box"]["annotations"]
    cmap = line["bounding-box-metadata"]["class-map"]
    assert sorted((cmap[str(a["class_id"])], a["left"], a["top"], a["width"], a["height"]) for a in anns) == \
        [("cat", 1, 2, 2, 2), ("person", 4, 5, 2, 2)]


def test_real_coco_keeps_every_box_and_loads_in_coco_api(tmp_path: Path) -> None:
    src = json.loads((DATA / "coco_cocoapi" / "instances_val2017_1img-sample.json").read_text())
    report = import_dataset("coco", str(DATA / "coco_cocoapi" / "instances_val2017_1img-sample.json"),
                            str(tmp_path / "c.manifest"), image_prefix="s3://bkt/coco")
    assert report.images == 1 and report.boxes == len(src["annotations"]) == 16
    assert len(report.classes) == 80 and report.classes[0] == "person"
    (line,) = lines(tmp_path / "c.manifest")
    assert line["bounding-box"]["image_size"] == [{"width": 320, "height": 240, "depth": 3}]
    code, out = run(tmp_path / "s", "manifest", "export", "--format", "coco", str(tmp_path / "c.manifest"),
                    "-o", str(tmp_path / "out"))
    assert code == 0, out
    from faster_coco_eval import COCO

    api = COCO(str(tmp_path / "out" / "annotations.json"))
    assert len(api.getAnnIds()) == 16
    names = {c["id"]: c["name"] for c in api.loadCats(api.getCatIds())}
    src_names = {c["id"]: c["name"] for c in src["categories"]}
    got = sorted((names[a["category_id"]], *(round(v) for v in a["bbox"])) for a in api.loadAnns(api.getAnnIds()))
    want = sorted((src_names[a["category_id"]], round(a["bbox"][0]), round(a["bbox"][1]),
                   round(a["bbox"][0] + a["bbox"][2]) - round(a["bbox"][0]),
                   round(a["bbox"][1] + a["bbox"][3]) - round(a["bbox"][1])) for a in src["annotations"])
    assert got == want


def _yolo_with_images(tmp_path: Path) -> Path:
    src = tmp_path / "yolo"
    shutil.copytree(DATA / "yolo_lsc", src)
    (src / "images").mkdir()
    for lbl in sorted((src / "labels").glob("*.txt")):
        Image.new("RGB", (640, 329), (90, 90, 90)).save(src / "images" / f"{lbl.stem}.jpg")
    return src


def test_real_yolo_import_copies_images_into_the_store_and_exports(tmp_path: Path) -> None:
    src = _yolo_with_images(tmp_path)
    root = tmp_path / "store"
    code, out = run(root, "manifest", "import", "--format", "yolo", str(src), "-o", "s3://bkt/yolo.manifest",
                    "--images-to", "s3://bkt/images", "--json")
    assert code == 0, out
    rep = json.loads(out)
    want_boxes = sum(len(p.read_text().split("\n")) - 1 for p in (src / "labels").glob("*.txt"))
    assert rep["images"] == 5 and rep["copied"] == 5 and rep["boxes"] == want_boxes
    assert rep["class_map"] == {"0": "closed_door", "1": "opened_door", "2": "bus", "3": "number"}
    assert (root / "bkt" / "images" / "img_1.jpg").is_file()
    code, out = run(root, "manifest", "export", "--format", "yolo", "s3://bkt/yolo.manifest", "-o", str(tmp_path / "out"))
    assert code == 0, out
    assert (tmp_path / "out" / "classes.txt").read_text() == (src / "classes.txt").read_text().rstrip("\n") + "\n"
    for lbl in (src / "labels").glob("*.txt"):
        a = [[float(v) for v in ln.split()] for ln in lbl.read_text().splitlines() if ln.strip()]
        b = [[float(v) for v in ln.split()] for ln in (tmp_path / "out" / "labels" / lbl.name).read_text().splitlines()]
        assert len(a) == len(b)
        for ra, rb in zip(sorted(a), sorted(b), strict=True):
            assert ra[0] == rb[0]
            assert all(abs(x - y) * 640 <= 1.01 for x, y in zip(ra[1::2], rb[1::2], strict=True))  # x values, one pixel
            assert all(abs(x - y) * 329 <= 1.01 for x, y in zip(ra[2::2], rb[2::2], strict=True))  # y values


def test_sagemaker_json_and_lst(tmp_path: Path) -> None:
    import_dataset("voc", str(DATA / "voc_mmdet"), str(tmp_path / "m.manifest"), image_prefix="s3://bkt/voc")
    code, out = run(tmp_path / "s", "manifest", "export", "--format", "sagemaker-json", str(tmp_path / "m.manifest"),
                    "-o", str(tmp_path / "sm"))
    assert code == 0, out
    doc = json.loads((tmp_path / "sm" / "annotations" / "000002.json").read_text())
    assert doc == {"file": "000002.jpg", "image_size": [{"width": 335, "height": 500, "depth": 3}],
                   "annotations": [{"class_id": 0, "left": 139, "top": 200, "width": 68, "height": 101}],
                   "categories": [{"class_id": 0, "name": "train"}]}
    code, out = run(tmp_path / "s", "manifest", "export", "--format", "lst", str(tmp_path / "m.manifest"),
                    "-o", str(tmp_path / "lst"))
    assert code == 0, out
    cols = (tmp_path / "lst" / "dataset.lst").read_text().rstrip("\n").split("\t")
    assert cols[:4] == ["0", "2", "5", "0"] and cols[-1] == "000002.jpg"
    assert [float(v) for v in cols[4:8]] == pytest.approx([139 / 335, 200 / 500, 207 / 335, 301 / 500], abs=1e-6)


@pytest.mark.parametrize("xml,line,field", [
    ("<annotation>\n<filename>a.jpg</filename>\n<size><width>50</width><height>40</height></size>\n"
     "<object><name>dog</name>\n<bndbox><xmin>1</xmin><ymin>2</ymin>\n<xmax>oops</xmax><ymax>9</ymax></bndbox></object>\n"
     "</annotation>", 6, "object[0].bndbox.xmax"),
    ("<annotation>\n<filename>a.jpg</filename>\n<size><width>50</width><height>40</height></size>\n"
     "<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>\n<object><name>cat</name>\n<bndbox><xmin>30</xmin><ymin>2</ymin>"
     "<xmax>10</xmax><ymax>9</ymax></bndbox></object>\n</annotation>", 6, "object[1].bndbox"),
])
def test_invalid_voc_is_an_error_with_line_and_element(tmp_path: Path, xml: str, line: int, field: str) -> None:
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text(xml)
    with pytest.raises(ContractError) as info:
        import_dataset("voc", str(tmp_path / "voc"), str(tmp_path / "m.manifest"), image_prefix="s3://bkt/x")
    err = info.value
    assert err.path.endswith("a.xml") and err.line == line and err.field.startswith(field.split(".bndbox")[0])
    assert not (tmp_path / "m.manifest").exists()


def test_invalid_annotations_are_reported_not_dropped(tmp_path: Path) -> None:
    doc = json.loads((DATA / "coco_cocoapi" / "instances_val2017_1img-sample.json").read_text())
    doc["images"].append({"id": 2, "file_name": "b.jpg", "width": 10, "height": 10})
    doc["annotations"].append({"id": 9, "image_id": 2, "category_id": 1, "bbox": [5, 5, 50, 2]})
    (tmp_path / "c.json").write_text(json.dumps(doc))
    root = tmp_path / "s"
    code, out = run(root, "manifest", "import", "--format", "coco", str(tmp_path / "c.json"), "-o",
                    str(tmp_path / "m.manifest"), "--image-prefix", "s3://bkt/c")
    assert code == 1 and "annotations[16].bbox" in out and "outside" in out
    assert not (tmp_path / "m.manifest").exists()
    code, out = run(root, "manifest", "import", "--format", "coco", str(tmp_path / "c.json"), "-o",
                    str(tmp_path / "m.manifest"), "--image-prefix", "s3://bkt/c", "--skip-invalid", "--json")
    assert code == 0
    rep = json.loads(out)
    assert rep["images"] == 1 and len(rep["invalid"]) == 1 and "annotations[16].bbox" in rep["invalid"][0]


def test_bad_yolo_line_names_file_and_line(tmp_path: Path) -> None:
    src = _yolo_with_images(tmp_path)
    with (src / "labels" / "img_3.txt").open("a") as fh:
        fh.write("7 0.5 0.5 0.1 0.1\n")
    n = len((src / "labels" / "img_3.txt").read_text().splitlines())
    with pytest.raises(ContractError) as info:
        import_dataset("yolo", str(src), str(tmp_path / "m.manifest"), image_prefix="s3://bkt/y")
    assert info.value.path.endswith("img_3.txt") and info.value.line == n and "class 7" in str(info.value)


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>\n'
        "<annotation><filename>&y;</filename></annotation>")
    with pytest.raises(ContractError, match="refused XML"):
        import_dataset("voc", str(tmp_path / "voc"), str(tmp_path / "m.manifest"), image_prefix="s3://bkt/x")
