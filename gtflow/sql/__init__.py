"""The SQL databases behind the task queue and the verdict table.

The embedded default is a SQLite file beside the local store; a team that shares queues, holds
and verdicts between several processes or hosts points them at a PostgreSQL server instead
(``postgresql://user@host/db``; psycopg 3 with a connection pool, extra ``gtflow[postgres]``).
Both speak the SQL the queue and the table are written in: ``?`` placeholders and
``INSERT OR IGNORE`` are translated for PostgreSQL by :class:`~gtflow.sql.postgres.PostgresDatabase`.

    >>> is_database_url("postgresql://gtflow@db.internal/gtflow")
    True
    >>> is_database_url("/srv/gtflow/.gtflow/tasks.db")
    False
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

__all__ = ["Connection", "is_database_url", "DATABASE_SCHEMES"]

#: URL schemes of a database server (anything else is a SQLite file path).
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(target: str | Path) -> bool:
    """True when ``target`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(DATABASE_SCHEMES)


class Connection(Protocol):
    """What the queue and the table need of a connection: ``sqlite3.Connection`` has it, and
    so does :class:`~gtflow.sql.postgres.PostgresConnection`."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
