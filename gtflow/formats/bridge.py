"""Dataset formats <-> Ground Truth object-detection augmented manifests.

Import writes one manifest line per image, exactly as a GT bounding-box job does
(``image_size``, integer ``annotations``, ``-metadata`` with ``class-map``, ``objects``,
``type: groundtruth/object-detection``, ``human-annotated: yes``, ``creation-date``,
``job-name: labeling-job/<name>``), streaming: each image is read, copied into the store (or
only referenced) and written before the next. Invalid annotations raise ContractError naming
the file and line/element; with ``skip_invalid`` they are left out **and** reported one by one
in :class:`ImportReport.invalid` (never silently dropped).

Export reads a manifest line by line and writes VOC, COCO, YOLO, the algorithm's image+JSON
format or an im2rec ``.lst``; images are copied next to the labels on request.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from gtflow.errors import ContractError, GtflowError, UsageError
from gtflow.formats._types import AnnotatedImage, Box, ImportReport, Sink
from gtflow.wire.output import ObjectDetectionMetadata

# The metadata key a class-id clash is reported under, as the wire type spells it.
_CLASS_MAP = ObjectDetectionMetadata.key_of("class_map")

__all__ = ["IMPORT_FORMATS", "EXPORT_FORMATS", "to_manifest_line", "from_manifest_line", "import_dataset",
           "export_manifest", "manifest_class_map"]

IMPORT_FORMATS = ("voc", "coco", "yolo")
EXPORT_FORMATS = ("voc", "coco", "yolo", "sagemaker-json", "lst")


def _corners(b: Box) -> dict[str, Any]:
    # round the corners, not the size, so the right/bottom edge stays where it was
    x0, y0, x1, y1 = round(b.left), round(b.top), round(b.right), round(b.bottom)
    return {"label": b.label, "left": x0, "top": y0, "width": max(1, x1 - x0), "height": max(1, y1 - y0)}


def to_manifest_line(item: AnnotatedImage, source_ref: str, class_names: Mapping[int, str], *,
                     label_attribute: str = "bounding-box", job_name: str = "gtflow-import",
                     creation_date: str | _dt.datetime | None = None) -> dict[str, Any]:
    """The GT output-manifest line for ``item`` (pixel corners rounded to integers).

        >>> line = to_manifest_line(AnnotatedImage("a.jpg", 50, 40, 3, (Box("dog", 1, 2, 10, 20),)),
        ...     "s3://bkt/a.jpg", {0: "dog"}, creation_date="2026-01-01T00:00:00.000000")
        >>> line["bounding-box"]["annotations"] == [{"class_id": 0, "left": 1, "top": 2, "width": 10, "height": 20}]
        True
    """
    from gtflow.wire.output import labeling_job_ref, metadata_key, object_detection_label

    names = [class_names[i] for i in sorted(class_names)]
    if sorted(class_names) != list(range(len(names))):
        raise UsageError(f"class ids must be 0..K-1, not {sorted(class_names)}", field=_CLASS_MAP)
    label, meta = object_detection_label(
        [_corners(b) for b in item.boxes], names, image_width=item.width, image_height=item.height,
        image_depth=item.depth, job_name=labeling_job_ref(job_name), confidences=1.0,
        creation_date=creation_date, full_class_map=True)
    return {"source-ref": source_ref, label_attribute: label.to_dict(), metadata_key(label_attribute): meta.to_dict()}


def from_manifest_line(record: Mapping[str, Any], label_attribute: str, *, line: int | None = None,
                       path: str | None = None, file: str | None = None) -> tuple[AnnotatedImage, dict[int, str]]:
    """``(image, its class map)`` of a manifest line; ``file`` defaults to the source-ref's name."""
    from gtflow.wire.output import ObjectDetectionLabel, ObjectDetectionMetadata, metadata_key

    def where(exc: GtflowError) -> GtflowError:
        return exc.at(path=path, line=line)

    src = record.get("source-ref")
    if not isinstance(src, str):
        raise where(ContractError("missing source-ref", field="source-ref"))
    if label_attribute not in record:
        raise where(ContractError("missing label attribute", field=label_attribute))
    mkey = metadata_key(label_attribute)
    try:
        label = ObjectDetectionLabel.from_dict(record[label_attribute], label_attribute)
        meta = ObjectDetectionMetadata.from_dict(record.get(mkey, {}), mkey)
    except GtflowError as exc:
        raise where(exc) from None
    cmap = {int(k): str(v) for k, v in meta.class_map.items()}
    boxes = []
    for i, a in enumerate(label.annotations):
        if a.class_id not in cmap:
            raise where(ContractError(f"class_id {a.class_id} is not in the class-map",
                                      field=f"{label_attribute}.annotations[{i}].class_id"))
        boxes.append(Box(cmap[a.class_id], float(a.left), float(a.top), float(a.width), float(a.height)))
    size = label.image_size[0]
    name = file or PurePosixPath(src.split("://", 1)[-1]).name
    return AnnotatedImage(file=name, width=size.width, height=size.height, depth=size.depth or 3,
                          boxes=tuple(boxes), source=f"{path}:{line}" if path else ""), cmap


