"""The retraining watermark: which human answers earlier runs already used.

The window is closed at the watermark (answers completed exactly at it are read again) and
deduplicated by name at that boundary, so answers that share a timestamp are neither lost nor
used twice. The watermark object is advanced by compare-and-swap, last, after everything else
the run wrote.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from gtflow.errors import ConflictError, ContractError, ObjectNotFoundError
from gtflow.store.base import ObjectStore

__all__ = ["Watermark", "CompletedAnswer", "select_new", "load_watermark", "save_watermark"]


@dataclass(frozen=True)
class CompletedAnswer:
    """A human answer that is ready to use: a completed human loop (or labeling-job object)."""

    name: str
    completed_at: _dt.datetime
    output_uri: str


@dataclass(frozen=True)
class Watermark:
    value: _dt.datetime | None = None
    #: names completed exactly at ``value`` that were already used
    seen: frozenset[str] = field(default_factory=frozenset)
    #: the training manifest the next run merges into (advanced with the watermark)
    training_manifest: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "watermark": self.value.isoformat() if self.value else None,
            "seenAtWatermark": sorted(self.seen),
            "trainingManifest": self.training_manifest,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object], *, path: str | None = None) -> Watermark:
        try:
            raw = d.get("watermark")
            value = _dt.datetime.fromisoformat(str(raw)) if raw else None
            raw_seen = d.get("seenAtWatermark") or ()
            if not isinstance(raw_seen, (list, tuple)):
                raise TypeError("seenAtWatermark must be a list")
            seen = frozenset(str(x) for x in raw_seen)
            manifest = d.get("trainingManifest")
        except (TypeError, ValueError) as exc:
            raise ContractError(f"invalid watermark: {exc}", path=path) from exc
        return cls(value, seen, str(manifest) if manifest else None)


def select_new(answers: Iterable[CompletedAnswer], wm: Watermark) -> tuple[list[CompletedAnswer], Watermark]:
    """The answers a run should use, and the watermark to store after it succeeds.

    >>> t = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    >>> a, b = CompletedAnswer("a", t, "s3://b/a"), CompletedAnswer("b", t, "s3://b/b")
    >>> new, wm = select_new([a], Watermark())
    >>> [x.name for x in select_new([a, b], wm)[0]]
    ['b']
    """
    picked = []
    for ans in answers:
        if wm.value is not None:
            if ans.completed_at < wm.value:
                continue
            if ans.completed_at == wm.value and ans.name in wm.seen:
                continue
        picked.append(ans)
    picked.sort(key=lambda a: (a.completed_at, a.name))
    if not picked:
        return [], wm
    top = picked[-1].completed_at
    at_top = {a.name for a in picked if a.completed_at == top}
    if wm.value == top:
        at_top |= wm.seen
    return picked, Watermark(top, frozenset(at_top), wm.training_manifest)


def load_watermark(store: ObjectStore, uri: str) -> tuple[Watermark, str | None]:
    """The stored watermark and its ETag (``None`` ETag: no watermark yet)."""
    try:
        data, etag = store.get_with_etag(uri)
    except ObjectNotFoundError:
        return Watermark(), None
    try:
        return Watermark.from_dict(json.loads(data), path=uri), etag
    except json.JSONDecodeError as exc:
        raise ContractError(f"watermark is not JSON: {exc}", path=uri) from exc


def save_watermark(store: ObjectStore, uri: str, wm: Watermark, etag: str | None) -> None:
    """Advance the watermark if nobody else did since it was read (compare-and-swap)."""
    data = json.dumps(wm.to_dict(), indent=1).encode()
    if not store.put_if_match(uri, data, etag):
        try:
            current, _ = store.get_with_etag(uri)
        except ObjectNotFoundError:
            current = b""
        if current == data:  # a crashed earlier attempt of this same run already wrote it
            return
        raise ConflictError("the watermark moved since this run read it (another run is active)", path=uri)
