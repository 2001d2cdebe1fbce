"""LocalStore: a folder where ``s3://bucket/key`` lives at ``<root>/bucket/key``."""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from gtflow.errors import ObjectNotFoundError, StoreError, UriError
from gtflow.store.base import DEFAULT_PRESIGN_SECONDS, MAX_PRESIGN_SECONDS, ObjectInfo
from gtflow.store.signing import UrlSigner
from gtflow.uris import S3Uri

__all__ = ["LocalStore", "STATE_DIR", "atomic_write_file"]

#: gtflow's own files under the root (bucket names cannot start with '.', so no clash).
STATE_DIR = ".gtflow"


def _temp_file(state_dir: Path) -> tuple[int, str]:
    """A temporary file for one atomic write: ``<state_dir>/tmp/put-<pid>-…``. Every temp file
    gtflow writes under a state folder is made here, so :meth:`LocalStore.clean_stale_temp`
    (run when a backend opens) finds the ones a killed process left behind."""
    tmp_dir = state_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=tmp_dir, prefix=f"put-{os.getpid()}-")


def atomic_write_file(path: Path, data: bytes, *, state_dir: Path) -> None:
    """Write gtflow state that is not an object (a local labeling job's state, a human task UI)
    to ``path`` under ``state_dir``: temp file, fsync, rename — readers never see a partial
    file, and a write killed midway leaves only a temp file that the next start removes."""
    fd, tmp = _temp_file(state_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class LocalStore:
    """An :class:`~gtflow.store.ObjectStore` on the local file system.

    Keys map segment by segment to paths; a key that could leave the root ('..', '.', empty
    segments, a symlink pointing out) is refused with :class:`UriError`. Every write goes to a
    temporary file first and is renamed into place, so readers never see a partial object.

        >>> import tempfile
        >>> store = LocalStore(tempfile.mkdtemp())
        >>> store.put_text("s3://bucket/a/b.txt", "hi")
        >>> [o.uri for o in store.list("s3://bucket/a/")]
        ['s3://bucket/a/b.txt']
    """

    def __init__(self, root: str | os.PathLike[str], *, signer: UrlSigner | None = None) -> None:
        self.root = Path(root).resolve()
        self.signer = signer

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """``<root>/.gtflow``: queues, secrets and other gtflow state that is not an object."""
        return self.root / STATE_DIR

    def path_for(self, uri: str) -> Path:
        """The file that holds ``uri``; raises UriError for keys that cannot live under root."""
        u = S3Uri.parse(uri)
        return self._path(u.bucket, u.key)

    def _path(self, bucket: str, key: str) -> Path:
        parts = key.split("/")
        if key.endswith("/"):
            parts = parts[:-1]
        for seg in parts:
            if seg in ("", ".", "..") or "\x00" in seg:
                raise UriError(f"object key {key!r:.200} cannot be stored locally (segment {seg!r})")
        path = self.root.joinpath(bucket, *parts) if key else self.root / bucket
        # A symlink inside the root must not lead out of it.
        resolved = path.resolve()
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise UriError(f"object key {key!r:.200} escapes the store root")
        return path

    def _uri(self, path: Path) -> str:
        rel = path.relative_to(self.root).as_posix()
        bucket, _, key = rel.partition("/")
        return f"s3://{bucket}/{key}"

    # -- reads -------------------------------------------------------------------------------
    def get_bytes(self, uri: str) -> bytes:
        with self.open_read(uri) as fh:
            return fh.read()

    def get_text(self, uri: str, encoding: str = "utf-8") -> str:
        return self.get_bytes(uri).decode(encoding)

    def open_read(self, uri: str) -> BinaryIO:
        path = self.path_for(uri)
        # gtflow's own state (keys, queue) is no object, not even through a symlink to it.
        resolved, state = path.resolve(), self.state_dir.resolve()
        if resolved == state or resolved.is_relative_to(state):
            raise ObjectNotFoundError("no such object", path=uri)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller closes it
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFoundError("no such object", path=uri) from exc

    def exists(self, uri: str) -> bool:
        return self.path_for(uri).is_file()

    #: Reading listed files: one thread (files in the page cache are read faster than threads
    #: can hand them over under the GIL).
    read_concurrency = 1

    def list_named(self, prefix: str, name: str) -> list[ObjectInfo]:
        """Objects under ``prefix`` whose last key component is ``name``, in key order.

        A leaner walk than :meth:`list` (no Path objects, only files called ``name``); like it,
        it follows no symlink. The fast path of ``gtflow.a2i.collect`` (``output.json``).
        """
        u = S3Uri.parse(prefix)
        head, _, name_prefix = u.key.rpartition("/")
        start = str(self.path_for(f"s3://{u.bucket}/{head}/") if head else self.root / u.bucket)
        if not os.path.isdir(start):
            return []
        found: list[ObjectInfo] = []
        stack = [(start, f"{head}/" if head else "", name_prefix)]
        while stack:
            folder, key_prefix, name_filter = stack.pop()
            with os.scandir(folder) as it:
                for e in it:
                    if name_filter and not e.name.startswith(name_filter):
                        continue
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, f"{key_prefix}{e.name}/", ""))
                    elif e.name == name and e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        found.append(ObjectInfo(
                            uri=f"s3://{u.bucket}/{key_prefix}{e.name}", size=st.st_size,
                            last_modified=_dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc),
                        ))
        found.sort(key=lambda i: i.uri.encode())
        return found

    def read_listed(self, uri: str) -> bytes:
        """``get_bytes`` for a URI this store just listed: a direct read of the file.

        The listing walks real folders only (no symlinks), so a listed key maps to
        ``<root>/<bucket>/<key>`` without resolving every component again; the final
        component is opened with O_NOFOLLOW. Anything odd goes through :meth:`get_bytes`.
        """
        bucket, _, key = uri[5:].partition("/")
        parts = key.split("/")
        if not uri.startswith("s3://") or any(p in ("", ".", "..") for p in parts):
            return self.get_bytes(uri)  # let the store refuse it
        try:
            fd = os.open(os.path.join(str(self.root), bucket, *parts), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError as exc:
            raise ObjectNotFoundError("no such object", path=uri) from exc
        except OSError as exc:
            raise StoreError(f"cannot read object: {exc.strerror}", path=uri) from exc
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        u = S3Uri.parse(prefix)
        head, _, name_prefix = u.key.rpartition("/")
        start = self._path(u.bucket, head) if head else self.root / u.bucket
        if not start.is_dir():
            return
        yield from self._walk(start, name_prefix)

    def _walk(self, folder: Path, name_prefix: str = "") -> Iterator[ObjectInfo]:
        # S3 lists in UTF-8 byte order of the whole key; sorting a folder's entries by
        # name (+ '/' for folders) reproduces that order while walking lazily.
        entries = []
        with os.scandir(folder) as it:
            for e in it:
                if not e.name.startswith(name_prefix):
                    continue
                is_dir = e.is_dir(follow_symlinks=False)
                entries.append(((e.name + "/" if is_dir else e.name).encode(), is_dir, e))
        entries.sort(key=lambda t: t[0])
        for _, is_dir, e in entries:
            if is_dir:
                yield from self._walk(Path(e.path))
            elif e.is_file(follow_symlinks=False):
                st = e.stat()
                yield ObjectInfo(
                    uri=self._uri(Path(e.path)),
                    size=st.st_size,
                    last_modified=_dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc),
                )

    # -- writes ------------------------------------------------------------------------------
    def put_bytes(self, uri: str, data: bytes, *, content_type: str | None = None) -> None:
        with self.open_write(uri, content_type=content_type) as fh:
            fh.write(data)

    def put_text(
        self, uri: str, text: str, *, content_type: str | None = None, encoding: str = "utf-8"
    ) -> None:
        self.put_bytes(uri, text.encode(encoding), content_type=content_type)

    @contextmanager
    def open_write(self, uri: str, *, content_type: str | None = None) -> Iterator[BinaryIO]:
        S3Uri.parse(uri, require_key=True)
        path = self.path_for(uri)
        fd, tmp = _temp_file(self.state_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
            except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
                raise StoreError(
                    "key clashes with another key used as a folder (a local store cannot hold "
                    "both 'a' and 'a/b')",
                    path=uri,
                ) from exc
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def clean_stale_temp(self) -> int:
        """Delete temporary files of writes whose process is gone (killed mid-write); returns
        how many. A write's temp file is named after its process id, so live writes, in this
        process or another, are never touched. Objects and the state files written with
        :func:`atomic_write_file` (labeling-job state, human task UIs) share this folder."""
        tmp_dir = self.state_dir / "tmp"
        removed = 0
        try:
            entries = list(os.scandir(tmp_dir))
        except FileNotFoundError:
            return 0
        for e in entries:
            parts = e.name.split("-", 2)
            if len(parts) < 3 or parts[0] != "put" or not (parts[1].isascii() and parts[1].isdigit()):
                continue
            pid = int(parts[1])
            if pid == os.getpid() or _alive(pid):
                continue
            with suppress(FileNotFoundError):
                os.unlink(e.path)
                removed += 1
        return removed

    # -- conditional writes ------------------------------------------------------------------
    @contextmanager
    def _key_lock(self, uri: str) -> Iterator[None]:
        # One lock file per key, so conditional writes from several processes serialise.
        digest = hashlib.sha256(uri.encode()).hexdigest()[:32]
        lock_dir = self.state_dir / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / digest, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _etag(data: bytes) -> str:
        return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'

    def put_if_absent(self, uri: str, data: bytes, *, content_type: str | None = None) -> bool:
        with self._key_lock(uri):
            if self.exists(uri):
                return False
            self.put_bytes(uri, data, content_type=content_type)
            return True

    def get_with_etag(self, uri: str) -> tuple[bytes, str]:
        data = self.get_bytes(uri)
        return data, self._etag(data)

    def put_if_match(self, uri: str, data: bytes, etag: str | None) -> bool:
        with self._key_lock(uri):
            try:
                current: str | None = self._etag(self.get_bytes(uri))
            except ObjectNotFoundError:
                current = None
            if current != etag:
                return False
            self.put_bytes(uri, data)
            return True

    def delete(self, uri: str) -> None:
        path = self.path_for(uri)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # Drop folders the delete left empty, up to the bucket.
        bucket_dir = self.root / S3Uri.parse(uri).bucket
        parent = path.parent
        while parent != bucket_dir and parent.is_relative_to(bucket_dir):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    # -- URLs --------------------------------------------------------------------------------
    def presign(self, uri: str, expires_in: int = DEFAULT_PRESIGN_SECONDS) -> str:
        """A portal URL signed for ``expires_in`` seconds, or a ``file://`` URL without a portal."""
        if not 0 < expires_in <= MAX_PRESIGN_SECONDS:
            raise StoreError(f"expires_in must be in 1..{MAX_PRESIGN_SECONDS} seconds")
        if self.signer is not None:
            return self.signer.sign(uri, expires_in)
        return "file://" + urllib.parse.quote(str(self.path_for(uri)))
