"""The verdict table in PostgreSQL: the SQLite table's rows, shared by several processes and hosts.

Same key as :mod:`gtflow.verdicts.sqlite` (``item`` = ``job<TAB>label<TAB>image``, ``worker``);
a verdict is inserted with ``ON CONFLICT DO NOTHING``, so a re-delivered event from any process
changes nothing and the first verdict stands. The schema is versioned
(:data:`gtflow.sql.schema.VERDICTS`); the job was in the key from its first version, so there is
nothing to migrate from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gtflow.verdicts import Verdict, _OneByMany, aggregate, item_key, sort_key

__all__ = ["PostgresVerdictTable"]


class PostgresVerdictTable(_OneByMany):
    """:class:`~gtflow.verdicts.VerdictTable` on a PostgreSQL server (``postgresql://...``)."""

    def __init__(self, url: str) -> None:
        from gtflow.sql import schema
        from gtflow.sql.postgres import open_postgres

        self.database = open_postgres(url)
        self.migrated = 0  # nothing predates the job in the key here
        self.database.migrate("verdicts", schema.VERDICTS)

    def __repr__(self) -> str:
        return "PostgresVerdictTable(postgresql)"

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        added = 0
        with self.database.transaction() as db:
            for v in verdicts:
                cur = db.execute(
                    "INSERT OR IGNORE INTO verdicts VALUES (?,?,?,?,?,?,?,?)",
                    (item_key(v.image, v.label, v.job), v.worker_id, v.image, v.label, int(bool(v.confirmed)),
                     v.confidence, v.batch_id, v.job),
                )
                added += cur.rowcount
        return added

    def verdicts(self, *, label: str | None = None) -> Iterator[Verdict]:
        sql = "SELECT image, label, worker, confirmed, confidence, batch_id, job FROM verdicts"
        args: tuple[str, ...] = ()
        if label is not None:
            sql, args = sql + " WHERE label=?", (label,)
        rows = [Verdict(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])
                for r in self.database.connection().execute(sql, args).fetchall()]
        yield from sorted(rows, key=sort_key)

    def items(self, *, label: str | None = None) -> Iterator[dict[str, Any]]:
        return aggregate(self.verdicts(label=label))

    def close(self) -> None:
        """Nothing to do: the connection pool is the process's, shared with the task queue."""
