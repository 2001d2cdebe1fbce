"""The verdict table: which workers confirmed or rejected a label on an image.

Bulk label QA and label verification jobs write one :class:`Verdict` per (item, worker), where
an item is a ``(job, image, label)`` triple. A verdict is stored **once**: recording the same
worker's verdict on the same item again (a re-delivered Lambda event, a rerun local job)
changes nothing, so counts never double. The first verdict stands. The job is part of the
key, so two jobs over the same images (the bulk-QA blog post's two CSVs share 68 images) keep
their answers apart; tables written before the job was in the key are migrated (SQLite on open,
DynamoDB with :meth:`~gtflow.verdicts.dynamodb.DynamoVerdictTable.migrate` /
``gtflow verdicts migrate``).

Three implementations share the :class:`VerdictTable` protocol:

* :class:`~gtflow.verdicts.sqlite.SqliteVerdictTable` — local (``<root>/.gtflow/verdicts.db``);
* :class:`~gtflow.verdicts.postgres.PostgresVerdictTable` — a PostgreSQL server shared by
  several processes (``open_verdict_table(path="postgresql://...")``);
* :class:`~gtflow.verdicts.dynamodb.DynamoVerdictTable` — DynamoDB on AWS (partition key
  ``item`` = ``job<TAB>label<TAB>image``, sort key ``worker``; conditional puts).

``items()`` yields one record per item (what ``gtflow qa export`` reads)::

    {"image": "s3://b/1.jpg", "label": "cat", "confidence": 93.5, "confirmed": 2,
     "disconfirmed": 1, "workers": {"w1": True, "w2": True, "w3": False},
     "batchId": "cat-0003", "job": "qa-job"}

    >>> import tempfile, pathlib
    >>> from gtflow.verdicts.sqlite import SqliteVerdictTable
    >>> t = SqliteVerdictTable(pathlib.Path(tempfile.mkdtemp()) / "v.db")
    >>> t.record("s3://b/1.jpg", "cat", "w1", True, confidence=93.5)
    True
    >>> t.record("s3://b/1.jpg", "cat", "w1", True, confidence=93.5)  # re-delivered: no change
    False
    >>> t.record("s3://b/1.jpg", "cat", "w1", False, job="second-job")  # another job: its own item
    True
    >>> [(r["job"], r["confirmed"], r["disconfirmed"]) for r in t.items()]
    [(None, 1, 0), ('second-job', 0, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["Verdict", "VerdictTable", "item_key", "aggregate", "open_verdict_table"]


#: Separates job, label and image in the item key (none contains a tab in practice).
SEP = "\t"


def item_key(image: str, label: str, job: str | None = None) -> str:
    """The stored key of an item: ``job<TAB>label<TAB>image`` (``""`` for no job).

    >>> item_key("s3://b/1.jpg", "cat", "qa-1").split(SEP)
    ['qa-1', 'cat', 's3://b/1.jpg']
    """
    return f"{job or ''}{SEP}{label}{SEP}{image}"


def legacy_item_key(image: str, label: str) -> str:
    """The key tables used before the job was part of it (``label<TAB>image``)."""
    return f"{label}{SEP}{image}"


def sort_key(v: Verdict) -> tuple[str, str, str, str]:
    """Verdict order: label, image, job, worker."""
    return (v.label, v.image, v.job or "", v.worker_id)


@dataclass(frozen=True)
class Verdict:
    """One worker's verdict on one (image, label) item."""

    image: str
    label: str
    worker_id: str
    confirmed: bool
    confidence: float | None = None
    batch_id: str | None = None
    job: str | None = None


class _OneByMany:
    """``record`` for every table: one verdict through the table's own ``record_many``."""

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        raise NotImplementedError

    def record(
        self,
        image: str,
        label: str,
        worker_id: str,
        confirmed: bool,
        *,
        confidence: float | None = None,
        batch_id: str | None = None,
        job: str | None = None,
    ) -> bool:
        return self.record_many([Verdict(image, label, worker_id, confirmed, confidence, batch_id, job)]) == 1


@runtime_checkable
class VerdictTable(Protocol):
    """Where verdicts are kept; every method is safe to call again with the same input."""

    def record(
        self,
        image: str,
        label: str,
        worker_id: str,
        confirmed: bool,
        *,
        confidence: float | None = None,
        batch_id: str | None = None,
        job: str | None = None,
    ) -> bool:
        """Store one verdict; False (and nothing changed) when this worker already judged the item."""
        ...

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        """Store many verdicts; returns how many were new."""
        ...

    def verdicts(self, *, label: str | None = None) -> Iterator[Verdict]:
        """Every stored verdict, sorted by label, image, job, worker."""
        ...

    def items(self, *, label: str | None = None) -> Iterator[dict[str, Any]]:
        """One aggregated record per item, sorted by label, image, job (see module docstring)."""
        ...


def aggregate(verdicts: Iterable[Verdict]) -> Iterator[dict[str, Any]]:
    """Per-item records from verdicts sorted by :func:`sort_key` (one record per job, label, image)."""
    cur: dict[str, Any] | None = None
    for v in verdicts:
        if cur is None or (cur["label"], cur["image"], cur["job"]) != (v.label, v.image, v.job):
            if cur is not None:
                yield cur
            cur = {"image": v.image, "label": v.label, "confidence": v.confidence,
                   "confirmed": 0, "disconfirmed": 0, "workers": {},
                   "batchId": v.batch_id, "job": v.job}
        cur["workers"][v.worker_id] = v.confirmed
        cur["confirmed" if v.confirmed else "disconfirmed"] += 1
        if cur["confidence"] is None:
            cur["confidence"] = v.confidence
    if cur is not None:
        yield cur


def open_verdict_table(store: Any = None, *, path: str | Path | None = None,
                       table_name: str | None = None, client: Any = None) -> VerdictTable:
    """The verdict table for a place: a DynamoDB table name, a SQLite path, a PostgreSQL URL
    (``path="postgresql://..."``), or a LocalStore.

    ``open_verdict_table(local_store)`` uses ``<root>/.gtflow/verdicts.db``.
    """
    from gtflow.sql import is_database_url

    if path is not None and is_database_url(path):
        from gtflow.verdicts.postgres import PostgresVerdictTable

        return PostgresVerdictTable(str(path))
    if table_name is not None:
        from gtflow.verdicts.dynamodb import DynamoVerdictTable

        return DynamoVerdictTable(table_name, client=client)
    from gtflow.verdicts.sqlite import SqliteVerdictTable

    if path is None:
        if store is None or not hasattr(store, "state_dir"):
            raise ValueError("give a DynamoDB table_name, a SQLite path or a LocalStore")
        path = Path(store.state_dir) / "verdicts.db"
    return SqliteVerdictTable(path)
