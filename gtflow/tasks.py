"""The local task queue: where local labeling jobs and human loops meet their workers.

On AWS, Ground Truth and A2I hand tasks to workers in their own portal. Locally, owners put
tasks into a :class:`TaskQueue` (SQLite under ``<root>/.gtflow/tasks.db``) and the review
portal, a simulated reviewer or a test takes them out and answers them. :meth:`TaskQueue.submit`
is **the one submission path**: the portal's HTTP handler calls it, and so does everything else.

A queue belongs to an owner kind (``"labeling-job"``, ``"human-loop"``, ...). When a task has
all the answers it needs, the owner's completion hook runs (for example, the human-loop hook
writes A2I ``output.json``). A hook that fails leaves the task complete but undelivered;
:meth:`TaskQueue.deliver_pending` runs it again, so a crash converges instead of losing answers.

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> tq = TaskQueue.for_store(LocalStore(tempfile.mkdtemp()))
    >>> _ = tq.register_queue("q", owner="test", template="<crowd-form></crowd-form>", title="T")
    >>> tq.add_task("q", "t1", {"taskObject": "s3://b/k.jpg"})
    True
    >>> task = tq.next_task("q", "w1")
    >>> tq.submit("q", task.task_id, "w1", {"answer": {"label": "cat"}}).completed
    True
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import importlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtflow.errors import ConflictError, GtflowError, UsageError
from gtflow.logs import get_logger
from gtflow.sql import Connection, is_database_url


class TaskHeldError(ConflictError):
    """The task is held by other workers (all its places are taken) or this worker's hold on
    it has lapsed and others took it: it cannot be opened or answered by this worker now."""

__all__ = [
    "TaskQueue",
    "QueueInfo",
    "Task",
    "Answer",
    "SubmitResult",
    "QueueCounts",
    "CompletionHook",
    "register_completion_hook",
    "iso_ms",
    "select_next_task",
    "TaskHeldError",
    "TaskProblem",
]

log = get_logger(__name__)

#: Owner kinds whose hooks live in gtflow; imported only when a task of theirs completes.
_BUILTIN_HOOKS = {
    "human-loop": "gtflow.a2i.local:on_task_complete",
    "labeling-job": "gtflow.labeling.local:on_task_complete",
    "moderation": "gtflow.moderation.screening:on_task_complete",
}

CompletionHook = Callable[["TaskQueue", "QueueInfo", "Task", "list[Answer]"], None]
_hooks: dict[str, CompletionHook] = {}


def register_completion_hook(owner: str, hook: CompletionHook) -> None:
    """Run ``hook(queue, info, task, answers)`` when a task of an ``owner`` queue completes."""
    _hooks[owner] = hook


def _hook_for(owner: str) -> CompletionHook | None:
    if owner in _hooks:
        return _hooks[owner]
    target = _BUILTIN_HOOKS.get(owner)
    if target is None:
        return None
    module, _, name = target.partition(":")
    hook: CompletionHook = getattr(importlib.import_module(module), name)
    return hook


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def iso_ms(t: _dt.datetime) -> str:
    """``2021-05-06T21:27:21.938Z``, the timestamp form of A2I and GT worker responses."""
    t = t.astimezone(_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _parse_ts(s: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(s)


@dataclass(frozen=True)
class QueueInfo:
    name: str
    owner: str
    template: str = field(repr=False)
    title: str
    description: str
    workers_per_task: int
    time_limit_seconds: int
    meta: Mapping[str, Any]
    created_at: _dt.datetime


@dataclass(frozen=True)
class Task:
    queue: str
    task_id: str
    task_input: Mapping[str, Any] = field(repr=False)
    status: str  # pending | complete | cancelled
    created_at: _dt.datetime
    seq: int
    #: An unguessable handle for URLs (task ids such as a labeling job's ``0, 1, 2`` are not).
    ref: str = ""


@dataclass(frozen=True)
class Answer:
    """One worker's submission, with the times GT and A2I record."""

    queue: str
    task_id: str
    worker_id: str
    answer: Mapping[str, Any] = field(repr=False)
    accepted_at: _dt.datetime
    submitted_at: _dt.datetime

    @property
    def time_spent_seconds(self) -> float:
        return round((self.submitted_at - self.accepted_at).total_seconds(), 3)

    def to_a2i(self) -> dict[str, Any]:
        """The A2I ``humanAnswers[]`` entry (bare worker id, as A2I writes it)."""
        from gtflow.wire.worker import HumanAnswer

        return HumanAnswer(
            answer_content=dict(self.answer), submission_time=iso_ms(self.submitted_at), worker_id=self.worker_id,
            acceptance_time=iso_ms(self.accepted_at), time_spent_in_seconds=self.time_spent_seconds,
        ).to_dict()


