"""PostgreSQL through psycopg 3 and a connection pool: the shared engine for queues and verdicts.

One :class:`PostgresDatabase` per server URL and process holds a ``psycopg_pool.ConnectionPool``.
Statements outside a transaction run in autocommit on a pooled connection; :meth:`transaction`
keeps one connection for the block and, given a ``lock`` name, first takes a transaction-level
advisory lock of that name, so writers that must not interleave queue up across processes and
hosts as SQLite's ``BEGIN IMMEDIATE`` makes them queue up on one machine (the task queue locks
task rows instead where a task is concerned: see :class:`gtflow.tasks.TaskQueue`). Reads never
wait for it.

Schemas are versioned: :meth:`migrate` applies each numbered step of a component once, in
order, inside one transaction under the component's lock, recording it in
``gtflow_schema_migrations``; running it again (every process does, at start) changes nothing.

The SQL of the queue and the verdict table is SQLite's; :func:`translate` turns ``?`` into
``%s`` and ``INSERT OR IGNORE`` into ``INSERT ... ON CONFLICT DO NOTHING``:

    >>> translate("INSERT OR IGNORE INTO teams VALUES (?,?)")
    'INSERT INTO teams VALUES (%s,%s) ON CONFLICT DO NOTHING'

psycopg is LGPL-3.0: gtflow imports it only here, lazily, as an optional dependency
(``gtflow[postgres]``) and ships none of its code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from gtflow.errors import MissingExtraError, StoreError

__all__ = ["PostgresDatabase", "PostgresConnection", "Row", "translate", "open_postgres", "close_postgres"]

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+", re.IGNORECASE)


def translate(sql: str) -> str:
    """SQLite's dialect, as the queue and the table write it, in PostgreSQL's."""
    ignore = bool(_INSERT_OR_IGNORE.match(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE.sub("INSERT ", sql, count=1)
    sql = sql.replace("%", "%%").replace("?", "%s")
    return sql + " ON CONFLICT DO NOTHING" if ignore else sql


class Row(tuple):
    """A result row read by position or by column name, like ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"no column {key!r}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def lock_id(name: str) -> int:
    """The advisory-lock number of a lock name (64-bit signed, the same in every process).

        >>> lock_id("gtflow-tasks") == lock_id("gtflow-tasks") != lock_id("gtflow-verdicts")
        True
    """
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    return lambda values: Row(values, names)


class _Result:
    """A finished statement's rows (fetched at once) and rowcount: what a sqlite3 cursor offers."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


def _run(conn: Any, sql: str, parameters: Any) -> _Result:
    import psycopg

    try:
        cur = conn.execute(translate(sql), tuple(parameters or ()))
        rows = cur.fetchall() if cur.description is not None else []
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL: {type(exc).__name__}: {str(exc).strip()[:300]}") from exc
    return _Result(rows, cur.rowcount)


class PostgresConnection:
    """``execute`` on the calling thread's open transaction, else on a pooled connection in
    autocommit mode."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def execute(self, sql: str, parameters: Any = (), /) -> _Result:
        conn = getattr(self._db._local, "conn", None)
        if conn is not None:
            return _run(conn, sql, parameters)
        with self._db.pool.connection() as pooled:
            return _run(pooled, sql, parameters)


class PostgresDatabase:
    """A PostgreSQL server, shared by every queue and table of this process that names it."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int | None = None) -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtraError.for_module("psycopg", "postgres") from exc
        self.url = url
        self._local = threading.local()
        size = max_size or int(os.environ.get("GTFLOW_POSTGRES_POOL_SIZE", "10"))
        self.pool = ConnectionPool(
            url, min_size=min(min_size, size), max_size=size, open=True, timeout=60,
            kwargs={"autocommit": True, "row_factory": _row_factory}, name="gtflow",
        )

    def __repr__(self) -> str:
        # never the URL: it may carry a password
        return "PostgresDatabase(...)"

    def connection(self) -> PostgresConnection:
        return PostgresConnection(self)

    @contextlib.contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[PostgresConnection]:
        """One transaction on one connection for the block; nested blocks join the outer one."""
        if getattr(self._local, "conn", None) is not None:
            yield PostgresConnection(self)
            return
        with self.pool.connection() as conn:
            # BEGIN and the lock in one round trip (the lock id is a number derived here, not input)
            conn.execute("BEGIN" if lock is None else f"BEGIN; SELECT pg_advisory_xact_lock({lock_id(lock)})")
            self._local.conn = conn
            try:
                yield PostgresConnection(self)
            except BaseException:
                self._local.conn = None
                conn.execute("ROLLBACK")
                raise
            self._local.conn = None
            conn.execute("COMMIT")

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        """Apply the steps of ``component``'s schema not applied yet (step i is version i+1);
        returns how many ran. Safe to call from every process at once."""
        with self.transaction(lock=f"gtflow-migrate-{component}") as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS gtflow_schema_migrations (component TEXT NOT NULL, "
                "version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
                "PRIMARY KEY (component, version))"
            )
            row = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM gtflow_schema_migrations WHERE component=?",
                (component,),
            ).fetchone()
            have = int(row[0]) if row else 0
            for version, step in enumerate(steps, start=1):
                if version <= have:
                    continue
                for statement in (s.strip() for s in step.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute("INSERT INTO gtflow_schema_migrations (component, version) VALUES (?, ?)",
                           (component, version))
        return max(0, len(steps) - have)

    def close(self) -> None:
        self.pool.close()


_open: dict[tuple[int, str], PostgresDatabase] = {}
_open_lock = threading.Lock()


def open_postgres(url: str) -> PostgresDatabase:
    """The process's :class:`PostgresDatabase` for ``url`` (one pool per server and process)."""
    key = (os.getpid(), url)
    with _open_lock:
        db = _open.get(key)
        if db is None:
            db = _open[key] = PostgresDatabase(url)
        return db


def close_postgres(url: str) -> None:
    """Close this process's pool for ``url`` (tests, and processes that are shutting down)."""
    with _open_lock:
        db = _open.pop((os.getpid(), url), None)
    if db is not None:
        db.close()
