"""Lint for SageMaker Object Detection training manifests (augmented manifests of GT boxes).

The built-in algorithm reads ``AttributeNames = ["source-ref", "<label attribute>"]`` from
every line, in Pipe mode, and fails with little explanation when a line is off. These are the
checks that catch it before a job is launched (CONTRACTS.md 3.2 and 3.7):

* ``source-ref`` present on every line, a string (an ``s3://`` URI on AWS);
* ``<attr>.image_size`` a list with one ``{width, height, depth}`` of positive integers;
* ``<attr>.annotations[]`` of integer ``class_id, left, top, width, height`` with the box
  inside the image, ``0 <= class_id < num_classes``;
* ``<attr>-metadata.objects`` index-aligned with ``annotations``; one class name per id
  across all lines (``class-map``);
* images with no boxes reported per policy (error / warn / drop);
* ``label_width >= 2 + 5 x (most boxes on one image)``.
"""

from __future__ import annotations

from typing import Any, Literal

from gtflow.manifest.limits import attribute_name_problems
from gtflow.manifest.problems import ProblemSink

__all__ = ["ObjectDetectionLint", "EmptyPolicy", "EMPTY_POLICIES", "DEFAULT_LABEL_WIDTH", "OD_TYPE"]

EmptyPolicy = Literal["error", "warn", "drop"]
EMPTY_POLICIES: tuple[str, ...] = ("error", "warn", "drop")
#: The algorithm's default ``label_width`` hyperparameter.
DEFAULT_LABEL_WIDTH = 350
OD_TYPE = "groundtruth/object-detection"


def _is_int(v: Any) -> bool:
    return type(v) is int  # bool is not a pixel count


def find_label_attributes(record: dict[str, Any]) -> list[str]:
    """Attributes of ``record`` that look like object-detection labels."""
    return [
        k for k, v in record.items() if type(v) is dict and "annotations" in v and not k.endswith("-metadata")
    ]