@dataclass(frozen=True)
class SubmitResult:
    answer: Answer
    completed: bool  # this submission completed the task
    duplicate: bool  # the worker had already submitted this task; nothing changed


@dataclass(frozen=True)
class TaskProblem:
    """A task a worker could not do (its template failed to render): reported to the owner,
    and never offered to that worker again."""

    queue: str
    task_id: str
    worker_id: str
    problem: str
    reported_at: _dt.datetime


@dataclass(frozen=True)
class QueueCounts:
    total: int
    pending: int
    complete: int
    cancelled: int
    answers: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, template TEXT NOT NULL, title TEXT NOT NULL,
  description TEXT NOT NULL, workers_per_task INTEGER NOT NULL, time_limit_seconds INTEGER NOT NULL,
  meta TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, task_id TEXT NOT NULL,
  task_input TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', n_answers INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, completed_at TEXT, delivered_at TEXT, UNIQUE (queue, task_id));
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (queue, status, seq);
CREATE TABLE IF NOT EXISTS assignments (
  queue TEXT NOT NULL, task_id TEXT NOT NULL, worker_id TEXT NOT NULL, accepted_at TEXT NOT NULL,
  PRIMARY KEY (queue, task_id, worker_id));
CREATE INDEX IF NOT EXISTS assignments_by_worker ON assignments (worker_id, queue);
-- next_task's "tasks this worker holds" lookup: without it SQLite walks every pending task.
CREATE INDEX IF NOT EXISTS assignments_open ON assignments (queue, worker_id, accepted_at);
CREATE TABLE IF NOT EXISTS answers (
  queue TEXT NOT NULL, task_id TEXT NOT NULL, worker_id TEXT NOT NULL, answer TEXT NOT NULL,
  accepted_at TEXT NOT NULL, submitted_at TEXT NOT NULL, PRIMARY KEY (queue, task_id, worker_id));
