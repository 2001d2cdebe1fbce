"""Lint for SageMaker Object Detection training manifests (augmented manifests of GT boxes).

The built-in algorithm reads ``AttributeNames = ["source-ref", "<label attribute>"]`` from
every line, in Pipe mode, and fails with little explanation when a line is off. These are the
checks that catch it before a job is launched (CONTRACTS.md 3.2 and 3.7):

* ``source-ref`` present on every line, a string (an ``s3://`` URI on AWS);
* ``<attr>.image_size`` a list with one ``{width, height, depth}`` of positive integers;
* ``<attr>.annotations[]`` of integer ``class_id`` and pixel ``left, top, width, height``
  with the box inside the image, ``0 <= class_id < num_classes``; fractional pixels (GT's
  consolidated multi-worker lines have ``588.5``) are read as :mod:`gtflow.wire` reads them
  and noted (``info``): ``train prepare`` writes whole pixels;
* ``<attr>-metadata.objects`` index-aligned with ``annotations``; one class name per id
  across all lines (``class-map``);
* images with no boxes reported per policy (error / warn / drop);
* ``label_width >= 2 + 5 x (most boxes on one image)``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from gtflow.manifest.limits import attribute_name_problems
from gtflow.manifest.problems import ProblemSink
from gtflow.wire.output import ObjectDetectionMetadata

__all__ = ["ObjectDetectionLint", "EmptyPolicy", "EMPTY_POLICIES", "DEFAULT_LABEL_WIDTH", "OD_TYPE"]

EmptyPolicy = Literal["error", "warn", "drop"]
EMPTY_POLICIES: tuple[str, ...] = ("error", "warn", "drop")
#: The algorithm's default ``label_width`` hyperparameter.
DEFAULT_LABEL_WIDTH = 350
OD_TYPE = "groundtruth/object-detection"


_CLASS_MAP = ObjectDetectionMetadata.key_of("class_map")  # the spelling lives in gtflow.wire


class _SlowPath(Exception):
    """A box needs the detailed checks."""


def _is_int(v: Any) -> bool:
    return type(v) is int  # bool is not a pixel count


def _is_pixel(v: Any) -> bool:
    """The one rule of :data:`gtflow.wire.Pixel`: an integer or a finite fraction."""
    return type(v) is int or (type(v) is float and math.isfinite(v))


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
        # distinct class-maps already merged -> the ids they name
        self._maps: dict[Any, set[int]] = {}
        self._map_problem = False
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
        if type(src) is not str or not src.startswith("s3://"):
            self._source_problem(n, src)

        label = rec.get(attr)
        if type(label) is not dict:
            if label is None:
                add(n, attr, "missing (the label attribute must be on every line)", "error")
            else:
                add(n, attr, "must be an object with image_size and annotations", "error")
            return True

        # The common case in one expression; the slow path says what is wrong.
        size = label.get("image_size")
        if not (
            type(size) is list
            and len(size) == 1
            and type(s := size[0]) is dict
            and type(width := s.get("width")) is int
            and width > 0
            and type(height := s.get("height")) is int
            and height > 0
            and s.get("depth") == 3
        ):
            width, height = self._size_problems(n, attr, size)

        anns = label.get("annotations")
        if type(anns) is not list:
            add(n, f"{attr}.annotations", "missing" if anns is None else "must be a list", "error")
            return True
        count = len(anns)
        keep = True
        if count == 0:
            keep = self._no_boxes(n, attr)
        elif count > self.max_boxes:
            self.max_boxes = count
            self.max_boxes_line = n
        self.boxes += count

        meta = rec.get(self.meta_key)
        known = self._check_metadata(n, meta, count) if meta is not None else None

        num_classes = self.num_classes if self.num_classes is not None else 1 << 62
        max_x = width if width is not None else 1 << 62
        max_y = height if height is not None else 1 << 62
        add_id = self.class_ids.add
        unnamed = None
        # Subscripts in a try are cheaper than .get() calls; any surprise (a missing key, a
        # box that is not an object, a bad value) re-checks the line on the slow path.
        try:
            for a in anns:
                cid = a["class_id"]
                left = a["left"]
                top = a["top"]
                w = a["width"]
                h = a["height"]
                if not (
                    type(cid) is int
                    and type(left) is int
                    and type(top) is int
                    and type(w) is int
                    and type(h) is int
                    and 0 <= cid < num_classes
                    and left >= 0
                    and top >= 0
                    and w > 0
                    and h > 0
                    and left + w <= max_x
                    and top + h <= max_y
                ):
                    raise _SlowPath
                add_id(cid)
                if known is not None and cid not in known:
                    unnamed = cid
        except (_SlowPath, KeyError, TypeError, IndexError):
            unnamed = self._boxes_slow(n, attr, anns, width, height, known)
        if unnamed is not None:
            self.add(n, f"{self.meta_key}.class-map", f"has no name for class_id {unnamed}", "warning")
        return keep

    def _boxes_slow(
        self, n: int, attr: str, anns: list[Any], width: int | None, height: int | None, known: set[int] | None
    ) -> int | None:
        unnamed = None
        for i, a in enumerate(anns):
            if type(a) is not dict:
                self.add(n, f"{attr}.annotations[{i}]", "must be an object", "error")
                continue
            cid = a.get("class_id")
            self._box_problems(
                n, f"{attr}.annotations[{i}]", cid, a.get("left"), a.get("top"), a.get("width"), a.get("height"), width, height
            )
            if known is not None and type(cid) is int and cid >= 0 and cid not in known:
                unnamed = cid
        return unnamed

    def _source_problem(self, n: int, src: Any) -> None:
        if src is None:
            self.add(n, "source-ref", "missing (the first of AttributeNames)", "error")
        elif type(src) is not str:
            self.add(n, "source-ref", "must be a string URI", "error")
        else:
            self.add(n, "source-ref", "is not an s3:// URI", "warning")

    def _size_problems(self, n: int, attr: str, size: Any) -> tuple[int | None, int | None]:
        add = self.add
        if size is None:
            add(n, f"{attr}.image_size", "missing (a list with one {width, height, depth})", "error")
            return None, None
        if type(size) is not list or len(size) != 1 or type(size[0]) is not dict:
            add(n, f"{attr}.image_size", "must be a list with one {width, height, depth} object", "error")
            return None, None
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
        return width, height

    def _no_boxes(self, n: int, attr: str) -> bool:
        self.empty += 1
        policy = self.empty_policy
        if policy == "drop":
            self.dropped += 1
            self.add(n, f"{attr}.annotations", "image has no boxes: dropped", "info")
            return False
        self.add(n, f"{attr}.annotations", "image has no boxes", "error" if policy == "error" else "warning")
        return True

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
            if _is_int(v):
                continue
            if _is_pixel(v):  # GT writes half pixels in consolidated multi-worker lines
                add(n, f"{where}.{name}", f"fractional pixel {v!r:.40}: read as is; train prepare writes "
                    "whole pixels (half up)", "info")
                continue
            add(n, f"{where}.{name}", "missing" if v is None else f"must be a pixel value (a number), not {v!r:.40}", "error")
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

    def _check_metadata(self, n: int, meta: Any, count: int) -> set[int] | None:
        """Check ``<attr>-metadata``; the class ids its class-map names (None if it has none)."""
        add = self.add
        mk = self.meta_key
        if type(meta) is not dict:
            add(n, mk, "must be an object", "warning")
            return None
        objs = meta.get("objects")
        if objs is not None:
            if type(objs) is not list:
                add(n, f"{mk}.objects", "must be a list (one {confidence} per annotation)", "error")
            elif len(objs) != count:
                add(n, f"{mk}.objects", f"has {len(objs)} entries but annotations has {count}; they must align", "error")
        kind = meta.get("type")
        if kind != OD_TYPE and kind is not None:
            add(n, f"{mk}.type", f"is {kind!r:.60}, expected {OD_TYPE!r}", "warning")
        cmap = meta.get(_CLASS_MAP)
        if cmap is None:
            return None
        if type(cmap) is not dict:
            add(n, f"{mk}.class-map", "must be an object of class id -> name", "error")
            return None
        # Lines repeat a handful of class-maps: each distinct one is merged once.
        try:
            key: Any = tuple(cmap.items())
            known = self._maps.get(key)
        except TypeError:  # a name that is not hashable
            key, known = None, None
        if known is None:
            known = self._merge_class_map(n, cmap)
            if key is not None and not self._map_problem:
                if len(self._maps) >= 4096:
                    self._maps.clear()
                self._maps[key] = known
        return known

    def _merge_class_map(self, n: int, cmap: dict[str, Any]) -> set[int]:
        add = self.add
        mk = self.meta_key
        known: set[int] = set()
        self._map_problem = False
        for key, name in cmap.items():
            try:
                cid = int(key)
            except ValueError:
                add(n, f"{mk}.class-map.{key}", "keys must be class ids (integers as strings)", "error")
                self._map_problem = True
                continue
            known.add(cid)
            seen = self.names.get(cid)
            if seen is None:
                self.names[cid] = (name, n)
                other = self.ids.get(name) if type(name) is str else None
                if other is not None and other[0] != cid:
                    add(n, f"{mk}.class-map.{key}", f"name {name!r:.60} is class {other[0]} on line {other[1]}", "warning")
                    self._map_problem = True
                elif type(name) is str:
                    self.ids[name] = (cid, n)
            elif seen[0] != name:
                add(n, f"{mk}.class-map.{key}", f"is {name!r:.60} but line {seen[1]} named class {cid} {seen[0]!r:.60}", "error")
                self._map_problem = True
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