class ObjectDetectionLint:
    """Checks one line at a time (:meth:`check`) and then the file as a whole (:meth:`finish`).

    Memory is bounded by the number of classes and the most boxes on one image, never by the
    number of lines.
    """

    def __init__(
        self,
        add: ProblemSink,
        *,
        label_attribute: str | None,
        num_classes: int | None = None,
        empty_policy: EmptyPolicy = "warn",
        label_width: int | None = None,
    ) -> None:
        self.add = add
        self.attr = label_attribute
        self.meta_key = f"{label_attribute}-metadata" if label_attribute else ""
        self.num_classes = num_classes
        self.empty_policy = empty_policy
        self.label_width = label_width
        self.enabled = True
        self.boxes = 0
        self.max_boxes = 0
        self.max_boxes_line: int | None = None
        self.empty = 0
        self.dropped = 0
        self.class_ids: set[int] = set()
        # class id -> (name, first line); name -> (class id, first line)
        self.names: dict[int, tuple[str, int]] = {}
        self.ids: dict[str, tuple[int, int]] = {}
        self._last_map: Any = None
        self._last_ids: set[int] = set()
        if label_attribute is not None:
            self._check_name(label_attribute)

    def _check_name(self, attr: str) -> None:
        for message in attribute_name_problems(attr):
            self.add(None, "label_attribute", f"not usable in AttributeNames: {message}", "error")

    # -- one line ----------------------------------------------------------------------------
    def check(self, rec: dict[str, Any], n: int) -> bool:
        """Report the problems of record ``rec`` (line ``n``); False if the line is dropped."""
        if not self.enabled:
            return True
        add = self.add
        attr = self.attr
        if attr is None:
            found = find_label_attributes(rec)
            if len(found) != 1:
                what = f"several ({', '.join(found)})" if found else "none"
                add(n, "label_attribute", f"cannot tell the label attribute: {what} found; pass label_attribute", "error")
                self.enabled = False
                return True
            attr = self.attr = found[0]
            self.meta_key = f"{attr}-metadata"
            self._check_name(attr)

        src = rec.get("source-ref")
        if src is None:
            add(n, "source-ref", "missing (the first of AttributeNames)", "error")
        elif type(src) is not str:
            add(n, "source-ref", "must be a string URI", "error")
        elif not src.startswith("s3://"):
            add(n, "source-ref", "is not an s3:// URI", "warning")

        label = rec.get(attr)
        if label is None:
            add(n, attr, "missing (the label attribute must be on every line)", "error")
            return True
        if type(label) is not dict:
            add(n, attr, "must be an object with image_size and annotations", "error")
            return True

        width: Any = None
        height: Any = None
        size = label.get("image_size")
        if size is None:
            add(n, f"{attr}.image_size", "missing (a list with one {width, height, depth})", "error")
        elif type(size) is not list or len(size) != 1 or type(size[0]) is not dict:
            add(n, f"{attr}.image_size", "must be a list with one {width, height, depth} object", "error")
        else:
            s = size[0]
            width, height, depth = s.get("width"), s.get("height"), s.get("depth")
            if not (type(width) is int and width > 0):
                add(n, f"{attr}.image_size[0].width", f"must be a positive integer, not {width!r:.40}", "error")
                width = None
            if not (type(height) is int and height > 0):
                add(n, f"{attr}.image_size[0].height", f"must be a positive integer, not {height!r:.40}", "error")
                height = None
            if depth is None:
                add(n, f"{attr}.image_size[0].depth", "missing", "error")
            elif depth != 3:
                add(n, f"{attr}.image_size[0].depth", f"is {depth!r:.40}; the algorithm takes 3-channel images", "warning")

        anns = label.get("annotations")
        if anns is None:
            add(n, f"{attr}.annotations", "missing", "error")
            return True
        if type(anns) is not list:
            add(n, f"{attr}.annotations", "must be a list", "error")
            return True
        count = len(anns)
        keep = True
        if count == 0:
            self.empty += 1
            policy = self.empty_policy
            if policy == "drop":
                self.dropped += 1
                keep = False
                add(n, f"{attr}.annotations", "image has no boxes: dropped", "info")
            else:
                add(n, f"{attr}.annotations", "image has no boxes", "error" if policy == "error" else "warning")
        elif count > self.max_boxes:
            self.max_boxes = count
            self.max_boxes_line = n
        self.boxes += count

        num_classes = self.num_classes
        ids = self.class_ids
        for i, a in enumerate(anns):
            if type(a) is not dict:
                add(n, f"{attr}.annotations[{i}]", "must be an object", "error")
                continue
            cid = a.get("class_id")
            left, top, w, h = a.get("left"), a.get("top"), a.get("width"), a.get("height")
            if (
                type(cid) is int
                and type(left) is int
                and type(top) is int
                and type(w) is int
                and type(h) is int
                and cid >= 0
                and (num_classes is None or cid < num_classes)
                and left >= 0
                and top >= 0
                and w > 0
                and h > 0
                and (width is None or left + w <= width)
                and (height is None or top + h <= height)
            ):
                ids.add(cid)
                continue
            self._box_problems(n, f"{attr}.annotations[{i}]", cid, left, top, w, h, width, height)

        meta = rec.get(self.meta_key)
        if meta is not None:
            self._check_metadata(n, meta, anns)
        return keep

    def _box_problems(
        self, n: int, where: str, cid: Any, left: Any, top: Any, w: Any, h: Any, width: int | None, height: int | None
    ) -> None:
        add = self.add
        if not _is_int(cid):
            add(n, f"{where}.class_id", "missing" if cid is None else f"must be an integer, not {cid!r:.40}", "error")
        elif cid < 0:
            add(n, f"{where}.class_id", f"is {cid}; class ids start at 0", "error")
        else:
            self.class_ids.add(cid)
            if self.num_classes is not None and cid >= self.num_classes:
                add(n, f"{where}.class_id", f"is {cid}; num_classes is {self.num_classes} (ids 0..{self.num_classes - 1})", "error")
        ok = True
        for name, v in (("left", left), ("top", top), ("width", w), ("height", h)):
            if not _is_int(v):
                add(n, f"{where}.{name}", "missing" if v is None else f"must be an integer pixel value, not {v!r:.40}", "error")
                ok = False
        if not ok:
            return
        if left < 0:
            add(n, f"{where}.left", f"is {left}; boxes must lie inside the image", "error")
        if top < 0:
            add(n, f"{where}.top", f"is {top}; boxes must lie inside the image", "error")
        if w <= 0:
            add(n, f"{where}.width", f"is {w}; boxes need a positive width", "error")
        if h <= 0:
            add(n, f"{where}.height", f"is {h}; boxes need a positive height", "error")
        if width is not None and left + w > width:
            add(n, f"{where}.width", f"box ends at x={left + w}, outside the image (width {width})", "error")
        if height is not None and top + h > height:
            add(n, f"{where}.height", f"box ends at y={top + h}, outside the image (height {height})", "error")

    def _check_metadata(self, n: int, meta: Any, anns: list[Any]) -> None:
        add = self.add
        mk = self.meta_key
        if type(meta) is not dict:
            add(n, mk, "must be an object", "warning")
            return
        objs = meta.get("objects")
        if objs is not None:
            if type(objs) is not list:
                add(n, f"{mk}.objects", "must be a list (one {confidence} per annotation)", "error")
            elif len(objs) != len(anns):
                add(n, f"{mk}.objects", f"has {len(objs)} entries but annotations has {len(anns)}; they must align", "error")
        kind = meta.get("type")
        if kind is not None and kind != OD_TYPE:
            add(n, f"{mk}.type", f"is {kind!r:.60}, expected {OD_TYPE!r}", "warning")
        cmap = meta.get("class-map")
        if cmap is None:
            return
        if cmap != self._last_map:
            if type(cmap) is not dict:
                add(n, f"{mk}.class-map", "must be an object of class id -> name", "error")
                return
            self._last_ids = self._merge_class_map(n, cmap)
            self._last_map = cmap
        known = self._last_ids
        for a in anns:
            cid = a.get("class_id") if type(a) is dict else None
            if type(cid) is int and cid not in known:
                add(n, f"{mk}.class-map", f"has no name for class_id {cid}", "warning")
                break

    def _merge_class_map(self, n: int, cmap: dict[str, Any]) -> set[int]:
        add = self.add
        mk = self.meta_key
        known: set[int] = set()
        for key, name in cmap.items():
            try:
                cid = int(key)
            except ValueError:
                add(n, f"{mk}.class-map.{key}", "keys must be class ids (integers as strings)", "error")
                continue
            known.add(cid)
            seen = self.names.get(cid)
            if seen is None:
                self.names[cid] = (name, n)
                other = self.ids.get(name) if type(name) is str else None
                if other is not None and other[0] != cid:
                    add(n, f"{mk}.class-map.{key}", f"name {name!r:.60} is class {other[0]} on line {other[1]}", "warning")
                elif type(name) is str:
                    self.ids[name] = (cid, n)
            elif seen[0] != name:
                add(n, f"{mk}.class-map.{key}", f"is {name!r:.60} but line {seen[1]} named class {cid} {seen[0]!r:.60}", "error")
        return known

    # -- the whole file ----------------------------------------------------------------------
    def finish(self) -> None:
        """Checks that need every line: the box count against ``label_width``."""
        if not self.enabled or self.max_boxes == 0:
            return
        need = 2 + 5 * self.max_boxes
        if self.label_width is not None:
            if need > self.label_width:
                self.add(
                    self.max_boxes_line,
                    "label_width",
                    f"{self.max_boxes} boxes on this line need label_width >= {need} (got {self.label_width})",
                    "error",
                )
        elif need > DEFAULT_LABEL_WIDTH:
            self.add(
                self.max_boxes_line,
                "label_width",
                f"{self.max_boxes} boxes on this line need label_width >= {need}; the default is {DEFAULT_LABEL_WIDTH}",
                "warning",
            )

    @property
    def class_map(self) -> dict[str, str]:
        return {str(k): v for k, (v, _) in sorted(self.names.items())}