CREATE TABLE IF NOT EXISTS workers (
  worker_id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
-- portal sign-ins: a cookie is only as good as its row (sign-out and a new token end it)
CREATE TABLE IF NOT EXISTS sessions (
  nonce TEXT PRIMARY KEY, worker_id TEXT NOT NULL, issued_at TEXT NOT NULL, ended_at TEXT);
-- private work teams: a queue assigned to teams is seen only by their members
CREATE TABLE IF NOT EXISTS teams (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_members (
  team TEXT NOT NULL, worker_id TEXT NOT NULL, PRIMARY KEY (team, worker_id));
CREATE TABLE IF NOT EXISTS queue_teams (
  queue TEXT NOT NULL, team TEXT NOT NULL, PRIMARY KEY (queue, team));
CREATE TABLE IF NOT EXISTS task_problems (
  queue TEXT NOT NULL, task_id TEXT NOT NULL, worker_id TEXT NOT NULL, problem TEXT NOT NULL,
  reported_at TEXT NOT NULL, PRIMARY KEY (queue, task_id, worker_id));
"""

#: Tasks a worker reported as broken are never offered to them again.
_NOT_REPORTED = (
    " AND NOT EXISTS (SELECT 1 FROM task_problems p WHERE p.queue=t.queue AND p.task_id=t.task_id "
    "AND p.worker_id=?)"
)


def _new_ref() -> str:
    return secrets.token_urlsafe(12)


def select_next_task(
    db: Connection,
    info: QueueInfo,
    worker_id: str,
    cutoff: str,
    *,
    exclude: Sequence[str] = (),
    columns: str = "t.*",
) -> tuple[Any, bool]:
    """``(row, held)``: the ``tasks`` row (``columns`` of it) ``worker_id`` should do next, or None.

    The one query behind :meth:`TaskQueue.next_task` and the portal's read-only prefetch hint:
    a pending task the worker already holds (accepted at or after ``cutoff``; ``held`` is
    True) comes first, then the oldest pending task they have not answered that still lacks
    workers, counting live assignments as taken. Records nothing.
    """
    excl = list(exclude)
    ex_sql = f" AND t.task_id NOT IN ({','.join('?' * len(excl))})" if excl else ""
    row = db.execute(
        f"SELECT {columns} FROM assignments a JOIN tasks t ON t.queue=a.queue AND t.task_id=a.task_id "
        "WHERE a.queue=? AND a.worker_id=? AND t.status='pending' AND a.accepted_at>=? "
        "AND NOT EXISTS (SELECT 1 FROM answers s WHERE s.queue=a.queue AND s.task_id=a.task_id "
        f"AND s.worker_id=a.worker_id){_NOT_REPORTED}{ex_sql} ORDER BY t.seq LIMIT 1",
        [info.name, worker_id, cutoff, worker_id, *excl],
    ).fetchone()
    if row is not None:
        return row, True
    row = db.execute(
        f"SELECT {columns} FROM tasks t WHERE t.queue=? AND t.status='pending' "
        "AND t.n_answers + (SELECT COUNT(*) FROM assignments a WHERE a.queue=t.queue "
        "AND a.task_id=t.task_id AND a.accepted_at>=? AND NOT EXISTS (SELECT 1 FROM answers s "
        "WHERE s.queue=a.queue AND s.task_id=a.task_id AND s.worker_id=a.worker_id)) < ? "
        "AND NOT EXISTS (SELECT 1 FROM answers s WHERE s.queue=t.queue AND s.task_id=t.task_id "
        f"AND s.worker_id=?){_NOT_REPORTED}{ex_sql} ORDER BY t.seq LIMIT 1",
        [info.name, cutoff, info.workers_per_task, worker_id, worker_id, *excl],
    ).fetchone()
    return row, False


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


class TaskQueue:
    """Queues of tasks in SQLite, safe to share between threads and processes; or, given a
    ``postgresql://`` URL instead of a path, in a PostgreSQL server shared by several
    processes and hosts (:mod:`gtflow.sql.postgres`: the same SQL, versioned schema; writes on
    a task lock its row, ``next_task`` takes candidates ``FOR UPDATE SKIP LOCKED``)."""

    def __init__(self, db_path: str | Path, *, store: Any = None, clock: Callable[[], _dt.datetime] = _utcnow) -> None:
        self.store = store  # handed to completion hooks (they write outputs through it)
        self.clock = clock
        self._local = threading.local()
        self.database: Any = None  # a PostgresDatabase when the queue lives on a server
        if is_database_url(db_path):
            from gtflow.sql import schema
            from gtflow.sql.postgres import open_postgres

            self.db_path: Path | None = None
            self.database = open_postgres(str(db_path))
            self.database.migrate("tasks", schema.TASKS)
            return
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._sqlite().executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a queue made by an older gtflow up to this schema (task refs)."""
        db = self._conn()
        cols = {r["name"] for r in db.execute("PRAGMA table_info(tasks)")}
        with self._tx() as tx:
            if "ref" not in cols:
                tx.execute("ALTER TABLE tasks ADD COLUMN ref TEXT")
            for row in tx.execute("SELECT seq FROM tasks WHERE ref IS NULL").fetchall():
                tx.execute("UPDATE tasks SET ref=? WHERE seq=?", (_new_ref(), row["seq"]))
            tx.execute("CREATE UNIQUE INDEX IF NOT EXISTS tasks_ref ON tasks (ref)")

    @classmethod
    def for_store(cls, store: Any, **kwargs: Any) -> TaskQueue:
        """The queue of a LocalStore: ``<root>/.gtflow/tasks.db``."""
        return cls(store.state_dir / "tasks.db", store=store, **kwargs)

    def __repr__(self) -> str:
        return f"TaskQueue({str(self.db_path)!r})" if self.database is None else "TaskQueue(postgresql)"

    # -- connection --------------------------------------------------------------------------
    def _conn(self) -> Connection:
        if self.database is not None:
            return self.database.connection()
        return self._sqlite()

    def _sqlite(self) -> sqlite3.Connection:
        assert self.db_path is not None
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _tx(self, task: tuple[str, str] | None = None, *, serial: bool = True) -> Iterator[Connection]:
        """A write transaction. SQLite: one writer at a time (``BEGIN IMMEDIATE``). PostgreSQL:
        with ``task`` (queue, task id), that task's row is locked first, so writers on other tasks
        go on in parallel; otherwise (``serial``) one advisory lock orders the writers."""
        if self.database is not None:
            with self.database.transaction(lock="gtflow-tasks" if serial and task is None else None) as pg:
                if task is not None:
                    pg.execute("SELECT 1 FROM tasks WHERE queue=? AND task_id=? FOR UPDATE", task)
                yield pg
            return
        db = self._sqlite()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        if self.database is not None:
            return  # the pool is the process's, shared with other queues on the same server
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- queues ------------------------------------------------------------------------------
    def register_queue(
        self,
        name: str,
        *,
        owner: str,
        template: str,
        title: str,
        description: str = "",
        workers_per_task: int = 1,
        time_limit_seconds: int = 3600,
        meta: Mapping[str, Any] | None = None,
    ) -> QueueInfo:
        """Create a queue, or return it unchanged if it exists with the same settings.

        A queue name reused for a different owner or template raises ConflictError.
        """
        if workers_per_task < 1:
            raise UsageError("workers_per_task must be at least 1", field="workers_per_task")
        if not name:
            raise UsageError("queue name must not be empty", field="name")
        meta_s = _dumps(dict(meta or {}))
        with self._tx() as db:
            row = db.execute("SELECT * FROM queues WHERE name=?", (name,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO queues VALUES (?,?,?,?,?,?,?,?,?)",
                    (name, owner, template, title, description, workers_per_task,
                     time_limit_seconds, meta_s, self.clock().isoformat()),
                )
            elif (row["owner"], row["template"], row["workers_per_task"]) != (owner, template, workers_per_task):
                raise ConflictError(
                    f"queue {name!r} already exists with a different owner, template or worker count"
                )
        return self.queue(name)

    def queue(self, name: str) -> QueueInfo:
        row = self._conn().execute("SELECT * FROM queues WHERE name=?", (name,)).fetchone()
        if row is None:
            raise UsageError(f"no such queue {name!r}")
        return self._queue_info(row)

    def queues(self, *, owner: str | None = None) -> list[QueueInfo]:
        sql = "SELECT * FROM queues"
        args: tuple[str, ...] = ()
        if owner is not None:
            sql, args = sql + " WHERE owner=?", (owner,)
        return [self._queue_info(r) for r in self._conn().execute(sql + " ORDER BY name", args)]

    @staticmethod
    def _queue_info(row: Any) -> QueueInfo:
        return QueueInfo(
            name=row["name"], owner=row["owner"], template=row["template"], title=row["title"],
            description=row["description"], workers_per_task=row["workers_per_task"],
            time_limit_seconds=row["time_limit_seconds"], meta=json.loads(row["meta"]),
            created_at=_parse_ts(row["created_at"]),
        )

    # -- tasks -------------------------------------------------------------------------------
    def add_task(self, queue: str, task_id: str, task_input: Mapping[str, Any]) -> bool:
        """Add a task; returns False when it was already there with the same input.

        The same ``task_id`` with a different input raises ConflictError (as A2I does for a
        human loop name reused with other input).
        """
        return self.add_tasks(queue, [(task_id, task_input)]) == 1

    def add_tasks(self, queue: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Add many tasks in one transaction; returns how many were new."""
        self.queue(queue)
        now = self.clock().isoformat()
        added = 0
        with self._tx() as db:
            for task_id, task_input in items:
                payload = _dumps(task_input)
                cur = db.execute(
                    "INSERT OR IGNORE INTO tasks (queue, task_id, task_input, created_at, ref) VALUES (?,?,?,?,?)",
                    (queue, task_id, payload, now, _new_ref()),
                )
                if cur.rowcount:
                    added += 1
                    continue
                old = db.execute(
                    "SELECT task_input FROM tasks WHERE queue=? AND task_id=?", (queue, task_id)
                ).fetchone()
                if json.loads(old["task_input"]) != json.loads(payload):
                    raise ConflictError(f"task {task_id!r} already exists in {queue!r} with different input")
        return added

    def task(self, queue: str, task_id: str) -> Task:
        row = self._conn().execute(
            "SELECT * FROM tasks WHERE queue=? AND task_id=?", (queue, task_id)
        ).fetchone()
        if row is None:
            raise UsageError(f"no task {task_id!r} in queue {queue!r}")
        return self._task(row)

    def task_by_ref(self, queue: str, ref: str) -> Task:
        """The task behind a portal URL's handle (UsageError when there is none)."""
        row = self._conn().execute("SELECT * FROM tasks WHERE queue=? AND ref=?", (queue, ref)).fetchone()
        if row is None:
            raise UsageError(f"no such task in queue {queue!r}")
        return self._task(row)

    def tasks(self, queue: str, *, status: str | None = None) -> Iterator[Task]:
        sql, args = "SELECT * FROM tasks WHERE queue=?", [queue]
        if status is not None:
            sql += " AND status=?"
            args.append(status)
        for row in self._conn().execute(sql + " ORDER BY seq", args).fetchall():
            yield self._task(row)

    @staticmethod
    def _task(row: Any) -> Task:
        return Task(
            queue=row["queue"], task_id=row["task_id"], task_input=json.loads(row["task_input"]),
            status=row["status"], created_at=_parse_ts(row["created_at"]), seq=row["seq"],
            ref=row["ref"] or "",
        )

    def next_task(self, queue: str, worker_id: str, *, exclude: Sequence[str] = ()) -> Task | None:
        """The task ``worker_id`` should do next, recording when they accepted it.

        A task the worker already holds comes first (a reload resumes it). Otherwise the oldest
        pending task the worker has not answered and that still lacks workers, counting live
        assignments (accepted within the queue's time limit) as taken.
        """
        info = self.queue(queue)
        now = self.clock()
        cutoff = (now - _dt.timedelta(seconds=info.time_limit_seconds)).isoformat()
        if self.database is not None:
            return self._next_task_locked(info, worker_id, now, cutoff, exclude)
        with self._tx() as db:
            row, held = select_next_task(db, info, worker_id, cutoff, exclude=exclude)
            if row is None:
                return None
            if not held:
                db.execute(
                    "INSERT INTO assignments VALUES (?,?,?,?) ON CONFLICT (queue, task_id, worker_id) "
                    "DO UPDATE SET accepted_at=excluded.accepted_at",
                    (queue, row["task_id"], worker_id, now.isoformat()),
                )
        return self._task(row)

    def _next_task_locked(self, info: QueueInfo, worker_id: str, now: _dt.datetime, cutoff: str,
                          exclude: Sequence[str]) -> Task | None:
        """:meth:`next_task` on PostgreSQL: the candidate's row is taken with ``FOR UPDATE SKIP
        LOCKED`` (a task another process is handing out right now is skipped, not waited for),
        then its free places are counted again under the lock before the hold is recorded."""
        excl = list(exclude)
        while True:
            with self._tx(serial=False) as db:
                row, held = select_next_task(db, info, worker_id, cutoff, exclude=excl)
                if row is None:
                    return None
                if held:
                    return self._task(row)
                got = db.execute(
                    "SELECT status FROM tasks WHERE queue=? AND task_id=? FOR UPDATE SKIP LOCKED",
                    (info.name, row["task_id"]),
                ).fetchone()
                if got is not None and got["status"] == "pending":
                    holds, free = self._may_hold(db, info, row["task_id"], worker_id, now)
                    if holds or free:
                        db.execute(
                            "INSERT INTO assignments VALUES (?,?,?,?) ON CONFLICT (queue, task_id, worker_id) "
                            "DO UPDATE SET accepted_at=excluded.accepted_at",
                            (info.name, row["task_id"], worker_id, now.isoformat()),
                        )
                        return self._task(row)
            excl.append(row["task_id"])  # taken meanwhile, or being handed out: the next one

    def accept(self, queue: str, task_id: str, worker_id: str) -> None:
        """Record that ``worker_id`` opened this task now (if they had not already)."""
        with self._tx((queue, task_id)) as db:
            db.execute(
                "INSERT OR IGNORE INTO assignments VALUES (?,?,?,?)",
                (queue, task_id, worker_id, self.clock().isoformat()),
            )

    def _cutoff(self, info: QueueInfo, now: _dt.datetime) -> str:
        return (now - _dt.timedelta(seconds=info.time_limit_seconds)).isoformat()

    def _may_hold(self, db: Connection, info: QueueInfo, task_id: str, worker_id: str,
                  now: _dt.datetime) -> tuple[bool, bool]:
        """``(holds, free)``: whether ``worker_id`` holds a live assignment on the task, and
        whether a place is free for them (answers plus others' live holds below the count)."""
        cutoff = self._cutoff(info, now)
        mine = db.execute(
            "SELECT accepted_at FROM assignments WHERE queue=? AND task_id=? AND worker_id=?",
            (info.name, task_id, worker_id),
        ).fetchone()
        if mine is not None and mine["accepted_at"] >= cutoff:
            return True, True
        taken = db.execute(
            "SELECT n_answers + (SELECT COUNT(*) FROM assignments a WHERE a.queue=t.queue AND "
            "a.task_id=t.task_id AND a.worker_id<>? AND a.accepted_at>=? AND NOT EXISTS (SELECT 1 "
            "FROM answers s WHERE s.queue=a.queue AND s.task_id=a.task_id AND s.worker_id=a.worker_id)) "
            "FROM tasks t WHERE t.queue=? AND t.task_id=?",
            (worker_id, cutoff, info.name, task_id),
        ).fetchone()[0]
        return False, taken < info.workers_per_task

    def _hold_problem(self, db: Connection, info: QueueInfo, task_id: str, worker_id: str,
                      now: _dt.datetime) -> str | None:
        holds, free = self._may_hold(db, info, task_id, worker_id, now)
        if holds:
            return None
        opened = db.execute(
            "SELECT 1 FROM assignments WHERE queue=? AND task_id=? AND worker_id=?",
            (info.name, task_id, worker_id),
        ).fetchone() is not None
        if not opened:
            return f"task {task_id!r} in {info.name!r} was not opened by {worker_id}"
        if not free:
            return f"the hold on task {task_id!r} lapsed and another worker holds it"
        return None

    def hold_problem(self, queue: str, task_id: str, worker_id: str) -> str | None:
        """Why ``worker_id`` may not answer this task now (None: they may), as
        ``submit(..., require_hold=True)`` would decide it."""
        return self._hold_problem(self._conn(), self.queue(queue), task_id, worker_id, self.clock())

    def claim(self, queue: str, task_id: str, worker_id: str) -> None:
        """Open a task for ``worker_id``: keep their live hold, or take a free place (recording
        acceptance now). Raises TaskHeldError when other workers hold every place.

        Unlike :meth:`accept`, a task held by someone else cannot be taken over by opening it.
        """
        info = self.queue(queue)
        now = self.clock()
        with self._tx((queue, task_id)) as db:
            holds, free = self._may_hold(db, info, task_id, worker_id, now)
            if holds:
                return
            if not free:
                raise TaskHeldError(f"task {task_id!r} in {queue!r} is held by another worker")
            db.execute(
                "INSERT INTO assignments VALUES (?,?,?,?) ON CONFLICT (queue, task_id, worker_id) "
                "DO UPDATE SET accepted_at=excluded.accepted_at",
                (queue, task_id, worker_id, now.isoformat()),
            )

    def report_problem(self, queue: str, task_id: str, worker_id: str, problem: str) -> None:
        """Record that ``worker_id`` could not do this task (e.g. its template failed to
        render): their hold is released and the task is never offered to them again."""
        with self._tx((queue, task_id)) as db:
            db.execute(
                "INSERT INTO task_problems VALUES (?,?,?,?,?) ON CONFLICT (queue, task_id, worker_id) "
                "DO UPDATE SET problem=excluded.problem, reported_at=excluded.reported_at",
                (queue, task_id, worker_id, problem[:2000], self.clock().isoformat()),
            )
            db.execute("DELETE FROM assignments WHERE queue=? AND task_id=? AND worker_id=?",
                       (queue, task_id, worker_id))
        log.warning("task reported broken queue=%r task=%r worker=%s", queue, task_id, worker_id)

    def problems(self, queue: str | None = None) -> list[TaskProblem]:
        """Tasks workers could not do, oldest report first (for the owner)."""
        sql, args = "SELECT * FROM task_problems", []
        if queue is not None:
            sql, args = sql + " WHERE queue=?", [queue]
        return [
            TaskProblem(r["queue"], r["task_id"], r["worker_id"], r["problem"], _parse_ts(r["reported_at"]))
            for r in self._conn().execute(sql + " ORDER BY reported_at, queue, task_id", args)
        ]

    def submit(
        self, queue: str, task_id: str, worker_id: str, answer: Mapping[str, Any], *,
        require_hold: bool = False,
    ) -> SubmitResult:
        """Record a worker's answer; the one submission path for every kind of worker.

        Submitting twice is harmless: the first answer stands and ``duplicate`` is True. When
        the answer completes the task, the owner's completion hook runs. ``require_hold``
        (the portal sets it) refuses an answer from a worker who did not open the task, or
        whose hold lapsed while others took every place (TaskHeldError).
        """
        if not isinstance(answer, Mapping):
            raise UsageError("an answer must be a JSON object", field="answer")
        info = self.queue(queue)
        now = self.clock()
        with self._tx((queue, task_id)) as db:
            trow = db.execute(
                "SELECT status, n_answers FROM tasks WHERE queue=? AND task_id=?", (queue, task_id)
            ).fetchone()
            if trow is None:
                raise UsageError(f"no task {task_id!r} in queue {queue!r}")
            old = db.execute(
                "SELECT * FROM answers WHERE queue=? AND task_id=? AND worker_id=?",
                (queue, task_id, worker_id),
            ).fetchone()
            if old is not None:
                return SubmitResult(self._answer(old), completed=False, duplicate=True)
            if trow["status"] != "pending":
                raise ConflictError(f"task {task_id!r} in {queue!r} is {trow['status']}, not open for answers")
            if require_hold:
                problem = self._hold_problem(db, info, task_id, worker_id, now)
                if problem:
                    raise TaskHeldError(problem)
            arow = db.execute(
                "SELECT accepted_at FROM assignments WHERE queue=? AND task_id=? AND worker_id=?",
                (queue, task_id, worker_id),
            ).fetchone()
            accepted = arow["accepted_at"] if arow else now.isoformat()
            db.execute(
                "INSERT INTO answers VALUES (?,?,?,?,?,?)",
                (queue, task_id, worker_id, _dumps(answer), accepted, now.isoformat()),
            )
            n = trow["n_answers"] + 1
            completed = n >= info.workers_per_task
            db.execute(
                "UPDATE tasks SET n_answers=?, status=?, completed_at=? WHERE queue=? AND task_id=?",
                (n, "complete" if completed else "pending", now.isoformat() if completed else None, queue, task_id),
            )
        result = SubmitResult(
            Answer(queue, task_id, worker_id, dict(answer), _parse_ts(accepted), now),
            completed=completed, duplicate=False,
        )
        log.info("answer recorded queue=%s task=%s worker=%s completed=%s", queue, task_id, worker_id, completed)
        if completed:
            self._deliver(info, task_id)
        return result

    def complete(self, queue: str, task_id: str) -> None:
        """Close a task with the answers it has (GT: task availability lifetime reached)."""
        info = self.queue(queue)
        with self._tx((queue, task_id)) as db:
            db.execute(
                "UPDATE tasks SET status='complete', completed_at=? WHERE queue=? AND task_id=? AND status='pending'",
                (self.clock().isoformat(), queue, task_id),
            )
        self._deliver(info, task_id)

    def cancel(self, queue: str, task_id: str) -> bool:
        """Withdraw a pending task (A2I StopHumanLoop). Returns False if it was not pending."""
        with self._tx((queue, task_id)) as db:
            cur = db.execute(
                "UPDATE tasks SET status='cancelled' WHERE queue=? AND task_id=? AND status='pending'",
                (queue, task_id),
            )
        return bool(cur.rowcount)

    def answers(self, queue: str, task_id: str) -> list[Answer]:
        rows = self._conn().execute(
            "SELECT * FROM answers WHERE queue=? AND task_id=? ORDER BY submitted_at, worker_id",
            (queue, task_id),
        ).fetchall()
        return [self._answer(r) for r in rows]

    @staticmethod
    def _answer(row: Any) -> Answer:
        return Answer(
            queue=row["queue"], task_id=row["task_id"], worker_id=row["worker_id"],
            answer=json.loads(row["answer"]), accepted_at=_parse_ts(row["accepted_at"]),
            submitted_at=_parse_ts(row["submitted_at"]),
        )

    def counts(self, queue: str, *, worker_id: str | None = None) -> QueueCounts:
        """Task counts by status; with ``worker_id``, ``answers`` counts that worker's answers."""
        db = self._conn()
        by = dict(db.execute(
            "SELECT status, COUNT(*) FROM tasks WHERE queue=? GROUP BY status", (queue,)
        ).fetchall())
        if worker_id is None:
            n = db.execute("SELECT COUNT(*) FROM answers WHERE queue=?", (queue,)).fetchone()[0]
        else:
            n = db.execute(
                "SELECT COUNT(*) FROM answers WHERE queue=? AND worker_id=?", (queue, worker_id)
            ).fetchone()[0]
        return QueueCounts(
            total=sum(by.values()), pending=by.get("pending", 0), complete=by.get("complete", 0),
            cancelled=by.get("cancelled", 0), answers=n,
        )

    # -- delivery ----------------------------------------------------------------------------
    def _deliver(self, info: QueueInfo, task_id: str) -> bool:
        hook = _hook_for(info.owner)
        if hook is not None:
            task = self.task(info.name, task_id)
            try:
                hook(self, info, task, self.answers(info.name, task_id))
            except GtflowError as exc:
                log.warning("completion hook failed queue=%s task=%s: %s", info.name, task_id, exc)
                return False
            except Exception:
                log.exception("completion hook failed queue=%s task=%s", info.name, task_id)
                return False
        with self._tx() as db:
            db.execute(
                "UPDATE tasks SET delivered_at=? WHERE queue=? AND task_id=?",
                (self.clock().isoformat(), info.name, task_id),
            )
        return True

    def deliver_pending(self, queue: str | None = None) -> int:
        """Run completion hooks again for complete tasks whose delivery failed; returns count."""
        sql, args = "SELECT queue, task_id FROM tasks WHERE status='complete' AND delivered_at IS NULL", []
        if queue is not None:
            sql += " AND queue=?"
            args.append(queue)
        done = 0
        for row in self._conn().execute(sql, args).fetchall():
            done += self._deliver(self.queue(row["queue"]), row["task_id"])
        return done

    # -- workers -----------------------------------------------------------------------------
    def add_worker(self, worker_id: str) -> str:
        """Create a worker (or give an existing one a new token); returns the sign-in token.

        Only a hash of the token is stored.
        """
        if not worker_id or not all(c.isalnum() or c in "-_." for c in worker_id):
            raise UsageError("worker ids use letters, digits, '-', '_' and '.'", field="worker_id")
        token = secrets.token_urlsafe(24)
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock().isoformat()
        with self._tx() as db:
            db.execute(
                "INSERT INTO workers VALUES (?,?,?) ON CONFLICT (worker_id) DO UPDATE SET token_sha256=excluded.token_sha256",
                (worker_id, digest, now),
            )
            # a new token ends every sign-in made with the old one
            db.execute("UPDATE sessions SET ended_at=? WHERE worker_id=? AND ended_at IS NULL", (now, worker_id))
        return token

    def authenticate(self, token: str) -> str | None:
        """The worker id a token belongs to, or None. Compared in constant time."""
        if not token:
            return None
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        row = self._conn().execute(
            "SELECT worker_id, token_sha256 FROM workers WHERE token_sha256=?", (digest,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row["token_sha256"], digest):
            return None
        return str(row["worker_id"])

    def workers(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT worker_id FROM workers ORDER BY worker_id")]

    # -- sessions (portal sign-ins) ----------------------------------------------------------
    def start_session(self, worker_id: str, nonce: str, *, keep_seconds: int = 2 * 86400) -> None:
        """Record a sign-in (``nonce`` is the session cookie's); forgets long-ended ones."""
        now = self.clock()
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO sessions VALUES (?,?,?,NULL)", (nonce, worker_id, now.isoformat()))
            db.execute("DELETE FROM sessions WHERE issued_at<?",
                       ((now - _dt.timedelta(seconds=keep_seconds)).isoformat(),))

    def session_active(self, worker_id: str, nonce: str) -> bool:
        """True while the sign-in ``nonce`` of ``worker_id`` has not been ended."""
        row = self._conn().execute(
            "SELECT 1 FROM sessions WHERE nonce=? AND worker_id=? AND ended_at IS NULL", (nonce, worker_id)
        ).fetchone()
        return row is not None

    def end_session(self, nonce: str) -> None:
        """Sign-out: the cookie carrying ``nonce`` stops working, on every portal process."""
        with self._tx() as db:
            db.execute("UPDATE sessions SET ended_at=? WHERE nonce=? AND ended_at IS NULL",
                       (self.clock().isoformat(), nonce))

    # -- work teams --------------------------------------------------------------------------
    def add_team(self, name: str) -> None:
        """Create a private work team (no-op if it exists)."""
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise UsageError("team names use letters, digits, '-', '_' and '.'", field="team")
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO teams VALUES (?,?)", (name, self.clock().isoformat()))

    def _need_team(self, db: Connection, name: str) -> None:
        if db.execute("SELECT 1 FROM teams WHERE name=?", (name,)).fetchone() is None:
            raise UsageError(f"no such team {name!r} (create it first)", field="team")

    def add_member(self, team: str, worker_id: str) -> None:
        """Put a worker in a team."""
        with self._tx() as db:
            self._need_team(db, team)
            if db.execute("SELECT 1 FROM workers WHERE worker_id=?", (worker_id,)).fetchone() is None:
                raise UsageError(f"no such worker {worker_id!r}", field="worker_id")
            db.execute("INSERT OR IGNORE INTO team_members VALUES (?,?)", (team, worker_id))

    def remove_member(self, team: str, worker_id: str) -> bool:
        with self._tx() as db:
            cur = db.execute("DELETE FROM team_members WHERE team=? AND worker_id=?", (team, worker_id))
        return bool(cur.rowcount)

    def assign_queue(self, queue: str, team: str) -> None:
        """Give a queue to a team: from then on only members of its teams see it."""
        self.queue(queue)
        with self._tx() as db:
            self._need_team(db, team)
            db.execute("INSERT OR IGNORE INTO queue_teams VALUES (?,?)", (queue, team))

    def unassign_queue(self, queue: str, team: str) -> bool:
        with self._tx() as db:
            cur = db.execute("DELETE FROM queue_teams WHERE queue=? AND team=?", (queue, team))
        return bool(cur.rowcount)

    def teams(self) -> dict[str, dict[str, list[str]]]:
        """``{team: {"members": [...], "queues": [...]}}``."""
        db = self._conn()
        out: dict[str, dict[str, list[str]]] = {
            r[0]: {"members": [], "queues": []} for r in db.execute("SELECT name FROM teams ORDER BY name")
        }
        for team, worker in db.execute("SELECT team, worker_id FROM team_members ORDER BY worker_id"):
            out[team]["members"].append(worker)
        for queue, team in db.execute("SELECT queue, team FROM queue_teams ORDER BY queue"):
            out[team]["queues"].append(queue)
        return out

    def can_work(self, queue: str, worker_id: str) -> bool:
        """True when ``worker_id`` may see ``queue``: it has no team, or they are in one of its teams."""
        db = self._conn()
        teams = [r[0] for r in db.execute("SELECT team FROM queue_teams WHERE queue=?", (queue,))]
        if not teams:
            return True
        row = db.execute(
            f"SELECT 1 FROM team_members WHERE worker_id=? AND team IN ({','.join('?' * len(teams))})",
            (worker_id, *teams),
        ).fetchone()
        return row is not None

    def queues_for(self, worker_id: str) -> list[QueueInfo]:
        """The queues ``worker_id`` sees (see :meth:`can_work`)."""
        return [q for q in self.queues() if self.can_work(q.name, worker_id)]
