"""The ObjectStore protocol: what every workflow needs from S3 or a local folder."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = ["ObjectInfo", "ObjectStore", "DEFAULT_PRESIGN_SECONDS", "MAX_PRESIGN_SECONDS"]

#: grant_read_access URLs live this long unless the caller asks otherwise.
DEFAULT_PRESIGN_SECONDS = 900
#: SigV4 presigned URLs cannot outlive a week; gtflow applies the same bound locally.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object."""

    uri: str
    size: int
    last_modified: _dt.datetime  # timezone-aware, UTC


@runtime_checkable
class ObjectStore(Protocol):
    """Objects addressed by ``s3://bucket/key`` URIs, on S3 or in a local folder.

    Writes are atomic: a reader sees the old object or the new one, never a part, and a
    writer that fails leaves nothing behind.
    """

    def get_bytes(self, uri: str) -> bytes: ...

    def get_text(self, uri: str, encoding: str = "utf-8") -> str: ...

    def put_bytes(self, uri: str, data: bytes, *, content_type: str | None = None) -> None: ...

    def put_text(
        self, uri: str, text: str, *, content_type: str | None = None, encoding: str = "utf-8"
    ) -> None: ...

    def exists(self, uri: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose URI starts with ``prefix``, lazily, in key order."""
        ...

    def delete(self, uri: str) -> None:
        """Delete an object; deleting a missing object is not an error (as on S3)."""
        ...

    def presign(self, uri: str, expires_in: int = DEFAULT_PRESIGN_SECONDS) -> str:
        """A URL that lets a browser read ``uri`` until it expires."""
        ...

    def put_if_absent(self, uri: str, data: bytes, *, content_type: str | None = None) -> bool:
        """Create the object only if it does not exist (S3 ``If-None-Match: *``).

        Returns False, writing nothing, when it already exists: a create-once marker.
        """
        ...

    def get_with_etag(self, uri: str) -> tuple[bytes, str]:
        """The object's bytes and an ETag that changes whenever the object does."""
        ...

    def put_if_match(self, uri: str, data: bytes, etag: str | None) -> bool:
        """Compare-and-swap: replace the object only if its ETag is still ``etag``
        (``None``: only if it does not exist). Returns False, writing nothing, otherwise."""
        ...

    def open_read(self, uri: str) -> BinaryIO:
        """A binary stream of the object (for files too large to hold in memory)."""
        ...

    def open_write(
        self, uri: str, *, content_type: str | None = None
    ) -> AbstractContextManager[BinaryIO]:
        """A binary stream that becomes the object when the block exits without error."""
        ...
