"""Opening manifest sources and destinations: local paths, ``s3://`` URIs through a store, streams."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, Union

from gtflow.errors import ObjectNotFoundError, UsageError
from gtflow.store.base import ObjectStore

__all__ = ["Source", "Dest", "open_lines", "open_dest", "describe"]

#: What a reader accepts: a local path, an ``s3://`` URI (needs a store) or a binary stream.
Source = Union[str, "os.PathLike[str]", BinaryIO, IO[bytes]]
#: What a writer accepts: the same kinds as :data:`Source`.
Dest = Source

_BUFFER = 1 << 20


def describe(source: Any) -> str:
    """How errors name ``source``: the path or URI, or a stream's ``name``."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


class _ReadAdapter(io.RawIOBase):
    """Gives a ``read(n)``-only body (botocore's StreamingBody) the raw-IO interface, so
    ``io.BufferedReader`` can split it into lines in C."""

    def __init__(self, body: Any, *, owns: bool) -> None:
        self._body = body
        self._owns = owns

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._body.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if self._owns and close is not None:
            close()
        super().close()


def _as_line_stream(fh: Any, label: str, *, owns: bool) -> Any:
    if isinstance(fh, io.TextIOBase):
        raise UsageError("manifest streams must be opened in binary mode ('rb')", path=label)
    if isinstance(fh, io.BufferedIOBase):
        return fh
    # Raw streams and anything else with read(n), e.g. botocore's StreamingBody, whose
    # iteration yields fixed-size chunks rather than lines.
    if hasattr(fh, "read"):
        return io.BufferedReader(_ReadAdapter(fh, owns=owns), buffer_size=_BUFFER)
    raise UsageError(f"cannot read a manifest from {type(fh).__name__}", path=label)


@contextmanager
def open_lines(source: Source, store: ObjectStore | None = None) -> Iterator[tuple[str, Iterable[bytes]]]:
    """``(label, lines)``: the raw byte lines of ``source`` (each with its newline)."""
    label = describe(source)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith("s3://"):
            if store is None:
                raise UsageError("an s3:// manifest needs a store (pass store=...)", path=text)
            fh: Any = _as_line_stream(store.open_read(text), label, owns=True)
            try:
                yield label, fh
            finally:
                fh.close()
            return
        try:
            f = open(text, "rb", buffering=_BUFFER)  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise ObjectNotFoundError("no such file", path=text) from exc
        except IsADirectoryError as exc:
            raise UsageError("is a folder, not a manifest file", path=text) from exc
        with f:
            yield label, f
        return
    # A caller's stream: read it, leave closing to the caller.
    yield label, _as_line_stream(source, label, owns=False)


@contextmanager
def open_dest(dest: Dest, store: ObjectStore | None = None) -> Iterator[tuple[str, BinaryIO]]:
    """``(label, stream)`` that becomes ``dest`` atomically when the block exits cleanly.

    Local paths are written to a temporary file beside the target and renamed into place;
    ``s3://`` URIs go through ``store.open_write``; a caller's stream is written directly.
    """
    label = describe(dest)
    if isinstance(dest, (str, os.PathLike)):
        text = os.fspath(dest)
        if text.startswith("s3://"):
            if store is None:
                raise UsageError("an s3:// destination needs a store (pass store=...)", path=text)
            with store.open_write(text, content_type="application/jsonlines") as raw:
                yield label, raw
            return
        target = Path(text)
        if target.is_dir():
            raise UsageError("is a folder, not a file", path=text)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb", buffering=_BUFFER) as fh:
                yield label, fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return
    if isinstance(dest, io.TextIOBase):
        raise UsageError("manifest streams must be opened in binary mode ('wb')", path=label)
    yield label, dest  # type: ignore[misc]
