"""The object-detection lint's fast lane: msgspec decodes a line straight into typed structs
(validating while it parses, in C), when msgspec is installed.

A line that decodes into the common, correct shape (integer pixels inside the image, one
3-channel ``image_size``, ``objects`` aligned, an ``s3://`` ``source-ref``...) is counted here;
anything else, or any line at all without msgspec, takes the pure-Python path
(:meth:`ObjectDetectionLint.check` on ``json.loads``), which says exactly what is wrong. So a
report is the same with and without msgspec (tests/unit/test_manifest_fast.py checks it), and
fractional pixels (read tolerantly, see :data:`gtflow.wire.Pixel`) are noted by the slow path.
State of the lint is changed only after every check of the line has passed, so a line handed
to the slow path is never counted twice.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from gtflow.manifest.limits import SAFE_LINE_CHARS
from gtflow.wire.output import OD_TYPE, ObjectDetectionMetadata, metadata_key

if TYPE_CHECKING:
    from gtflow.manifest.object_detection import ObjectDetectionLint

try:
    import msgspec
except ImportError:  # the pure-Python path gives the same reports
    msgspec = None  # type: ignore[assignment]

__all__ = ["available", "line_decoder", "fast_check", "Lane"]

_CLASS_MAP = ObjectDetectionMetadata.key_of("class_map")


def available() -> bool:
    return msgspec is not None


def line_decoder(attr: str, num_classes: int | None = None) -> Any:
    """A ``msgspec.json.Decoder`` of one OD manifest line whose label attribute is ``attr``
    (unknown keys ignored; a value of another type or out of range raises)."""
    if msgspec is None:
        raise ImportError("msgspec is not installed")
    Meta, UNSET, UnsetType = msgspec.Meta, msgspec.UNSET, msgspec.UnsetType
    cid = Annotated[int, Meta(ge=0)] if num_classes is None else Annotated[int, Meta(ge=0, lt=num_classes)]
    pos = Annotated[int, Meta(ge=0)]
    ext = Annotated[int, Meta(gt=0)]

    # built with defstruct (real types, not string annotations: this module has
    # ``from __future__ import annotations``)
    box = msgspec.defstruct("Box", [("class_id", cid), ("left", pos), ("top", pos), ("width", ext),
                                    ("height", ext)], gc=False)
    size = msgspec.defstruct("Size", [("width", ext), ("height", ext), ("depth", Literal[3])], gc=False)
    label = msgspec.defstruct("Label", [("annotations", list[box]),  # type: ignore[valid-type]
                                        ("image_size", Annotated[list[size], Meta(min_length=1, max_length=1)])],  # type: ignore[valid-type]
                              gc=False)
    entry = msgspec.defstruct("Entry", [], gc=False)  # an objects[i]: any object (its keys are not read)
    meta = msgspec.defstruct("LineMeta", [("objects", list[entry] | None, None),  # type: ignore[valid-type]
                                          ("type", Literal[OD_TYPE] | None, None),
                                          ("class_map", msgspec.Raw, msgspec.Raw(b""))],
                             rename={"class_map": _CLASS_MAP}, gc=False)
    line = msgspec.defstruct(
        "Line",
        [("source_ref", str), ("label", label), ("meta", meta | UnsetType, UNSET)],  # s3:// checked after
        rename={"source_ref": "source-ref", "label": attr, "meta": metadata_key(attr)}, gc=False,
    )
    return msgspec.json.Decoder(line)


class Lane:
    """The msgspec lane of one validation: :meth:`scan` reads the remaining lines in chunks,
    decodes each chunk in one call (``[line,line,...]`` into a list of typed structs) and checks
    the records; a line it does not accept goes to the pure-Python ``one(n, raw)``, in order."""

    CHUNK = 64  # lines per msgspec call: measured 2.5x at 32-64, less from 256 up (cache)

    def __init__(self, lint: ObjectDetectionLint, num_classes: int | None) -> None:
        assert msgspec is not None and lint.attr is not None
        self.lint = lint
        one = line_decoder(lint.attr, num_classes)
        self.decode_one = one.decode
        self.decode_many = msgspec.json.Decoder(list[one.type]).decode  # type: ignore[name-defined]
        self.decode_map = msgspec.json.Decoder(dict[str, str]).decode
        self.errors = (msgspec.ValidationError, msgspec.DecodeError)
        self.maps: dict[bytes, set[int]] = {}  # class-map as written -> the ids it names
        self.covered: set[bytes] = set()

    def scan(self, numbered: Iterator[tuple[int, bytes]], one: Callable[[int, bytes], None], blanks: list[int],
             write: Callable[[bytes], Any] | None, tick: Callable[[int], None], every: int, n: int) -> tuple[int, int]:
        """Read ``numbered`` to the end; ``(last line number, lines accepted here)``."""
        accepted = 0
        take = operator.itemgetter(1)
        while True:
            raws = list(map(take, itertools.islice(numbered, self.CHUNK)))
            if not raws:
                return n, accepted
            first = n + 1
            n += len(raws)
            if n // every != (first - 1) // every:
                tick(n - n % every)
            accepted += self._flush(first, raws, one, blanks, write)

    def _flush(self, first: int, raws: list[bytes], one: Callable[[int, bytes], None], blanks: list[int],
               write: Callable[[bytes], Any] | None) -> int:
        """Check ``raws`` (lines ``first``...) in order; the lines accepted."""
        blob = b",".join(raws)
        recs: list[Any] | None = None
        # A line over the size limit, or with "$" or an escape (\\u0024 is "$"), takes the slow path.
        if max(map(len, raws)) <= SAFE_LINE_CHARS and b"$" not in blob and b"\\" not in blob and not blanks:
            try:
                recs = self.decode_many(b"[" + blob + b"]")
            except self.errors:
                recs = None  # some line is not in the common shape: line by line
        if recs is None:
            return self._one_by_one(first, raws, one, blanks, write)
        # The common case, inlined (this loop is the hot path): a record that passes every check
        # is counted here; any other goes to the slow path, which reports what is wrong.
        lint, maps, unset, check = self.lint, self.maps, msgspec.UNSET, self.check
        class_ids = lint.class_ids
        covered = self.covered  # class-maps whose ids are all in class_ids already
        accepted = boxes = 0
        most = lint.max_boxes
        n = first - 1
        startswith = str.startswith
        for rec, raw in zip(recs, raws, strict=True):
            n += 1
            if not startswith(rec.source_ref, "s3://"):
                one(n, raw)
                continue
            label = rec.label
            size = label.image_size[0]
            width, height = size.width, size.height
            anns = label.annotations
            ids = []
            for a in anns:
                if a.left + a.width > width or a.top + a.height > height:
                    break
                ids.append(a.class_id)
            else:
                meta = rec.meta
                count = len(anns)
                if count and meta is not unset and (meta.objects is None or len(meta.objects) == count):
                    key = bytes(meta.class_map)
                    known = maps.get(key)
                    if known is not None and known.issuperset(ids):
                        # nothing to report: count it
                        if count > most:
                            lint.max_boxes = most = count
                            lint.max_boxes_line = n
                        boxes += count
                        if key not in covered:
                            class_ids.update(ids)
                            if class_ids.issuperset(known):
                                covered.add(key)
                        accepted += 1
                        if write is not None:
                            write(raw if raw.endswith(b"\n") else raw + b"\n")
                        continue
                keep = check(rec, n)  # the rarer cases (no boxes, a new class-map, ...)
                most = lint.max_boxes
                if keep is not None:
                    accepted += 1
                    if write is not None and keep:
                        write(raw if raw.endswith(b"\n") else raw + b"\n")
                    continue
            one(n, raw)
            most = lint.max_boxes
        lint.boxes += boxes
        return accepted

    def _one_by_one(self, first: int, raws: list[bytes], one: Callable[[int, bytes], None], blanks: list[int],
                    write: Callable[[bytes], Any] | None) -> int:
        accepted = 0
        for i, raw in enumerate(raws):
            n = first + i
            keep = None
            if not blanks and len(raw) <= SAFE_LINE_CHARS and b"$" not in raw and b"\\" not in raw:
                try:
                    keep = self.check(self.decode_one(raw), n)
                except self.errors:
                    keep = None
            if keep is None:
                one(n, raw)
                continue
            accepted += 1
            if write is not None and keep:
                write(raw if raw.endswith(b"\n") else raw + b"\n")
        return accepted

    def check(self, rec: Any, n: int) -> bool | None:
        """Count one decoded line; ``None`` (nothing counted) when the slow path must see it."""
        if not rec.source_ref.startswith("s3://"):
            return None
        label = rec.label
        size = label.image_size[0]
        width, height = size.width, size.height
        anns = label.annotations
        ids = []
        for a in anns:
            if a.left + a.width > width or a.top + a.height > height:
                return None
            ids.append(a.class_id)
        count = len(anns)
        meta = rec.meta
        key = b""
        known = None
        lint = self.lint
        if meta is not msgspec.UNSET:
            if meta.objects is not None and len(meta.objects) != count:
                return None
            key = bytes(meta.class_map)
            known = self.maps.get(key)
            if known is None and key:
                if key == b"null":
                    return None  # the slow path says what it thinks of a null class-map
                try:
                    cmap = self.decode_map(key)
                except self.errors:
                    return None
        # Every check passed: count the line, reporting in the slow path's order.
        keep = True
        if count == 0:
            keep = lint._no_boxes(n, lint.attr or "")
        elif count > lint.max_boxes:
            lint.max_boxes = count
            lint.max_boxes_line = n
        lint.boxes += count
        if known is None and key:
            known = lint._merge_class_map(n, cmap)
            if not lint._map_problem:  # a map with a problem is merged (and reported) again
                if len(self.maps) >= 4096:
                    self.maps.clear()
                    self.covered.clear()
                self.maps[key] = known
        lint.class_ids.update(ids)
        if known is not None and not known.issuperset(ids):
            unnamed = [c for c in ids if c not in known][-1]
            lint.add(n, f"{lint.meta_key}.{_CLASS_MAP}", f"has no name for class_id {unnamed}", "warning")
        return keep


def fast_check(lint: ObjectDetectionLint, num_classes: int | None) -> Lane | None:
    """The lane for ``lint``; ``None`` without msgspec or while the label attribute is unknown."""
    if msgspec is None or lint.attr is None or not lint.enabled:
        return None
    return Lane(lint, num_classes)
