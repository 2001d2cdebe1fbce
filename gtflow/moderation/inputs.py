"""What an image provider is given: bytes, a local file, a store URI, or an S3 URI.

A generated-image service moderates the bytes its endpoint just returned; a screening job
moderates objects in a store; a person at a terminal moderates a file. :func:`resolve_image`
turns each of these into one :class:`ImageInput`, which every provider reads the same way:

* ``bytes`` / ``bytearray`` — named ``bytes:sha256:<first 16 hex digits>`` in decisions;
* a local path (``str`` without a scheme, or ``os.PathLike``) — read from the file;
* an ``s3://`` URI with a ``store`` — read through the store (a local folder, S3, any
  S3-compatible store);
* an ``s3://`` URI without a store — left as a reference, for providers that take one
  (Rekognition's ``S3Object``); providers that need the bytes say so.

    >>> resolve_image(b"\\x89PNG\\r\\n\\x1a\\n...").name
    'bytes:sha256:d05b0d98a40e3a64'
    >>> resolve_image(b"\\x89PNG\\r\\n\\x1a\\n...").format
    'png'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from gtflow.errors import ObjectNotFoundError, UsageError
from gtflow.uris import S3Uri

__all__ = ["ImageLike", "ImageInput", "resolve_image", "image_format", "check_size"]

#: What providers accept as an image.
ImageLike = Union[str, bytes, bytearray, "os.PathLike[str]"]


def image_format(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif``, ``webp`` or ``None`` from the first bytes (not the name)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class ImageInput:
    """One image, however it was given. ``read()`` returns its bytes (read once, on demand)."""

    name: str  # what decisions record: the URI, the path, or bytes:sha256:...
    s3: S3Uri | None = None  # an S3 object a provider may pass by reference
    _loader: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    _cache: list[bytes] = field(default_factory=list, repr=False, compare=False)

    @property
    def by_reference(self) -> bool:
        """True when the image is only an S3 reference (no store, no bytes)."""
        return self._loader is None

    def read(self) -> bytes:
        if not self._cache:
            if self._loader is None:
                raise UsageError(f"{self.name}: this provider needs the image's bytes; give a store that can read "
                                 "s3:// URIs (or the bytes, or a local file)", field="image")
            self._cache.append(self._loader())
        return self._cache[0]

    @property
    def format(self) -> str | None:
        return image_format(self.read())


def resolve_image(image: ImageLike | ImageInput, *, store: Any = None) -> ImageInput:
    """An :class:`ImageInput` for bytes, a local file, a store URI or an S3 URI (module docstring)."""
    if isinstance(image, ImageInput):
        return image
    if isinstance(image, (bytes, bytearray)):
        data = bytes(image)
        if not data:
            raise UsageError("the image is empty (0 bytes)", field="image")
        name = "bytes:sha256:" + hashlib.sha256(data).hexdigest()[:16]
        return ImageInput(name, None, lambda: data)
    if isinstance(image, str) and image.startswith("s3://"):
        uri = S3Uri.parse(image, require_key=True)
        if store is None:
            return ImageInput(image, uri)

        def from_store() -> bytes:
            try:
                return bytes(store.get_bytes(image))
            except ObjectNotFoundError as exc:
                raise exc.at(path=image) from exc.__cause__

        return ImageInput(image, uri, from_store)
    if isinstance(image, str) and "://" in image:
        raise UsageError(f"{image}: images are bytes, a local file, or an s3:// URI", field="image")
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)

        def from_file() -> bytes:
            try:
                return path.read_bytes()
            except FileNotFoundError as exc:
                raise UsageError("no such image file", path=str(path)) from exc
            except IsADirectoryError as exc:
                raise UsageError("is a folder, not an image file", path=str(path)) from exc

        return ImageInput(str(path), None, from_file)
    raise UsageError(f"an image is bytes, a path or an s3:// URI, not {type(image).__name__}", field="image")


def check_size(inp: ImageInput, limit: int, provider: str, hint: str = "") -> bytes:
    """The image's bytes, or a clear error when they exceed ``provider``'s limit."""
    data = inp.read()
    if len(data) > limit:
        raise UsageError(
            f"{inp.name}: {len(data):,} bytes is more than the {limit:,} bytes {provider} accepts"
            + (f"; {hint}" if hint else ""), field="image")
    return data
