"""Which task a worker will most likely get next, without taking it.

:meth:`TaskQueue.next_task` records acceptance (the clock of ``timeSpentInSeconds``), so
the portal cannot call it just to prefetch. :func:`peek_next` asks the same question on a
read-only connection and records nothing. It is a hint for the browser cache only: if it
guesses wrong, the worker simply gets the task ``next_task`` picks.

It runs the same query as ``TaskQueue.next_task`` (:func:`gtflow.tasks.select_next_task`);
a schema the hint does not understand yields None rather than an error.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import threading
from collections.abc import Sequence

from gtflow.errors import StoreError
from gtflow.logs import get_logger
from gtflow.sql import Connection
from gtflow.tasks import TaskQueue, select_next_task

__all__ = ["peek_next"]

log = get_logger(__name__)
_local = threading.local()


def _ro(queue: TaskQueue) -> Connection:
    if queue.db_path is None:  # on a database server: reads there take no write lock
        return queue._conn()
    conns: dict[str, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    _local.conns = conns
    key = str(queue.db_path)
    conn = conns.get(key)
    if conn is None:
        conn = sqlite3.connect(f"file:{queue.db_path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        conns[key] = conn
    return conn


def peek_next(queue: TaskQueue, name: str, worker_id: str, *, exclude: Sequence[str] = ()) -> str | None:
    """The task id ``next_task(name, worker_id, exclude=exclude)`` would likely return."""
    try:
        info = queue.queue(name)
        cutoff = (queue.clock() - _dt.timedelta(seconds=info.time_limit_seconds)).isoformat()
        row, _held = select_next_task(_ro(queue), info, worker_id, cutoff, exclude=exclude, columns="t.task_id")
    except (sqlite3.Error, StoreError) as exc:
        log.debug("prefetch hint unavailable: %s", type(exc).__name__)
        return None
    return None if row is None else str(row[0])