def _mtime(path: Path) -> str | None:
    try:
        t = _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.timezone.utc)
    except OSError:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _read(fmt: str, src: str, images_dir: str | None, classes: str | None,
          errors: list[GtflowError] | None) -> tuple[list[str] | None, Callable[[], Iterator[tuple[AnnotatedImage, Path]]]]:
    """``(class names if the format lists them, a function that yields the images)``."""
    if fmt == "voc":
        from gtflow.formats.voc import read_voc

        names = None
        if classes is not None:
            from gtflow.formats.yolo import read_yolo_classes

            names = read_yolo_classes(Path(classes))
        return names, lambda: read_voc(src, images_dir=images_dir, errors=errors)
    if fmt == "coco":
        from gtflow.formats.coco import read_coco

        cats, items = read_coco(src, images_dir=images_dir, errors=errors)
        return list(cats.values()), lambda: items
    if fmt == "yolo":
        from gtflow.formats.yolo import read_yolo

        yolo_names, yitems = read_yolo(src, classes=classes, errors=errors)
        return yolo_names, lambda: yitems
    raise UsageError(f"format must be one of {', '.join(IMPORT_FORMATS)}, not {fmt!r}", field="--format")


def import_dataset(fmt: str, src: str, dest: Any, *, store: Any = None, images_to: str | None = None,
                   image_prefix: str | None = None, images_dir: str | None = None, classes: str | None = None,
                   label_attribute: str = "bounding-box", job_name: str | None = None,
                   skip_invalid: bool = False) -> ImportReport:
    """Read a VOC folder, COCO file or YOLO folder and write a GT augmented manifest to ``dest``.

    Images are copied to ``images_to`` (an ``s3://`` prefix in ``store``; the local backend keeps
    it in a folder) or only referenced under ``image_prefix`` (where they already are). Class ids
    follow the dataset's class list (COCO category order, YOLO names, ``classes`` for VOC, else
    the sorted VOC names). The manifest is written atomically; nothing is written on an error
    unless ``skip_invalid``.
    """
    from gtflow.manifest import attribute_name_problems, write_manifest

    if bool(images_to) == bool(image_prefix):
        raise UsageError("give one of --images-to (copy the images) and --image-prefix (they are already there)")
    prefix = str(images_to or image_prefix).rstrip("/")
    if not prefix.startswith("s3://"):
        raise UsageError(f"{prefix!r}: source-ref must be an s3:// URI (on the local backend, a place in the store)",
                         field="--images-to" if images_to else "--image-prefix")
    if images_to and store is None:
        raise UsageError("copying images needs a store", field="store")
    problems = attribute_name_problems(label_attribute)
    if problems:
        raise UsageError(f"invalid label attribute {label_attribute!r}: {problems[0]}", field="--label-attribute")
    report = ImportReport()
    errors: list[GtflowError] | None = report.invalid if skip_invalid else None
    names, items = _read(fmt, src, images_dir, classes, errors)
    if names is None:  # VOC without a class list: the sorted names (a first, light pass)
        seen: set[str] = set()
        for item, _ in items():
            seen.update(b.label for b in item.boxes)
        report.invalid.clear()
        names = sorted(seen)
    class_names = dict(enumerate(names))
    report.classes = class_names
    job = job_name or f"gtflow-import-{fmt}"

    def lines() -> Iterator[dict[str, Any]]:
        for item, image_path in items():
            unknown = sorted({b.label for b in item.boxes} - set(names))
            if unknown:
                exc = ContractError(f"class {unknown[0]!r} is not in the class list", path=item.source)
                if errors is None:
                    raise exc
                errors.append(exc)
                continue
            uri = f"{prefix}/{item.file}"
            if images_to:
                try:
                    data = image_path.read_bytes()
                except OSError as exc:
                    err = ContractError(f"image not readable: {exc.strerror}", path=str(image_path))
                    if errors is None:
                        raise err from exc
                    errors.append(err)
                    continue
                store.put_bytes(uri, data)
                report.copied += 1
            report.images += 1
            report.boxes += len(item.boxes)
            report.empty += not item.boxes
            yield to_manifest_line(item, uri, class_names, label_attribute=label_attribute, job_name=job,
                                   creation_date=_mtime(Path(item.source.split(": ")[0])) or _mtime(image_path))

    write_manifest(dest, lines(), store=store if str(dest).startswith("s3://") else None)
    return report


