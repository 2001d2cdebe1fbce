"""Read A2I ``output.json`` files back: list a prefix, fetch concurrently, parse to typed values.

Both backends write answers at A2I's key layout
``<S3OutputPath>/<flow>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json``, so one function collects
from S3 and from a local store: one listing, then a thread pool of GETs (S3 and file reads wait
on I/O, so threads overlap them), then ``json.loads`` + :class:`~gtflow.wire.HumanLoopOutput`.

    >>> import tempfile, json
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> store.put_text("s3://bucket/out/fd/2021/05/06/21/25/42/l1/output.json", json.dumps({
    ...     "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanAnswers": [],
    ...     "humanLoopName": "l1", "inputContent": {}}))
    >>> [c.output.human_loop_name for c in collect_outputs(store, "s3://bucket/out/fd/")]
    ['l1']
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gtflow.errors import ContractError, GtflowError, ObjectNotFoundError, StoreError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectInfo, ObjectStore
from gtflow.uris import S3Uri
from gtflow.wire.a2i import HumanLoopOutput

__all__ = [
    "CollectedOutput",
    "find_outputs",
    "parse_output",
    "iter_outputs",
    "read_outputs",
    "collect_outputs",
    "stream_outputs",
    "OUTPUT_NAME",
]

log = get_logger(__name__)
OUTPUT_NAME = "output.json"


@dataclass(frozen=True)
class CollectedOutput:
    """One loop's answers and where they were read from."""

    uri: str
    output: HumanLoopOutput
    last_modified: _dt.datetime | None = None


def find_outputs(store: ObjectStore, prefix: str, *, since: _dt.datetime | None = None) -> Iterator[ObjectInfo]:
    """``output.json`` objects under ``prefix``, written at or after ``since`` (aware)."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=_dt.timezone.utc)
    from gtflow.store.local import LocalStore

    listing = _local_outputs(store, prefix) if isinstance(store, LocalStore) else store.list(prefix)
    for info in listing:
        if not info.uri.endswith("/" + OUTPUT_NAME):
            continue
        if since is not None and info.last_modified < since:
            continue
        yield info


def _local_outputs(store: Any, prefix: str) -> list[ObjectInfo]:
    """``output.json`` files under ``prefix`` in a LocalStore, in S3 key order.

    A leaner walk than ``LocalStore.list`` (no Path objects, only files named output.json);
    like it, it follows no symlink.
    """
    u = S3Uri.parse(prefix)
    head, _, name_prefix = u.key.rpartition("/")
    start = str(store.path_for(f"s3://{u.bucket}/{head}/") if head else store.root / u.bucket)
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
                elif e.name == OUTPUT_NAME and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    found.append(ObjectInfo(
                        uri=f"s3://{u.bucket}/{key_prefix}{e.name}", size=st.st_size,
                        last_modified=_dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc),
                    ))
    found.sort(key=lambda i: i.uri.encode())
    return found


def parse_output(data: bytes | str, uri: str) -> HumanLoopOutput:
    """Parse one ``output.json``; errors name the object."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ContractError(f"output.json is not valid JSON: {exc}", path=uri) from exc
    try:
        return HumanLoopOutput.from_dict(doc)
    except GtflowError as exc:
        raise exc.at(path=uri) from None


def _reader(store: Any) -> Any:
    """``get_bytes`` of the store; for a LocalStore, a direct read of the listed file.

    The listing of a LocalStore walks real folders only (it follows no symlink), so a listed
    key maps to ``<root>/<bucket>/<key>`` without resolving every path component again; the
    final component is opened with O_NOFOLLOW.
    """
    from gtflow.store.local import LocalStore

    if not isinstance(store, LocalStore):
        return store.get_bytes
    root = str(store.root)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)

    def read(uri: str) -> bytes:
        bucket, _, key = uri[5:].partition("/")
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            return store.get_bytes(uri)  # let the store refuse it
        try:
            fd = os.open(os.path.join(root, bucket, *parts), flags)
        except FileNotFoundError as exc:
            raise ObjectNotFoundError("no such object", path=uri) from exc
        except OSError as exc:
            raise StoreError(f"cannot read object: {exc.strerror}", path=uri) from exc
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    return read


def _workers_for(store: Any, max_workers: int) -> int:
    # A boto3 client keeps max_pool_connections (default 10) sockets; more threads than that
    # would open and discard connections instead of reusing them.
    from gtflow.store.local import LocalStore

    if isinstance(store, LocalStore):
        # Files in the page cache are read faster than threads can hand them over under the GIL.
        return 1
    client = getattr(store, "client", None)
    pool = getattr(getattr(getattr(client, "meta", None), "config", None), "max_pool_connections", None)
    return max(1, min(max_workers, pool or max_workers))


def iter_outputs(
    store: ObjectStore,
    items: Iterable[str | ObjectInfo],
    *,
    max_workers: int = 32,
    errors: list[GtflowError] | None = None,
) -> Iterator[CollectedOutput]:
    """Fetch and parse ``output.json`` objects (concurrently on S3), yielding them in the order
    given as they arrive, so a consumer (a converter, a manifest writer) never holds them all.

    With an ``errors`` list, unreadable or malformed objects are appended there and skipped;
    without one, the first error is raised.
    """
    get = _reader(store)
    pairs = [(i.uri, i.last_modified) if isinstance(i, ObjectInfo) else (str(i), None) for i in items]

    def one(pair: tuple[str, _dt.datetime | None]) -> CollectedOutput | GtflowError:
        uri, modified = pair
        try:
            return CollectedOutput(uri, parse_output(get(uri), uri), modified)
        except GtflowError as exc:
            if errors is None:
                raise
            return exc

    workers = _workers_for(store, max_workers)
    ok = failed = 0
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gtflow-collect") if workers > 1 and len(pairs) > 1 else None
    try:
        results: Iterable[CollectedOutput | GtflowError] = pool.map(one, pairs) if pool else map(one, pairs)
        for r in results:
            if isinstance(r, CollectedOutput):
                ok += 1
                yield r
            else:
                failed += 1
                if errors is not None:
                    errors.append(r)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        log.info("read %d output.json objects (%d failed)", ok, failed)


def read_outputs(
    store: ObjectStore,
    items: Iterable[str | ObjectInfo],
    *,
    max_workers: int = 32,
    errors: list[GtflowError] | None = None,
) -> list[CollectedOutput]:
    """:func:`iter_outputs` as a list."""
    return list(iter_outputs(store, items, max_workers=max_workers, errors=errors))


def collect_outputs(
    store: ObjectStore,
    prefix: str,
    *,
    since: _dt.datetime | None = None,
    max_workers: int = 32,
    errors: list[GtflowError] | None = None,
) -> list[CollectedOutput]:
    """:func:`find_outputs` then :func:`read_outputs`."""
    return read_outputs(store, list(find_outputs(store, prefix, since=since)), max_workers=max_workers, errors=errors)


def stream_outputs(
    store: ObjectStore,
    prefix: str,
    *,
    since: _dt.datetime | None = None,
    max_workers: int = 32,
    errors: list[GtflowError] | None = None,
) -> Iterator[CollectedOutput]:
    """:func:`find_outputs` then :func:`iter_outputs`: one listing, then outputs as they arrive."""
    return iter_outputs(store, list(find_outputs(store, prefix, since=since)), max_workers=max_workers, errors=errors)
