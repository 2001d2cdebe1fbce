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
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gtflow.errors import ContractError, GtflowError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectInfo, ObjectStore
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
    # a store may list files by name faster than it lists everything (LocalStore walks less)
    lister = getattr(store, "list_named", None)
    listing = lister(prefix, OUTPUT_NAME) if lister is not None else store.list(prefix)
    for info in listing:
        if not info.uri.endswith("/" + OUTPUT_NAME):
            continue
        if since is not None and info.last_modified < since:
            continue
        yield info


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
    """How to read a listed object: the store's fast path for what it listed, if it has one."""
    return getattr(store, "read_listed", store.get_bytes)


def _workers_for(store: Any, max_workers: int) -> int:
    """Threads for reading: as many as the store reads well with (its ``read_concurrency``)."""
    return max(1, min(max_workers, int(getattr(store, "read_concurrency", max_workers))))


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
