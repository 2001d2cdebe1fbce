"""The SageMaker Object Detection algorithm's other documented inputs.

- **Image + JSON** (channels ``train``/``validation`` with images and ``train_annotation``/
  ``validation_annotation`` with one JSON per image, same stem)::

      {"file": "a.jpg", "image_size": [{"width": 500, "height": 400, "depth": 3}],
       "annotations": [{"class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128}],
       "categories": [{"class_id": 0, "name": "dog"}]}

- **.lst for im2rec** (``im2rec.py --pack-label`` turns it into RecordIO): tab-separated
  ``index, 2, 5, [class_id, xmin, ymin, xmax, ymax]*, path`` with corners normalised to [0, 1].

RecordIO itself is not written: the only writer is MXNet's ``im2rec``/``mx.recordio``, and
Apache MXNet was retired to the Apache Attic in 2023 (no maintained library writes it).

    >>> from gtflow.formats._types import AnnotatedImage, Box
    >>> item = AnnotatedImage("a.jpg", 200, 100, 3, (Box("dog", 20, 10, 100, 50),))
    >>> lst_line(0, item, {"dog": 0})
    '0\\t2\\t5\\t0\\t0.100000\\t0.100000\\t0.600000\\t0.600000\\ta.jpg\\n'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gtflow.formats._types import AnnotatedImage, Sink

__all__ = ["annotation_json", "lst_line", "write_annotation_json", "write_lst"]


def _px(v: float) -> int:
    return int(round(v))


def annotation_json(item: AnnotatedImage, class_ids: Mapping[str, int]) -> dict[str, Any]:
    """The per-image annotation document (pixels, left/top/width/height)."""
    used = sorted({class_ids[b.label] for b in item.boxes})
    names = {i: n for n, i in class_ids.items()}
    return {
        "file": item.file,
        "image_size": [{"width": item.width, "height": item.height, "depth": item.depth}],
        "annotations": [{"class_id": class_ids[b.label], "left": _px(b.left), "top": _px(b.top),
                         "width": _px(b.width), "height": _px(b.height)} for b in item.boxes],
        "categories": [{"class_id": i, "name": names[i]} for i in used],
    }


def lst_line(index: int, item: AnnotatedImage, class_ids: Mapping[str, int]) -> str:
    """One im2rec ``.lst`` line (header width 2, label width 5, normalised corners)."""
    cols = [str(index), "2", "5"]
    for b in item.boxes:
        cols += [str(class_ids[b.label]), f"{b.left / item.width:.6f}", f"{b.top / item.height:.6f}",
                 f"{b.right / item.width:.6f}", f"{b.bottom / item.height:.6f}"]
    cols.append(item.file)
    return "\t".join(cols) + "\n"


def write_annotation_json(items: Iterable[AnnotatedImage], class_names: Mapping[int, str], sink: Sink,
                          folder: str = "annotations") -> int:
    """``<folder>/<stem>.json`` per image (the ``*_annotation`` channel's content)."""
    ids = {n: i for i, n in class_names.items()}
    n = 0
    for item in items:
        doc = annotation_json(item, ids)
        sink.put(f"{folder}/{Path(item.file).with_suffix('.json').as_posix()}",
                 (json.dumps(doc, indent=1) + "\n").encode())
        n += 1
    return n


def write_lst(items: Iterable[AnnotatedImage], class_names: Mapping[int, str], sink: Sink,
              name: str = "dataset.lst") -> int:
    """One ``.lst`` file for ``im2rec.py --pack-label``."""
    ids = {n: i for i, n in class_names.items()}
    n = 0
    with sink.open(name) as out:
        for n, item in enumerate(items, start=1):
            out.write(lst_line(n - 1, item, ids).encode())
    return n