def manifest_class_map(records: Iterable[tuple[int, Mapping[str, Any]]], label_attribute: str,
                       path: str | None = None) -> dict[int, str]:
    """The union of the lines' class maps (one id, one name: a clash is a ContractError)."""
    out: dict[int, str] = {}
    for line, rec in records:
        _, cmap = from_manifest_line(rec, label_attribute, line=line, path=path)
        for k, v in cmap.items():
            if out.setdefault(k, v) != v:
                raise ContractError(f"class id {k} is {out[k]!r} on earlier lines and {v!r} here",
                                    path=path, line=line, field=_CLASS_MAP)
    return dict(sorted(out.items()))


def export_manifest(fmt: str, manifest: str, dest: str, *, store: Any = None, label_attribute: str = "bounding-box",
                    class_map: Mapping[int, str] | None = None, image_prefix: str | None = None,
                    copy_images: bool = False) -> ImportReport:
    """Write the boxes of an object-detection manifest as ``fmt`` under ``dest`` (a folder or s3:// prefix).

    Image files are named by their path under ``image_prefix`` (default: the source-ref's file
    name; two images with one name are refused). ``copy_images`` copies them to ``images/``
    (``JPEGImages/`` for VOC) from the store or the local disk.
    """
    from gtflow.manifest import read_manifest

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}", field="--format")
    src_store = store if manifest.startswith("s3://") else None

    def records() -> Iterator[tuple[int, Mapping[str, Any]]]:
        return ((ml.line, ml.record) for ml in read_manifest(manifest, store=src_store))

    cmap = dict(class_map) if class_map is not None else manifest_class_map(records(), label_attribute, manifest)
    sink = Sink(dest, store)
    report = ImportReport(classes=cmap)
    pre = image_prefix.rstrip("/") + "/" if image_prefix else None
    image_folder = "JPEGImages" if fmt == "voc" else "images"
    names_seen: dict[str, str] = {}

    def items() -> Iterator[AnnotatedImage]:
        for line, rec in records():
            src = str(rec.get("source-ref", ""))
            file = src[len(pre):] if pre and src.startswith(pre) else None
            item, line_map = from_manifest_line(rec, label_attribute, line=line, path=manifest, file=file)
            for k, v in line_map.items():
                if cmap.get(k) != v:
                    raise ContractError(f"class id {k} is {v!r} here but {cmap.get(k)!r} in the class map",
                                        path=manifest, line=line, field=_CLASS_MAP)
            if names_seen.setdefault(item.file, src) != src:
                raise ContractError(f"two images are named {item.file!r} ({names_seen[item.file]} and {src}); "
                                    "give --image-prefix to keep their folders", path=manifest, line=line)
            if copy_images:
                data = store.get_bytes(src) if src.startswith("s3://") else Path(src).read_bytes()
                sink.put(f"{image_folder}/{item.file}", data)
                report.copied += 1
            report.images += 1
            report.boxes += len(item.boxes)
            report.empty += not item.boxes
            yield item

    if fmt == "voc":
        from gtflow.formats.voc import write_voc

        write_voc(items(), sink)
    elif fmt == "coco":
        from gtflow.formats.coco import write_coco

        write_coco(items(), cmap, sink)
    elif fmt == "yolo":
        from gtflow.formats.yolo import write_yolo

        write_yolo(items(), cmap, sink)
    elif fmt == "sagemaker-json":
        from gtflow.formats.sagemaker_od import write_annotation_json

        write_annotation_json(items(), cmap, sink)
    else:
        from gtflow.formats.sagemaker_od import write_lst

        write_lst(items(), cmap, sink)
    return report
