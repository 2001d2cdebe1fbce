"""What every detection dataset format holds: images with sizes and named boxes.

Private to :mod:`gtflow.formats`; the readers yield :class:`AnnotatedImage` values and the
writers take them, so each format is written once, against this shape.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gtflow.errors import ContractError, GtflowError, UsageError

__all__ = ["Box", "AnnotatedImage", "ImportReport", "Sink", "check_box", "image_size_of"]


@dataclass(frozen=True)
class Box:
    """One object: its class name and pixel box (origin top-left)."""

    label: str
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class AnnotatedImage:
    """An image (path relative to the dataset's image folder) and its boxes."""

    file: str
    width: int
    height: int
    depth: int = 3
    boxes: tuple[Box, ...] = ()
    #: where the annotation came from (file, or file + element), for messages
    source: str = ""


@dataclass
class ImportReport:
    """Counts of one import or export; ``invalid`` keeps every refused annotation's error."""

    images: int = 0
    boxes: int = 0
    empty: int = 0
    copied: int = 0
    invalid: list[GtflowError] = field(default_factory=list)
    classes: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"images": self.images, "boxes": self.boxes, "empty": self.empty, "copied": self.copied,
                "invalid": [str(e) for e in self.invalid],
                "class_map": {str(k): v for k, v in sorted(self.classes.items())}}


def check_box(box: Box, width: int, height: int, *, path: str, line: int | None = None, field: str) -> Box:
    """Refuse a box with no area, negative corners or corners outside the image (1 px slack)."""
    def bad(msg: str) -> ContractError:
        return ContractError(msg, path=path, line=line, field=field)

    if not box.label:
        raise bad("empty class name")
    if box.width <= 0 or box.height <= 0:
        raise bad(f"box has no area (width {box.width:g}, height {box.height:g})")
    if box.left < 0 or box.top < 0:
        raise bad(f"box starts outside the image (left {box.left:g}, top {box.top:g})")
    if box.right > width + 1 or box.bottom > height + 1:
        raise bad(f"box ends outside the {width}x{height} image (right {box.right:g}, bottom {box.bottom:g})")
    return box


def image_size_of(path: Path) -> tuple[int, int, int]:
    """``(width, height, depth)`` from the image header (Pillow reads only the header)."""
    try:
        from PIL import Image
    except ImportError as exc:
        from gtflow.errors import MissingExtraError

        raise MissingExtraError.for_module("pillow", "local") from exc
    try:
        with Image.open(path) as img:
            return img.size[0], img.size[1], len(img.getbands())
    except FileNotFoundError as exc:
        raise ContractError("image file not found", path=str(path)) from exc
    except Exception as exc:  # Pillow raises several kinds
        raise ContractError(f"not a readable image: {exc}", path=str(path)) from exc


class Sink:
    """Where an export writes: a local folder (atomic file writes) or an ``s3://`` prefix."""

    def __init__(self, dest: str, store: Any = None) -> None:
        self.dest = dest.rstrip("/")
        self.store = store
        if self.is_s3 and store is None:
            raise UsageError("an s3:// destination needs a store", field="dest")

    @property
    def is_s3(self) -> bool:
        return self.dest.startswith("s3://")

    def location(self, rel: str) -> str:
        return f"{self.dest}/{rel}" if self.is_s3 else str(Path(self.dest) / rel)

    def put(self, rel: str, data: bytes) -> str:
        with self.open(rel) as fh:
            fh.write(data)
        return self.location(rel)

    @contextmanager
    def open(self, rel: str) -> Iterator[IO[bytes]]:
        """A binary stream that becomes ``rel`` only when the block exits cleanly."""
        if self.is_s3:
            with self.store.open_write(self.location(rel)) as fh:
                yield fh
            return
        target = Path(self.location(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
