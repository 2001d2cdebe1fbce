"""The quarantine: records a stage could not use, kept in the store with the reason, and counted.

A stage that reads human answers or external files (retraining, ``manifest from-a2i``, A2I
collection, bulk QA, moderation screening, the portal's answer intake) does not stop at a bad
record and does not drop it silently: it puts a :class:`QuarantinedRecord` here (where it was
read from, why it was refused, when) and goes on with the rest. An operator sees them with
``gtflow quarantine list``/``show`` and, after fixing the source, re-admits one with
``gtflow quarantine release ID``: the next retraining run uses it again.

Entries are JSON objects at ``<prefix>/quarantine/<id>.json``; ``id`` derives from the stage
and the source, so quarantining the same record again (a rerun) changes nothing. Entries hold
ids and reasons, never the payload itself (a payload may hold personal data).

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> q = Quarantine(LocalStore(tempfile.mkdtemp()), "s3://state/retrain")
    >>> e = q.add(stage="retrain", source="s3://a2i/l1/output.json", reason="width: not a number",
    ...           record={"name": "l1"})
    >>> [x.id for x in q.list()] == [e.id], q.counts()
    (True, {'quarantined': 1, 'released': 0, 'readmitted': 0})
    >>> q.release(e.id).status
    'released'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gtflow.errors import ContractError, ObjectNotFoundError, UsageError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.uris import S3Uri

__all__ = ["Quarantine", "QuarantinedRecord", "STATUSES"]

log = get_logger(__name__)

#: quarantined: left out; released: an operator re-admitted it, the next run uses it;
#: readmitted: a run used it after its release
STATUSES = ("quarantined", "released", "readmitted")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class QuarantinedRecord:
    """One record a stage could not use."""

    id: str
    stage: str
    source: str  # where it was read from (URI, or path:line)
    reason: str  # the typed error's message: file, line, field
    quarantined_at: str
    status: str = "quarantined"
    record: Mapping[str, Any] = field(default_factory=dict)  # ids the stage needs to re-admit it
    released_at: str | None = None
    readmitted_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "stage": self.stage, "source": self.source, "reason": self.reason,
                "quarantinedAt": self.quarantined_at, "status": self.status, "record": dict(self.record),
                "releasedAt": self.released_at, "readmittedBy": self.readmitted_by}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str | None = None) -> QuarantinedRecord:
        try:
            rec = cls(id=str(d["id"]), stage=str(d["stage"]), source=str(d["source"]), reason=str(d["reason"]),
                      quarantined_at=str(d["quarantinedAt"]), status=str(d.get("status", "quarantined")),
                      record=dict(d.get("record") or {}), released_at=d.get("releasedAt"),
                      readmitted_by=d.get("readmittedBy"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"not a quarantine entry: {exc}", path=path) from exc
        if rec.status not in STATUSES:
            raise ContractError(f"unknown status {rec.status!r}", path=path, field="status")
        return rec


def record_id(stage: str, source: str) -> str:
    """The entry id of ``source`` in ``stage`` (stable: the same record gets the same id)."""
    return hashlib.sha256(f"{stage}\0{source}".encode()).hexdigest()[:16]


class Quarantine:
    """The quarantine under ``prefix`` (for retraining: the config's ``state_prefix``)."""

    def __init__(self, store: ObjectStore, prefix: str, *, clock: Callable[[], _dt.datetime] = _now) -> None:
        self.store = store
        self.prefix = str(S3Uri.parse(prefix).join("quarantine"))
        self.clock = clock

    def __repr__(self) -> str:
        return f"Quarantine({self.prefix!r})"

    def _uri(self, entry_id: str) -> str:
        if not entry_id or not all(c in "0123456789abcdef" for c in entry_id):
            raise UsageError(f"not a quarantine id: {entry_id!r:.40}", field="ID")
        return f"{self.prefix}/{entry_id}.json"

    def _put(self, rec: QuarantinedRecord) -> None:
        self.store.put_text(self._uri(rec.id), json.dumps(rec.to_dict(), indent=1, sort_keys=True),
                            content_type="application/json")

    def add(self, *, stage: str, source: str, reason: str, record: Mapping[str, Any] | None = None) -> QuarantinedRecord:
        """Quarantine ``source`` (idempotent: an entry already quarantined stays as it is)."""
        entry_id = record_id(stage, source)
        try:
            old = self.get(entry_id)
        except UsageError:
            old = None
        if old is not None and old.status == "quarantined":
            return old
        rec = QuarantinedRecord(id=entry_id, stage=stage, source=source, reason=reason[:2000],
                                quarantined_at=self.clock().isoformat(), record=dict(record or {}))
        self._put(rec)
        log.warning("quarantined %s record %s (%s): %s", stage, entry_id, source, reason[:300])
        return rec

    def get(self, entry_id: str) -> QuarantinedRecord:
        uri = self._uri(entry_id)
        try:
            raw = self.store.get_bytes(uri)
        except ObjectNotFoundError:
            raise UsageError(f"no quarantined record {entry_id}", path=self.prefix, field="ID") from None
        try:
            return QuarantinedRecord.from_dict(json.loads(raw), path=uri)
        except ValueError as exc:
            raise ContractError(f"corrupt quarantine entry: {exc}", path=uri) from exc

    def list(self, *, status: str | None = None, stage: str | None = None) -> list[QuarantinedRecord]:
        """Entries, oldest first (then by id)."""
        out = []
        for info in self.store.list(self.prefix + "/"):
            if not info.uri.endswith(".json"):
                continue
            rec = self.get(info.uri.rsplit("/", 1)[1][:-5])
            if (status is None or rec.status == status) and (stage is None or rec.stage == stage):
                out.append(rec)
        out.sort(key=lambda r: (r.quarantined_at, r.id))
        return out

    def counts(self, *, stage: str | None = None) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for rec in self.list(stage=stage):
            out[rec.status] += 1
        return out

    def release(self, entry_id: str) -> QuarantinedRecord:
        """Re-admit a record (after its source was fixed): the next run of its stage reads it again."""
        rec = self.get(entry_id)
        if rec.status != "quarantined":
            raise UsageError(f"record {entry_id} is {rec.status}, not quarantined", field="ID")
        rec = replace(rec, status="released", released_at=self.clock().isoformat())
        self._put(rec)
        return rec

    def readmitted(self, entry_id: str, by: str) -> None:
        """Mark a released record as used again by run ``by``."""
        rec = self.get(entry_id)
        if rec.status == "released":
            self._put(replace(rec, status="readmitted", readmitted_by=by))
