"""COCO object-detection JSON (``images``, ``annotations``, ``categories``; ``bbox`` = x, y, w, h).

Category ids may have gaps (COCO's own run 1..90); the manifest's class ids are 0..K-1 in
category-id order, and the class names carry over. Export writes categories ``1..K`` in class
id order, so a COCO -> manifest -> COCO round trip keeps every box and class name. The file
written loads in ``pycocotools``/``faster_coco_eval`` (tested). A COCO file is one JSON
document, so it is read whole; the export streams (images and annotations go to two temporary
files, then into one document).

``iscrowd`` regions are kept as boxes; ``segmentation`` is not carried.

    >>> doc = {"images": [{"id": 7, "file_name": "a.jpg", "width": 50, "height": 40}],
    ...        "annotations": [{"id": 1, "image_id": 7, "category_id": 18, "bbox": [1, 2, 10, 20]}],
    ...        "categories": [{"id": 18, "name": "dog"}]}
    >>> [(i.file, [(b.label, b.width) for b in i.boxes]) for i in read_coco_document(doc, "x.json")]
    [('a.jpg', [('dog', 10.0)])]
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from gtflow.errors import ContractError, GtflowError
from gtflow.formats._types import AnnotatedImage, Box, Sink, check_box

__all__ = ["read_coco", "read_coco_document", "write_coco", "coco_categories"]


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def coco_categories(doc: Mapping[str, Any], path: str) -> dict[int, str]:
    """``{category id: name}`` in id order (ContractError for a bad entry)."""
    cats = doc.get("categories")
    if not isinstance(cats, list):
        raise ContractError("missing categories list", path=path, field="categories")
    out: dict[int, str] = {}
    for i, c in enumerate(cats):
        if not isinstance(c, Mapping) or not isinstance(c.get("id"), int) or not isinstance(c.get("name"), str):
            raise ContractError("a category is {id: int, name: str}", path=path, field=f"categories[{i}]")
        if c["id"] in out:
            raise ContractError(f"category id {c['id']} appears twice", path=path, field=f"categories[{i}].id")
        out[c["id"]] = c["name"]
    return dict(sorted(out.items()))


def read_coco_document(doc: Any, path: str, *, errors: list[GtflowError] | None = None) -> Iterator[AnnotatedImage]:
    """Images of a parsed COCO document in ``images`` order, each with its boxes.

    A bad image or annotation raises ContractError naming ``images[i]`` / ``annotations[j]``;
    with ``errors`` the image it belongs to is refused (recorded there) and the rest go on.
    """
    if not isinstance(doc, Mapping):
        raise ContractError("a COCO file is a JSON object", path=path)
    cats = coco_categories(doc, path)
    images = doc.get("images")
    anns = doc.get("annotations", [])
    if not isinstance(images, list):
        raise ContractError("missing images list", path=path, field="images")
    if not isinstance(anns, list):
        raise ContractError("annotations must be a list", path=path, field="annotations")
    by_id: dict[Any, dict[str, Any]] = {}
    order: list[Any] = []
    bad: dict[Any, GtflowError] = {}

    def refuse(exc: GtflowError, image_id: Any = None) -> None:
        if errors is None:
            raise exc
        if image_id is not None and image_id in by_id:
            bad.setdefault(image_id, exc)
        else:
            errors.append(exc)

    for i, im in enumerate(images):
        f = f"images[{i}]"
        if not isinstance(im, Mapping) or not isinstance(im.get("file_name"), str) or "id" not in im:
            refuse(ContractError("an image is {id, file_name, width, height}", path=path, field=f))
            continue
        w, h = im.get("width"), im.get("height")
        if not (isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0):
            refuse(ContractError(f"width/height must be positive integers, not {w!r}x{h!r}", path=path, field=f))
            continue
        if im["id"] in by_id:
            refuse(ContractError(f"image id {im['id']!r} appears twice", path=path, field=f"{f}.id"))
            continue
        by_id[im["id"]] = {"image": im, "boxes": []}
        order.append(im["id"])
    for j, a in enumerate(anns):
        f = f"annotations[{j}]"
        if not isinstance(a, Mapping):
            refuse(ContractError("an annotation is an object", path=path, field=f))
            continue
        image_id = a.get("image_id")
        if image_id not in by_id:
            refuse(ContractError(f"image_id {image_id!r} is not in images", path=path, field=f"{f}.image_id"))
            continue
        cid = a.get("category_id")
        if cid not in cats:
            refuse(ContractError(f"category_id {cid!r} is not in categories", path=path, field=f"{f}.category_id"),
                   image_id)
            continue
        bbox = a.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox)):
            refuse(ContractError("bbox must be [x, y, width, height]", path=path, field=f"{f}.bbox"), image_id)
            continue
        im = by_id[image_id]["image"]
        try:
            box = check_box(Box(cats[cid], *(float(v) for v in bbox)), im["width"], im["height"], path=path,
                            field=f"{f}.bbox")
        except GtflowError as exc:
            refuse(exc, image_id)
            continue
        by_id[image_id]["boxes"].append(box)
    for image_id in order:
        if image_id in bad:
            assert errors is not None
            errors.append(bad[image_id])
            continue
        im = by_id[image_id]["image"]
        yield AnnotatedImage(file=im["file_name"], width=im["width"], height=im["height"],
                             boxes=tuple(by_id[image_id]["boxes"]), source=f"{path}: image id {image_id}")


def read_coco(src: Path | str, *, images_dir: Path | str | None = None,
              errors: list[GtflowError] | None = None) -> tuple[dict[int, str], Iterator[tuple[AnnotatedImage, Path]]]:
    """``(categories, images with their paths)`` of a COCO JSON file; images default to its folder."""
    src = Path(src)
    try:
        doc = json.loads(src.read_bytes())
    except FileNotFoundError as exc:
        raise ContractError("no such file", path=str(src)) from exc
    except json.JSONDecodeError as exc:
        raise ContractError(f"not JSON: {exc.msg}", path=str(src), line=exc.lineno) from exc
    base = Path(images_dir) if images_dir is not None else src.parent
    cats = coco_categories(doc, str(src)) if isinstance(doc, Mapping) else {}
    items = ((item, base / item.file) for item in read_coco_document(doc, str(src), errors=errors))
    return cats, items


def write_coco(items: Iterable[AnnotatedImage], class_names: Mapping[int, str], sink: Sink,
               name: str = "annotations.json") -> int:
    """One COCO document ``name``; categories ``id = class id + 1``. Returns the image count."""
    ids = {n: cid for cid, n in class_names.items()}
    n_images = 0
    with tempfile.TemporaryDirectory(prefix="gtflow-coco-") as tmp:
        img_path, ann_path = Path(tmp) / "images", Path(tmp) / "annotations"
        ann_id = 0
        with open(img_path, "w", encoding="utf-8") as fi, open(ann_path, "w", encoding="utf-8") as fa:
            for item in items:
                n_images += 1
                fi.write(("," if n_images > 1 else "") + json.dumps(
                    {"id": n_images, "file_name": item.file, "width": item.width, "height": item.height}))
                for b in item.boxes:
                    ann_id += 1
                    if b.label not in ids:
                        raise ContractError(f"class {b.label!r} is not in the class map", path=item.source)
                    fa.write(("," if ann_id > 1 else "") + json.dumps(
                        {"id": ann_id, "image_id": n_images, "category_id": ids[b.label] + 1,
                         "bbox": [b.left, b.top, b.width, b.height], "area": b.width * b.height, "iscrowd": 0}))
        cats = [{"id": cid + 1, "name": n, "supercategory": "none"} for cid, n in sorted(class_names.items())]
        with sink.open(name) as out:
            out.write(b'{"info": {"description": "exported by gtflow"}, "licenses": [], "images": [')
            with open(img_path, "rb") as fh:
                shutil.copyfileobj(fh, out)
            out.write(b'], "annotations": [')
            with open(ann_path, "rb") as fh:
                shutil.copyfileobj(fh, out)
            out.write(b'], "categories": ' + json.dumps(cats).encode() + b"}\n")
    return n_images
