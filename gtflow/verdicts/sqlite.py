"""The verdict table in SQLite (the local backend): one row per (item, worker).

``item`` is ``job<TAB>label<TAB>image`` (:func:`~gtflow.verdicts.item_key`). A table written
before the job was part of the key (``PRAGMA user_version`` 0 with rows) is migrated when it is
opened, in one transaction: each ``item`` gets its row's job in front.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gtflow.verdicts import Verdict, _OneByMany, aggregate, item_key, sort_key

__all__ = ["SqliteVerdictTable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
  item TEXT NOT NULL, worker TEXT NOT NULL, image TEXT NOT NULL, label TEXT NOT NULL,
  confirmed INTEGER NOT NULL, confidence REAL, batch_id TEXT, job TEXT,
  PRIMARY KEY (item, worker));
CREATE INDEX IF NOT EXISTS verdicts_by_label ON verdicts (label, image, worker);
"""
#: user_version of a table whose item key holds the job
SCHEMA_VERSION = 2


class SqliteVerdictTable(_OneByMany):
    """:class:`~gtflow.verdicts.VerdictTable` in a SQLite file (WAL; safe across threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)
        self.migrated = self._migrate()

    def __repr__(self) -> str:
        return f"SqliteVerdictTable({str(self.path)!r})"

    def _migrate(self) -> int:
        """Put the job into the item key of rows written before it was there; rows changed."""
        db = self._conn()
        if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return 0
        db.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:  # a twin may have done it
                changed = db.execute("UPDATE verdicts SET item = coalesce(job, '') || char(9) || item").rowcount
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return changed

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        db = self._conn()
        added = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for v in verdicts:
                cur = db.execute(
                    "INSERT OR IGNORE INTO verdicts VALUES (?,?,?,?,?,?,?,?)",
                    (item_key(v.image, v.label, v.job), v.worker_id, v.image, v.label, int(bool(v.confirmed)),
                     v.confidence, v.batch_id, v.job),
                )
                added += cur.rowcount
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return added

    def verdicts(self, *, label: str | None = None) -> Iterator[Verdict]:
        sql = "SELECT image, label, worker, confirmed, confidence, batch_id, job FROM verdicts"
        args: tuple[str, ...] = ()
        if label is not None:
            sql, args = sql + " WHERE label=?", (label,)
        rows = [Verdict(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])
                for r in self._conn().execute(sql, args).fetchall()]
        yield from sorted(rows, key=sort_key)

    def items(self, *, label: str | None = None) -> Iterator[dict[str, Any]]:
        return aggregate(self.verdicts(label=label))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
