"""YOLO txt labels: one ``labels/<stem>.txt`` per image, lines ``class cx cy w h`` normalised to [0, 1].

Class names come from ``classes.txt`` / ``obj.names`` (one per line) or ``data.yaml``
(``names:`` list or ``{id: name}``), found in the dataset folder, or given. Image sizes are
read from the image headers (Pillow). A line that is not five numbers (a segmentation polygon,
say) is refused as ``labels/x.txt:LINE``. The export writes ``classes.txt`` and
``labels/<stem>.txt`` with 6 decimals, so a round trip keeps every box to a pixel.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from gtflow.errors import ContractError, GtflowError
from gtflow.formats._types import AnnotatedImage, Box, Sink, check_box, image_size_of
from gtflow.wire.output import ObjectDetectionMetadata

__all__ = ["read_yolo", "read_yolo_classes", "yolo_lines", "write_yolo", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def read_yolo_classes(path: Path) -> list[str]:
    """Class names from a names file (``classes.txt``/``obj.names``) or a ``data.yaml``."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ContractError(f"not YAML: {exc}", path=str(path)) from exc
        names: Any = doc.get("names") if isinstance(doc, Mapping) else None
        if isinstance(names, Mapping):
            keys = sorted(int(k) for k in names)
            if keys != list(range(len(keys))):
                raise ContractError("names ids must be 0..K-1", path=str(path), field="names")
            return [str(names[k]) for k in keys]
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return list(names)
        raise ContractError("names must be a list or {id: name}", path=str(path), field="names")
    names = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    while names and not names[-1]:
        names.pop()
    for i, n in enumerate(names):
        if not n:
            raise ContractError("blank class name", path=str(path), line=i + 1)
    return names


def _find_classes(src: Path) -> Path:
    for name in ("classes.txt", "obj.names", "data.yaml", "dataset.yaml"):
        if (src / name).is_file():
            return src / name
    raise ContractError("no class names: put classes.txt, obj.names or data.yaml in the folder, or give them",
                        path=str(src))


def _dirs(src: Path) -> tuple[Path, Path]:
    if (src / "images").is_dir():
        return src / "images", (src / "labels" if (src / "labels").is_dir() else src / "images")
    return src, src


def _read_labels(path: Path, names: list[str], width: int, height: int) -> tuple[Box, ...]:
    boxes = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise ContractError(f"expected 'class cx cy w h', got {len(parts)} values", path=str(path), line=n)
        try:
            cls = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:])
        except ValueError:
            raise ContractError(f"not numbers: {raw.strip()!r}", path=str(path), line=n) from None
        if not 0 <= cls < len(names):
            raise ContractError(f"class {cls} is not in the {len(names)} class names", path=str(path), line=n,
                                field="class")
        for v, what in ((cx, "cx"), (cy, "cy"), (w, "w"), (h, "h")):
            if not 0.0 <= v <= 1.0:
                raise ContractError(f"{what}={v:g} is not normalised to [0, 1]", path=str(path), line=n, field=what)
        box = Box(names[cls], (cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
        # half-pixel slack: normalised centres round both ways
        box = Box(box.label, max(0.0, box.left), max(0.0, box.top), box.width, box.height)
        boxes.append(check_box(box, width, height, path=str(path), line=n, field="box"))
    return tuple(boxes)


def read_yolo(src: Path | str, *, classes: Path | str | None = None,
              errors: list[GtflowError] | None = None) -> tuple[list[str], Iterator[tuple[AnnotatedImage, Path]]]:
    """``(class names, images with their paths)`` of a YOLO folder (``images/`` + ``labels/``).

    An image without a label file has no objects (YOLO's convention).
    """
    src = Path(src)
    names = read_yolo_classes(Path(classes) if classes is not None else _find_classes(src))
    img_dir, lbl_dir = _dirs(src)

    def items() -> Iterator[tuple[AnnotatedImage, Path]]:
        for img in sorted(p for p in img_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            rel = img.relative_to(img_dir)
            lbl = (lbl_dir / rel).with_suffix(".txt")
            try:
                w, h, d = image_size_of(img)
                boxes = _read_labels(lbl, names, w, h) if lbl.is_file() else ()
            except GtflowError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            yield AnnotatedImage(file=rel.as_posix(), width=w, height=h, depth=d, boxes=boxes, source=str(lbl)), img

    return names, items()


def yolo_lines(item: AnnotatedImage, class_ids: Mapping[str, int]) -> str:
    """The ``labels/<stem>.txt`` text for ``item``."""
    out = []
    for b in item.boxes:
        cx, cy = (b.left + b.width / 2) / item.width, (b.top + b.height / 2) / item.height
        out.append(f"{class_ids[b.label]} {cx:.6f} {cy:.6f} {b.width / item.width:.6f} {b.height / item.height:.6f}")
    return "".join(line + "\n" for line in out)


def write_yolo(items: Iterable[AnnotatedImage], class_names: Mapping[int, str], sink: Sink) -> int:
    """``classes.txt`` (ids 0..K-1) and ``labels/<stem>.txt`` per image."""
    ids = sorted(class_names)
    if ids != list(range(len(ids))):
        raise ContractError(f"YOLO needs class ids 0..K-1, the class map has {ids}", field=ObjectDetectionMetadata.key_of("class_map"))
    sink.put("classes.txt", "".join(class_names[i] + "\n" for i in ids).encode())
    by_name = {n: i for i, n in class_names.items()}
    n = 0
    for item in items:
        sink.put(f"labels/{Path(item.file).with_suffix('.txt').as_posix()}", yolo_lines(item, by_name).encode())
        n += 1
    return n
